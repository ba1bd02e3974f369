"""Emotion Director's face and emotion models: plain Python/NumPy/PyTorch, no gRPC, no server."""
