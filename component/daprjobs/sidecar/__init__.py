"""The daprjobs sidecar: the Dapr runtime API (jobs, health, metadata, actor hooks) for one app."""
