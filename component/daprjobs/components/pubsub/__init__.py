"""Pub/sub brokers: the ``PubSubComponent`` protocol and its Redis Streams implementation (``pubsub.redis``)."""
