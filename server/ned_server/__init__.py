"""ned-server: the gRPC service, shot store and jobs around ned_models."""

__version__ = "0.1.0"
