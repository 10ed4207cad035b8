"""Dapr actors on daprjobs: reminders as scheduler jobs, in-memory timers, etcd state, etcd placement.

The sidecar sees one object, ``block.ActorsBlock``. Below it, by layer:

- adapters: ``actor_grpc`` (the actor RPCs), ``actor_http`` (``/v1.0/actors/...`` and the forwarding routes);
  they call ``operations.ActorOperations`` and nothing else;
- operations: ``invocation``, ``reminder_ops``, ``reminder_delivery``, ``timer_ops``, ``state_access``;
- assembly and lifecycle: ``lifecycle.ActorRuntime``; registration of the app's types: ``hosted_types``,
  ``app_registration``; where an actor runs: ``routing`` over ``placement``;
- the actors this sidecar runs: ``host`` (turns: ``turns``, timers: ``timers``); calls into the app:
  ``actor_app_channel`` (HTTP), ``stream_host`` (gRPC stream); to other sidecars: ``forwarding``;
- state: ``state_store`` (the interface; ``components/state/actor_state`` implements it on any store), ``stateops``;
- wire formats and checks, no I/O: ``reminders``, ``appconfig``, ``methods``, ``actor_names``, ``rawjson``,
  ``actor_errors``.
"""
