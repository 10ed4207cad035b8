"""Pure domain logic: time formats, cron, job specs, names, counters, partitions, clocks, backoff.

Nothing here does I/O; modules import only the standard library and protobuf messages.
"""
