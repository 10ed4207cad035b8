"""Dapr actors on daprjobs: reminders as scheduler jobs, in-memory timers, etcd state, etcd placement."""
