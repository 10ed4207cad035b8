"""Who may talk to daprjobs, and over what: TLS for the gRPC servers and clients, the sidecar-scheduler token.

- ``tls``: certificate files read once at start (clear errors naming the flag and file), turned into gRPC server
  and channel credentials; mutual TLS when a CA for the peer is given.
- ``token``: the shared sidecar-to-scheduler token (``DAPRJOBS_SCHEDULER_API_TOKEN``), sent as call metadata by the
  sidecar and checked by the scheduler in constant time.
- ``link``: how the sidecar dials a scheduler (plaintext, TLS, mTLS, with or without the token).
"""
