"""Several embedded etcd members forming one cluster on loopback: for fault tests that kill one member.

Members start together (a new member is only healthy once a quorum has joined), each with its own data dir,
client and peer port. ``endpoints`` lists every member's client URL, as ``--etcd-client-endpoints`` takes them.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field

from daprjobs.etcd.embedded import EtcdProcess


@dataclass
class EtcdCluster:
    base_dir: pathlib.Path
    size: int = 3
    members: list[EtcdProcess] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.members = [EtcdProcess(data_dir=self.base_dir / f"m{i}", name=f"m{i}",
                                    log_path=self.base_dir / f"m{i}.log") for i in range(self.size)]
        for member in self.members:
            member.assign_ports()
        initial = ",".join(f"{m.name}={m.peer_url}" for m in self.members)
        for member in self.members:
            member.initial_cluster = initial

    @property
    def endpoints(self) -> list[str]:
        return [m.endpoint for m in self.members]

    def start(self, timeout: float = 60.0) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        for member in self.members:
            member.spawn()
        try:
            for member in self.members:
                member.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for member in self.members:
            member.stop()
