"""gRPC adapters: the executor server (grpcio.aio, betterproto2 messages) and performer client."""
