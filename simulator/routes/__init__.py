"""The HTTP routes, by API family: they parse and validate requests, read the generators and shape responses."""
