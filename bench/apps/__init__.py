"""The apps the bench delivers to: real Dapr SDK apps, each run as its own process."""
