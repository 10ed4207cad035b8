"""What the tests and the bench share: child processes, daprjobs deployments, in-process stacks, recording apps and
the one way to wait for a condition.

- ``waiting``: ``eventually`` (async) and ``wait_until`` (blocking).
- ``processes``: ``ChildProcess`` (log file, own process group, clean stop), ``ProcessSupervisor``, free ports,
  readiness probes.
- ``daprjobs_processes``: ``SchedulerProcess`` and ``SidecarProcess``, the real commands as children.
- ``deployment``: ``Deployment``, etcd + schedulers + sidecars + apps under one supervisor (the bench's stack).
- ``inprocess``: a scheduler replica and a sidecar inside the test's process.
- ``apps``: job apps that record what they receive; ``app_servers``: serving a test app (aiohttp in the loop,
  ``dapr.ext.grpc.App`` in a thread); ``metrics``: reading Prometheus metrics.
"""
