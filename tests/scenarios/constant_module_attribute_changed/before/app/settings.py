LIMIT = "cpu"
