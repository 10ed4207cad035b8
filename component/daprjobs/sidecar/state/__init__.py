"""The State API building block: ``dapr.proto.runtime.v1.Dapr`` state RPCs and ``/v1.0/state`` over the stores of
``daprjobs.components.state``."""
