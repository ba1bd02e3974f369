"""Effects, clips and the OfxImageEffectSuiteV1 of the ctypes OFX host.

A clip fetches images through a callable the instance installs (`Clip.provider`), so a clip can be
backed by the frame being rendered or by a `time -> picture` callback over a whole shot; every
fetch is logged and every image must be released (`Clip.live` lists the ones that are not).
"""

from __future__ import annotations

import ctypes as C
from collections.abc import Callable
from typing import Any

from tests.hosts.ofx_abi import (
    COMPONENTS_RGBA,
    I32,
    SZ,
    UNPREMULTIPLIED,
    D,
    OfxRectD,
    P,
    S,
    Status,
    SuiteTable,
    decode,
    write_out,
)
from tests.hosts.ofx_images import HostImage, ImageSpec, PixelBuffer
from tests.hosts.ofx_params import ParamSet
from tests.hosts.ofx_props import HandleRegistry, Kind, PropertySet

Provider = Callable[[float], PixelBuffer | None]


class Clip:
    """A clip descriptor (plugin-defined) or a clip of an instance (host-configured)."""

    def __init__(self, registry: HandleRegistry, name: str, read_only: bool = False):
        self.registry = registry
        self.name = name
        self.props = PropertySet(registry, f"clip {name}", read_only=read_only)
        self.handle = registry.register(self)
        self.provider: Provider = lambda time: None
        self.spec = ImageSpec()
        self.size = (0, 0)  # (width, height) of its images at the current render scale
        self.live: dict[int, HostImage] = {}
        self.fetches: list[float] = []  # times of every clipGetImage on this clip, in order
        if not read_only:
            p = self.props
            p.declare("OfxPropType", Kind.STRING, "OfxTypeClip")
            p.declare("OfxPropName", Kind.STRING, name)
            p.declare("OfxPropLabel", Kind.STRING, name)
            p.declare("OfxImageEffectPropSupportedComponents", Kind.STRING, [], variable=True)
            for flag, value in (("OfxImageEffectPropTemporalClipAccess", 0), ("OfxImageClipPropOptional", 0),
                                ("OfxImageClipPropIsMask", 0), ("OfxImageEffectPropSupportsTiles", 1)):
                p.declare(flag, Kind.INT, value)

    def instance_copy(self) -> Clip:
        twin = Clip(self.registry, self.name, read_only=True)
        for name, prop in self.props.props.items():
            twin.props.declare(name, prop.kind, list(prop.values), variable=not prop.fixed_dimension)
        twin.configure(ImageSpec(), (0, 0), (0.0, 0.0), 25.0)
        return twin

    def configure(self, spec: ImageSpec, size: tuple[int, int], frame_range: tuple[float, float],
                  frame_rate: float) -> None:
        """What the clip holds now: pixel depth, size at render scale, frames and rate."""
        self.spec, self.size = spec, size
        p = self.props
        for name, kind, value in (
            ("OfxImageEffectPropPixelDepth", Kind.STRING, spec.depth.ofx_name),
            ("OfxImageClipPropUnmappedPixelDepth", Kind.STRING, spec.depth.ofx_name),
            ("OfxImageEffectPropComponents", Kind.STRING, COMPONENTS_RGBA),
            ("OfxImageClipPropUnmappedComponents", Kind.STRING, COMPONENTS_RGBA),
            ("OfxImageEffectPropPreMultiplication", Kind.STRING, UNPREMULTIPLIED),
            ("OfxImagePropPixelAspectRatio", Kind.DOUBLE, spec.pixel_aspect),
            ("OfxImageEffectPropFrameRate", Kind.DOUBLE, frame_rate),
            ("OfxImageEffectPropUnmappedFrameRate", Kind.DOUBLE, frame_rate),
            ("OfxImageEffectPropFrameRange", Kind.DOUBLE, list(frame_range)),
            ("OfxImageEffectPropUnmappedFrameRange", Kind.DOUBLE, list(frame_range)),
            ("OfxImageClipPropFieldOrder", Kind.STRING, "OfxImageFieldNone"),
            ("OfxImageClipPropConnected", Kind.INT, 1),
            ("OfxImageClipPropContinuousSamples", Kind.INT, 0),
        ):
            p.declare(name, kind, value)

    def fetch(self, time: float) -> HostImage | None:
        self.fetches.append(time)
        buffer = self.provider(time)
        if buffer is None:
            return None
        image = HostImage(self.registry, buffer, self.name, time, self.handle)
        self.live[image.handle] = image
        return image

    def release(self, handle: int) -> bool:
        image = self.live.pop(handle, None)
        if image is None:
            return False
        self.registry.forget(handle)
        return True

    def rod(self) -> tuple[float, float, float, float]:
        w, h = self.size
        s, par = self.spec.render_scale, self.spec.pixel_aspect
        return 0.0, 0.0, w * par / s, h / s


class Effect:
    """An effect descriptor or instance: property set, param set, clips, and the current time."""

    def __init__(self, registry: HandleRegistry, label: str):
        self.registry = registry
        self.label = label
        self.time = 0.0  # the time of the action being run; paramGetValue answers at this time
        self.props = PropertySet(registry, f"{label} effect")
        self.params = ParamSet(registry, label, lambda: self.time)
        self.clips: dict[str, Clip] = {}
        self.abort_requested = False
        self.frame_range = (0.0, 0.0)  # what the timeline suite reports as its bounds
        self.handle = registry.register(self)


class ImageMemory:
    def __init__(self, registry: HandleRegistry, size: int):
        self.buffer = (C.c_char * max(size, 1))()
        self.locks = 0
        self.handle = registry.register(self)


class ImageEffectSuite:
    """OfxImageEffectSuiteV1 (13 functions)."""

    def __init__(self, registry: HandleRegistry, on_exception: Any):
        self.registry = registry
        self.suite = SuiteTable("OfxImageEffectSuite", [
            (self.get_property_set, (P, P)), (self.get_param_set, (P, P)), (self.clip_define, (P, S, P)),
            (self.clip_get_handle, (P, S, P, P)), (self.clip_get_property_set, (P, P)),
            (self.clip_get_image, (P, D, P, P)), (self.clip_release_image, (P,)),
            (self.clip_get_region_of_definition, (P, D, P)), (self.abort, (P,), I32),
            (self.image_memory_alloc, (P, SZ, P)), (self.image_memory_free, (P,)),
            (self.image_memory_lock, (P, P)), (self.image_memory_unlock, (P,)),
        ], on_exception)

    def _effect(self, handle: int) -> Effect | None:
        return self.registry.lookup(handle, Effect)

    def get_property_set(self, handle: int, out: int) -> int:
        effect = self._effect(handle)
        if effect is None:
            return Status.ERR_BAD_HANDLE
        write_out(out, C.c_void_p, effect.props.handle)
        return Status.OK

    def get_param_set(self, handle: int, out: int) -> int:
        effect = self._effect(handle)
        if effect is None:
            return Status.ERR_BAD_HANDLE
        write_out(out, C.c_void_p, effect.params.handle)
        return Status.OK

    def clip_define(self, handle: int, name: bytes, props_out: int) -> int:
        effect = self._effect(handle)
        if effect is None:
            return Status.ERR_BAD_HANDLE
        clip = effect.clips.get(decode(name)) or Clip(self.registry, decode(name))
        effect.clips[clip.name] = clip
        if props_out:
            write_out(props_out, C.c_void_p, clip.props.handle)
        return Status.OK

    def clip_get_handle(self, handle: int, name: bytes, out: int, props_out: int) -> int:
        effect = self._effect(handle)
        if effect is None:
            return Status.ERR_BAD_HANDLE
        clip = effect.clips.get(decode(name))
        if clip is None:
            return Status.ERR_UNKNOWN
        write_out(out, C.c_void_p, clip.handle)
        if props_out:
            write_out(props_out, C.c_void_p, clip.props.handle)
        return Status.OK

    def clip_get_property_set(self, handle: int, out: int) -> int:
        clip = self.registry.lookup(handle, Clip)
        if clip is None:
            return Status.ERR_BAD_HANDLE
        write_out(out, C.c_void_p, clip.props.handle)
        return Status.OK

    def clip_get_image(self, handle: int, time: float, region: int, out: int) -> int:
        clip = self.registry.lookup(handle, Clip)
        if clip is None:
            return Status.ERR_BAD_HANDLE
        image = clip.fetch(time)  # the region is a hint; the whole image is always returned
        if image is None:
            return Status.FAILED
        write_out(out, C.c_void_p, image.handle)
        return Status.OK

    def clip_release_image(self, handle: int) -> int:
        image = self.registry.lookup(handle, HostImage)
        if image is None:
            return Status.ERR_BAD_HANDLE
        clip = self.registry.lookup(image.clip_handle, Clip)
        if clip is None or not clip.release(handle):
            return Status.ERR_BAD_HANDLE
        return Status.OK

    def clip_get_region_of_definition(self, handle: int, time: float, out: int) -> int:
        clip = self.registry.lookup(handle, Clip)
        if clip is None:
            return Status.ERR_BAD_HANDLE
        rect = C.cast(out, C.POINTER(OfxRectD)).contents
        rect.x1, rect.y1, rect.x2, rect.y2 = clip.rod()
        return Status.OK

    def abort(self, handle: int) -> int:
        effect = self._effect(handle)
        return int(bool(effect and effect.abort_requested))

    def image_memory_alloc(self, handle: int, size: int, out: int) -> int:
        if handle and self._effect(handle) is None:
            return Status.ERR_BAD_HANDLE
        write_out(out, C.c_void_p, ImageMemory(self.registry, size).handle)
        return Status.OK

    def image_memory_free(self, handle: int) -> int:
        if self.registry.lookup(handle, ImageMemory) is None:
            return Status.ERR_BAD_HANDLE
        self.registry.forget(handle)
        return Status.OK

    def image_memory_lock(self, handle: int, out: int) -> int:
        memory = self.registry.lookup(handle, ImageMemory)
        if memory is None:
            return Status.ERR_BAD_HANDLE
        memory.locks += 1
        write_out(out, C.c_void_p, C.addressof(memory.buffer))
        return Status.OK

    def image_memory_unlock(self, handle: int) -> int:
        memory = self.registry.lookup(handle, ImageMemory)
        if memory is None:
            return Status.ERR_BAD_HANDLE
        memory.locks = max(0, memory.locks - 1)
        return Status.OK
