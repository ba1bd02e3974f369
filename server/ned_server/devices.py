"""What this machine offers: devices, inference backends, renderers (for GetServerInfo)."""

from __future__ import annotations

import functools
import importlib.metadata
import os

from ned_server._gen.ned.v1 import ned_pb2

__all__ = ["describe_devices", "describe_backends", "available_renderers", "cuda_available"]


@functools.cache
def cuda_available() -> bool:
    """True when onnxruntime can run on CUDA here (the neural renderer's fast path)."""
    try:
        import onnxruntime
    except ImportError:
        return False
    return "CUDAExecutionProvider" in onnxruntime.get_available_providers() and _nvidia_device_present()


def _nvidia_device_present() -> bool:
    if not os.path.isdir("/dev"):
        return False
    return any(p.startswith("nvidia") and p[6:].isdigit() for p in os.listdir("/dev"))


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0


@functools.cache
def describe_devices() -> tuple[ned_pb2.Device, ...]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    devices = [ned_pb2.Device(name="cpu", description=f"{cores} cores", memory_bytes=_memory_bytes())]
    if cuda_available():
        devices.append(ned_pb2.Device(name="cuda:0", description="CUDA device (onnxruntime)"))
    return tuple(devices)


@functools.cache
def describe_backends() -> tuple[str, ...]:
    backends = []
    for dist, label in (("ai-edge-litert", "litert"), ("onnxruntime", "onnxruntime"),
                        ("onnxruntime-gpu", "onnxruntime-gpu"), ("torch", "torch")):
        try:
            backends.append(f"{label} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    try:
        import onnxruntime

        backends += [f"onnxruntime:{p}" for p in onnxruntime.get_available_providers()]
    except ImportError:
        pass
    return tuple(backends)


def available_renderers() -> tuple[int, ...]:
    """Renderers this server can run (neural needs a trained renderer per shot, checked per call)."""
    return (ned_pb2.RENDERER_WARP, ned_pb2.RENDERER_NEURAL, ned_pb2.RENDERER_PASSTHROUGH, ned_pb2.RENDERER_DEBUG)
