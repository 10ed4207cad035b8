"""The pub/sub building block: publish (gRPC, HTTP), subscriptions and delivery, delayed publish."""
