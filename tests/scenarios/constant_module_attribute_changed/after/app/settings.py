LIMIT = "gpu"
