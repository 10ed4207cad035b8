"""Reusable components (state stores, pub/sub brokers) that sidecar building blocks load from resource YAML."""
