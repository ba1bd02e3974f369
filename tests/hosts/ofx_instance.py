"""One effect instance of the ctypes OFX host: parameters, renders, button presses."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tests.hosts.ofx_abi import (
    ACTION_BEGIN_INSTANCE_CHANGED,
    ACTION_BEGIN_SEQUENCE_RENDER,
    ACTION_DESTROY_INSTANCE,
    ACTION_END_INSTANCE_CHANGED,
    ACTION_END_SEQUENCE_RENDER,
    ACTION_GET_CLIP_PREFERENCES,
    ACTION_GET_ROD,
    ACTION_GET_ROIS,
    ACTION_INSTANCE_CHANGED,
    ACTION_RENDER,
    CHANGE_USER_EDITED,
    CLIP_OUTPUT,
    CLIP_SOURCE,
    COMPONENTS_RGBA,
    CONTEXT_FILTER,
    FIELD_NONE,
    TYPE_PARAMETER,
    UNPREMULTIPLIED,
    Status,
)
from tests.hosts.ofx_effect import Effect
from tests.hosts.ofx_images import Depth, ImageSpec, PixelBuffer, RowLayout, check_picture
from tests.hosts.ofx_params import Param
from tests.hosts.ofx_props import Kind, PropertySet
from tests.hosts.ofx_services import Journal, Message, ProgressEvent

if TYPE_CHECKING:
    from tests.hosts.ofx_host import OfxHost

SourceFn = Callable[[float], np.ndarray]
SENTINEL_BYTE = 0xA5  # the Output image starts filled with this, so unwritten pixels show


@dataclass(frozen=True)
class RenderResult:
    """What one Render returned: the status, the Output picture (top-down) and new messages."""

    time: float
    status: Status | int
    output: np.ndarray
    messages: list[Message]

    @property
    def ok(self) -> bool:
        return self.status == Status.OK


@dataclass(frozen=True)
class ActionResult:
    status: Status | int
    messages: list[Message]

    @property
    def ok(self) -> bool:
        return self.status in (Status.OK, Status.REPLY_DEFAULT)


class EffectInstance:
    """An instance created by `OfxHost.create_instance`."""

    def __init__(self, host: OfxHost, label: str, frame_rate: float):
        self.host = host
        self.label = label
        self.frame_rate = frame_rate
        self.created = False
        registry = host.runtime.registry
        desc = host.descriptor
        self.effect = Effect(registry, label)
        self.effect.params = desc.params.copy_for_instance(label, lambda: self.effect.time)
        self.effect.clips = {name: clip.instance_copy() for name, clip in desc.clips.items()}
        for name, prop in desc.props.props.items():
            self.effect.props.declare(name, prop.kind, list(prop.values), variable=not prop.fixed_dimension)
        p = self.effect.props
        p.declare("OfxPropType", Kind.STRING, "OfxTypeImageEffectInstance")
        p.declare("OfxImageEffectPropContext", Kind.STRING, CONTEXT_FILTER)
        p.declare("OfxPropInstanceData", Kind.POINTER, 0)
        p.declare("OfxPropIsInteractive", Kind.INT, 0)
        p.declare("OfxImageEffectInstancePropSequentialRender", Kind.INT, 0)
        self.leaked_images: list[str] = []
        self._clip_state: tuple[Any, ...] | None = None
        for required in (CLIP_SOURCE, CLIP_OUTPUT):
            if required not in self.effect.clips:
                raise ValueError(f"{host.plugin_id} defined no {required!r} clip (it has {list(self.effect.clips)})")

    # ----------------------------------------------------------------------------- params
    def param(self, name: str) -> Param:
        return self.effect.params[name]

    def value(self, name: str, time: float | None = None) -> Any:
        """The param's value at `time` (default: the current time); choices as their index."""
        return self.param(name).python_value(self.effect.time if time is None else time)

    def set_param(self, name: str, value: Any = None, keys: Mapping[float, Any] | None = None) -> ActionResult:
        """A user edit: set a constant (or `keys`), then tell the plugin (Begin/InstanceChanged/End)."""
        param = self.param(name)
        if keys is not None:
            param.set_keys(keys)
        else:
            param.set_constant(value)
        return self._instance_changed(name, self.effect.time)

    # ----------------------------------------------------------------------------- journal
    @property
    def journal(self) -> Journal:
        return self.host.runtime.journals(self.effect.handle)

    @property
    def messages(self) -> list[Message]:
        return list(self.journal.messages)

    @property
    def progress(self) -> list[ProgressEvent]:
        return list(self.journal.progress)

    def cancel_progress_after(self, updates: int | None) -> None:
        """Make progressUpdate answer kOfxStatReplyNo (user cancel) after `updates` updates."""
        self.journal.cancel_after_updates = updates

    # ----------------------------------------------------------------------------- clips
    def _configure(self, spec: ImageSpec, size: tuple[int, int], frame_range: tuple[float, float]) -> None:
        """Clip and project properties for pictures of `size` (w, h) at `spec`'s render scale."""
        for clip in self.effect.clips.values():
            clip.configure(spec, size, frame_range, self.frame_rate)
        w, h = size
        project = [w * spec.pixel_aspect / spec.render_scale, h / spec.render_scale]
        p = self.effect.props
        p.declare("OfxImageEffectPropProjectSize", Kind.DOUBLE, project)
        p.declare("OfxImageEffectPropProjectExtent", Kind.DOUBLE, project)
        p.declare("OfxImageEffectPropProjectOffset", Kind.DOUBLE, [0.0, 0.0])
        p.declare("OfxImageEffectPropPixelAspectRatio", Kind.DOUBLE, spec.pixel_aspect)
        p.declare("OfxImageEffectPropFrameRate", Kind.DOUBLE, self.frame_rate)
        p.declare("OfxImageEffectInstancePropEffectDuration", Kind.DOUBLE, frame_range[1] - frame_range[0] + 1)
        self.effect.frame_range = frame_range
        state = (spec, size)
        if state != self._clip_state:
            self._clip_state = state
            self._clip_preferences(spec)

    def _clip_preferences(self, spec: ImageSpec) -> None:
        out = PropertySet(self.host.runtime.registry, "clip preferences")
        for clip in (CLIP_SOURCE, CLIP_OUTPUT):
            out.declare(f"OfxImageClipPropComponents_{clip}", Kind.STRING, COMPONENTS_RGBA)
            out.declare(f"OfxImageClipPropDepth_{clip}", Kind.STRING, spec.depth.ofx_name)
            out.declare(f"OfxImageClipPropPAR_{clip}", Kind.DOUBLE, spec.pixel_aspect)
        out.declare("OfxImageEffectPropFrameRate", Kind.DOUBLE, self.frame_rate)
        out.declare("OfxImageClipPropFieldOrder", Kind.STRING, "OfxImageFieldNone")
        out.declare("OfxImageEffectPropPreMultiplication", Kind.STRING, UNPREMULTIPLIED)
        out.declare("OfxImageClipPropContinuousSamples", Kind.INT, 0)
        out.declare("OfxImageEffectFrameVarying", Kind.INT, 0)
        self.host.call_checked(ACTION_GET_CLIP_PREFERENCES, self.effect, None, out)
        for clip in (CLIP_SOURCE, CLIP_OUTPUT):
            wanted = (out.get(f"OfxImageClipPropDepth_{clip}"), out.get(f"OfxImageClipPropComponents_{clip}"))
            if wanted != (spec.depth.ofx_name, COMPONENTS_RGBA):
                raise ValueError(f"{self.host.plugin_id} wants {wanted} on {clip}; this host offers only "
                                 f"{spec.depth.ofx_name} RGBA there and does not convert")

    def _source_buffer(self, source: SourceFn | None, spec: ImageSpec, time: float) -> PixelBuffer | None:
        if source is None:
            return None
        try:
            picture = source(time)
        except LookupError:  # the callback has no frame at this time
            return None
        return PixelBuffer.holding(picture, spec)

    def _release_leaks(self) -> None:
        for clip in self.effect.clips.values():
            for handle, image in list(clip.live.items()):
                self.leaked_images.append(image.label)
                clip.release(handle)

    # ----------------------------------------------------------------------------- render
    def render(self, frame: np.ndarray, time: float = 0.0, *, layout: RowLayout = RowLayout.NEGATIVE,
               render_scale: float = 1.0, pixel_aspect: float = 1.0, row_padding: int = 0,
               source: SourceFn | None = None, frame_range: tuple[float, float] | None = None,
               render_window: tuple[int, int, int, int] | None = None) -> RenderResult:
        """Render one frame in its own sequence (Begin/Render/EndSequenceRender).

        Args:
            frame: (H, W, 4) top-down picture, uint8/uint16/float32, as the host holds it at
                `render_scale` (so H, W are the full size times the scale).
            source: optional `time -> picture` for Source fetches at other times.
            render_window: (x1, y1, x2, y2) in OFX pixel coordinates; default the whole image.
        """
        return self.render_sequence([(time, frame)], layout=layout, render_scale=render_scale,
                                    pixel_aspect=pixel_aspect, row_padding=row_padding, source=source,
                                    frame_range=frame_range, render_window=render_window)[0]

    def render_sequence(self, frames: Iterable[tuple[float, np.ndarray]], *,
                        layout: RowLayout = RowLayout.NEGATIVE, render_scale: float = 1.0,
                        pixel_aspect: float = 1.0, row_padding: int = 0, source: SourceFn | None = None,
                        frame_range: tuple[float, float] | None = None,
                        render_window: tuple[int, int, int, int] | None = None) -> list[RenderResult]:
        """Render (time, frame) pairs inside one Begin/EndSequenceRender, in the given order."""
        frames = list(frames)
        if not frames:
            raise ValueError("render_sequence needs at least one frame")
        times = [t for t, _ in frames]
        span = frame_range or (min(times), max(times))
        first = frames[0][1]
        check_picture(first, Depth.of(first.dtype))
        spec = ImageSpec(Depth.of(first.dtype), layout, render_scale, pixel_aspect, row_padding)
        self._configure(spec, (first.shape[1], first.shape[0]), span)
        seq_args = self._args("sequence args", {
            "OfxImageEffectPropFrameRange": (Kind.DOUBLE, [min(times), max(times)]),
            "OfxImageEffectPropFrameStep": (Kind.DOUBLE, 1.0), "OfxPropIsInteractive": (Kind.INT, 0),
            "OfxImageEffectPropRenderScale": (Kind.DOUBLE, [render_scale, render_scale]),
            "OfxImageEffectPropSequentialRenderStatus": (Kind.INT, 0),
            "OfxImageEffectPropInteractiveRenderStatus": (Kind.INT, 0)})
        self.host.call_checked(ACTION_BEGIN_SEQUENCE_RENDER, self.effect, seq_args)
        try:
            return [self._render_one(t, picture, spec, source, render_window) for t, picture in frames]
        finally:
            self.host.call_checked(ACTION_END_SEQUENCE_RENDER, self.effect, seq_args)

    def _render_one(self, time: float, picture: np.ndarray, spec: ImageSpec, source: SourceFn | None,
                    window: tuple[int, int, int, int] | None) -> RenderResult:
        check_picture(picture, spec.depth)
        if (picture.shape[1], picture.shape[0]) != self._clip_state[1]:
            raise ValueError(f"frame at t={time} is {picture.shape[1]}x{picture.shape[0]}, the sequence is "
                             f"{self._clip_state[1][0]}x{self._clip_state[1][1]}")
        self.effect.time = time
        src = PixelBuffer.holding(picture, spec)
        out = PixelBuffer(picture.shape[0], picture.shape[1], spec)
        out.memory[...] = SENTINEL_BYTE
        clips = self.effect.clips
        clips[CLIP_SOURCE].provider = lambda t: src if t == time else self._source_buffer(source, spec, t)
        clips[CLIP_OUTPUT].provider = lambda t: out if t == time else None
        scale = [spec.render_scale, spec.render_scale]
        rod = clips[CLIP_SOURCE].rod()
        self._region_actions(time, scale, rod)
        journal_start = len(self.journal.messages)
        args = self._args("render args", {
            "OfxPropTime": (Kind.DOUBLE, time), "OfxImageEffectPropFieldToRender": (Kind.STRING, FIELD_NONE),
            "OfxImageEffectPropRenderWindow": (Kind.INT, list(window or (0, 0, out.width, out.height))),
            "OfxImageEffectPropRenderScale": (Kind.DOUBLE, scale),
            "OfxImageEffectPropSequentialRenderStatus": (Kind.INT, 0),
            "OfxImageEffectPropInteractiveRenderStatus": (Kind.INT, 0),
            "OfxImageEffectPropRenderQualityDraft": (Kind.INT, 0)})
        try:
            status = self.host.call(ACTION_RENDER, self.effect, args)
        finally:
            self._release_leaks()
            for clip in clips.values():
                clip.provider = lambda t: None
        return RenderResult(time, status, out.picture.copy(), self.journal.messages[journal_start:])

    def _region_actions(self, time: float, scale: list[float], rod: tuple[float, ...]) -> None:
        """GetRegionOfDefinition and GetRegionsOfInterest, as MLT sends them before each Render."""
        in_args = self._args("rod args", {"OfxPropTime": (Kind.DOUBLE, time),
                                          "OfxImageEffectPropRenderScale": (Kind.DOUBLE, scale)})
        out = PropertySet(self.host.runtime.registry, "rod out")
        out.declare("OfxImageEffectPropRegionOfDefinition", Kind.DOUBLE, list(rod))
        self.host.call_checked(ACTION_GET_ROD, self.effect, in_args, out)
        roi_in = self._args("roi args", {"OfxPropTime": (Kind.DOUBLE, time),
                                         "OfxImageEffectPropRenderScale": (Kind.DOUBLE, scale),
                                         "OfxImageEffectPropRegionOfInterest": (Kind.DOUBLE, list(rod))})
        roi_out = PropertySet(self.host.runtime.registry, "roi out")
        roi_out.declare(f"OfxImageClipPropRoI_{CLIP_SOURCE}", Kind.DOUBLE, list(rod))
        self.host.call_checked(ACTION_GET_ROIS, self.effect, roi_in, roi_out)

    def _args(self, label: str, values: Mapping[str, tuple[Kind, Any]]) -> PropertySet:
        args = PropertySet(self.host.runtime.registry, label, read_only=True)
        for name, (kind, value) in values.items():
            args.declare(name, kind, value)
        return args

    # ----------------------------------------------------------------------------- buttons
    def press(self, name: str, source: SourceFn | None = None, frame_range: tuple[float, float] | None = None,
              time: float | None = None, layout: RowLayout = RowLayout.NEGATIVE) -> ActionResult:
        """The user clicks push button `name`; Source is backed by `source` over `frame_range`."""
        if self.param(name).type != "OfxParamTypePushButton":
            raise ValueError(f"param {name!r} is a {self.param(name).type}, not a push button")
        when = float(time if time is not None else (frame_range or (0.0, 0.0))[0])
        if source is not None:
            span = frame_range or (when, when)
            probe = source(span[0])
            check_picture(probe, Depth.of(probe.dtype))
            spec = ImageSpec(Depth.of(probe.dtype), layout)
            self._configure(spec, (probe.shape[1], probe.shape[0]), (float(span[0]), float(span[1])))
            self.effect.clips[CLIP_SOURCE].provider = lambda t: self._source_buffer(source, spec, t)
        try:
            return self._instance_changed(name, when)
        finally:
            self.effect.clips[CLIP_SOURCE].provider = lambda t: None

    def _instance_changed(self, name: str, time: float) -> ActionResult:
        if not self.created:
            return ActionResult(Status.OK, [])
        self.effect.time = time
        start = len(self.journal.messages)
        reason = self._args("change reason", {"OfxPropChangeReason": (Kind.STRING, CHANGE_USER_EDITED)})
        args = self._args("instance changed args", {
            "OfxPropType": (Kind.STRING, TYPE_PARAMETER), "OfxPropName": (Kind.STRING, name),
            "OfxPropChangeReason": (Kind.STRING, CHANGE_USER_EDITED), "OfxPropTime": (Kind.DOUBLE, time),
            "OfxImageEffectPropRenderScale": (Kind.DOUBLE, [1.0, 1.0])})
        self.host.call_checked(ACTION_BEGIN_INSTANCE_CHANGED, self.effect, reason)
        try:
            status = self.host.call(ACTION_INSTANCE_CHANGED, self.effect, args)
        finally:
            self._release_leaks()
            self.host.call_checked(ACTION_END_INSTANCE_CHANGED, self.effect, reason)
        return ActionResult(status, self.journal.messages[start:])

    # ----------------------------------------------------------------------------- lifecycle
    def destroy(self) -> None:
        if self.created:
            self.created = False
            self.host.instances.remove(self)
            self.host.call_checked(ACTION_DESTROY_INSTANCE, self.effect)
