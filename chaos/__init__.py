"""``make chaos``: fault injection against a real daprjobs deployment (outside ``make test``).

Each scenario deploys etcd, three scheduler replicas (``--lease-ttl 3``), one sidecar and an HTTP job app, schedules
a steady stream of one-shot jobs, injects one fault in the middle (``chaos.faults``) and then counts, per job,
what the app received (``chaos.ledger``): lost, early, duplicated, and how late the jobs due after the fault were.
A scenario fails on any lost or early job; duplicates are reported (at-least-once allows them) with whether every
repeat carried its first delivery's ``daprjobs-trigger-id`` (so an app can drop it).
"""
