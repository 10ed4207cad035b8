"""Which building blocks a sidecar serves: one line per block, typed, nothing found by name."""

from __future__ import annotations

from daprjobs.actors.block import ActorsBlock
from daprjobs.sidecar.block import BuildingBlock, SidecarServices
from daprjobs.sidecar.invoke.block import InvokeBlock
from daprjobs.sidecar.jobs.block import JobsBlock
from daprjobs.sidecar.pubsub.block import PubSubBlock
from daprjobs.sidecar.state.block import StateBlock


def build_blocks(services: SidecarServices) -> list[BuildingBlock]:
    """Every block, in trigger-routing order (a trigger goes to the first block whose consumer accepts it)."""
    return [
        JobsBlock(services),
        ActorsBlock(services),
        InvokeBlock(services),
        PubSubBlock(services),
        StateBlock(services),
    ]


def jobs_only(services: SidecarServices) -> list[BuildingBlock]:
    """The Jobs API alone (tests that must not start actors, pub/sub or state)."""
    return [JobsBlock(services)]
