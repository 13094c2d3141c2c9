from .helper import Helper


class Model:
    __ccflow_tokenizer_deps__ = [Helper]

    def run(self, helper, x):
        return getattr(helper, "trans" + "form")(x)
