"""Adapters that connect the core's ports to Docker, gRPC, curves, config files and logs."""
