class Job:
    def __init__(self, n):
        self.n = n

    def run(self):
        return self.n * 2


class Report:
    def __init__(self, results):
        self.results = results

    def run(self):
        return sum(self.results)

    def __len__(self):
        return len(self.results)


class Batch:
    def __init__(self, size):
        self.size = size
        self.at = 0

    def __iter__(self):
        return self

    def __next__(self):
        if self.at >= self.size:
            raise StopIteration
        self.at += 1
        return Job(self.at)


def run_all(size):
    results = [job.run() for job in Batch(size)]
    return len(Report(results))
