"""Neural models: NED's networks and ours, official-checkpoint loaders, ONNX export and ONNX Runtime.

Submodules are imported explicitly (`from ned_models.neural.checkpoints import ...`) so that importing
this package costs nothing.
"""
