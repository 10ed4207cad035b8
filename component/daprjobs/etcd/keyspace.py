"""Where the scheduler keeps things in etcd (go-etcd-cron's layout).

    <prefix>/jobs/<composed name>        StoredJob
    <prefix>/counters/<composed name>    Counter
    <prefix>/leadership/<replica id>     Leadership, under the replica's lease

Dapr's prefix is ``dapr``; tests use their own so they can share one etcd.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Keyspace:
    prefix: str = "dapr"
    jobs_prefix: bytes = field(init=False)
    counters_prefix: bytes = field(init=False)
    leadership_prefix: bytes = field(init=False)

    def __post_init__(self) -> None:
        base = self.prefix.rstrip("/")
        object.__setattr__(self, "jobs_prefix", f"{base}/jobs/".encode())
        object.__setattr__(self, "counters_prefix", f"{base}/counters/".encode())
        object.__setattr__(self, "leadership_prefix", f"{base}/leadership/".encode())

    def job(self, name: str) -> bytes:
        return self.jobs_prefix + name.encode()

    def counter(self, name: str) -> bytes:
        return self.counters_prefix + name.encode()

    def leadership(self, replica_id: str) -> bytes:
        return self.leadership_prefix + replica_id.encode()

    def job_name(self, key: bytes) -> str:
        return key[len(self.jobs_prefix):].decode()

    def counter_name(self, key: bytes) -> str:
        return key[len(self.counters_prefix):].decode()

    def replica_id(self, key: bytes) -> str:
        return key[len(self.leadership_prefix):].decode()
