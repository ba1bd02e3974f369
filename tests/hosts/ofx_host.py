"""A ctypes OpenFX host for testing a filter plugin the way a real editing application drives it.

    with OfxHost(bundle) as host:
        inst = host.create_instance(params={"renderer": "passthrough", "server": address})
        result = inst.render(frame, time=0, layout=RowLayout.NEGATIVE, render_scale=1.0)
        assert result.ok and (result.output == frame).all()
        inst.press("analyze", source=lambda t: frames[int(t)], frame_range=(0, 59))
        inst.messages, inst.progress, inst.value("status")

It implements the suites a filter uses (property, parameter with real keyframe animation, image
effect with temporal clip access, memory, multithread, message V1/V2 with printf formatting,
progress V1/V2 with scripted cancel, timeline) and sends the actions in a real host's order:
Load, Describe, DescribeInContext(Filter), CreateInstance, GetClipPreferences,
GetRegionOfDefinition, GetRegionsOfInterest, Begin/Render/EndSequenceRender,
Begin/InstanceChanged/EndInstanceChanged, DestroyInstance, Unload. Every plugin call runs on the
calling thread. Linux x86-64 only.
"""

from __future__ import annotations

import ctypes as C
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.hosts.ofx_abi import (
    ACTION_CREATE_INSTANCE,
    ACTION_DESCRIBE,
    ACTION_DESCRIBE_IN_CONTEXT,
    ACTION_LOAD,
    ACTION_UNLOAD,
    CONTEXT_FILTER,
    MAIN_ENTRY,
    SET_HOST,
    OfxHostStruct,
    OfxPluginStruct,
    Status,
    status_name,
)
from tests.hosts.ofx_effect import Effect
from tests.hosts.ofx_instance import EffectInstance
from tests.hosts.ofx_props import Kind, PropertySet
from tests.hosts.ofx_runtime import OfxRuntime, runtime
from tests.hosts.ofx_services import Message

logger = logging.getLogger(__name__)

__all__ = ["OfxHost", "OfxError", "plugin_binary"]

OK_STATUSES = (Status.OK, Status.REPLY_DEFAULT)


class OfxError(RuntimeError):
    """A plugin action failed, or a host callback raised (a host bug)."""

    def __init__(self, message: str, status: int | None = None, messages: list[Message] | None = None):
        shown = "".join(f"\n  [{m.short_type}] {m.text}" for m in messages or [])
        super().__init__(message + shown)
        self.status = status
        self.messages = list(messages or [])


def plugin_binary(bundle: str | Path) -> Path:
    """`<Name>.ofx.bundle/Contents/Linux-x86-64/<Name>.ofx` for a bundle dir (or the binary itself)."""
    path = Path(bundle)
    if path.suffix == ".ofx" and path.is_file():
        return path
    if not path.name.endswith(".ofx.bundle"):
        raise ValueError(f"{path} is neither a .ofx.bundle directory nor a .ofx binary")
    binary = path / "Contents" / "Linux-x86-64" / (path.name.removesuffix(".bundle"))
    if not binary.is_file():
        raise FileNotFoundError(f"OFX bundle {path} has no binary at {binary}")
    return binary


def _host_properties(rt: OfxRuntime) -> PropertySet:
    """What the host says about itself: a background renderer with temporal clip access."""
    props = PropertySet(rt.registry, "host", read_only=True)
    for name, kind, value in (
        ("OfxPropType", Kind.STRING, "OfxTypeImageEffectHost"),
        ("OfxPropName", Kind.STRING, "org.ned.tests.CtypesHost"),
        ("OfxPropLabel", Kind.STRING, "Emotion Director ctypes test host"),
        ("OfxPropVersion", Kind.INT, [1, 0, 0]),
        ("OfxPropVersionLabel", Kind.STRING, "1.0"),
        ("OfxPropAPIVersion", Kind.INT, [1, 5]),
        ("OfxImageEffectHostPropIsBackground", Kind.INT, 1),
        ("OfxImageEffectPropSupportsOverlays", Kind.INT, 0),
        ("OfxImageEffectPropSupportsMultiResolution", Kind.INT, 1),
        ("OfxImageEffectPropSupportsTiles", Kind.INT, 1),
        ("OfxImageEffectPropTemporalClipAccess", Kind.INT, 1),
        ("OfxImageEffectPropSupportedComponents", Kind.STRING, ["OfxImageComponentRGBA"]),
        ("OfxImageEffectPropSupportedContexts", Kind.STRING, [CONTEXT_FILTER]),
        ("OfxImageEffectPropSupportedPixelDepths", Kind.STRING,
         ["OfxBitDepthByte", "OfxBitDepthShort", "OfxBitDepthFloat"]),
        ("OfxImageEffectPropMultipleClipDepths", Kind.INT, 0),
        ("OfxImageEffectPropSupportsMultipleClipPARs", Kind.INT, 0),
        ("OfxImageEffectPropSetableFrameRate", Kind.INT, 0),
        ("OfxImageEffectPropSetableFielding", Kind.INT, 0),
        ("OfxImageEffectInstancePropSequentialRender", Kind.INT, 0),
        ("OfxImageEffectPropRenderQualityDraft", Kind.INT, 0),
        ("OfxImageEffectHostPropNativeOrigin", Kind.STRING, "kOfxImageEffectHostPropNativeOriginBottomLeft"),
        ("OfxImageEffectPropOpenGLRenderSupported", Kind.STRING, "false"),
        ("OfxParamHostPropSupportsCustomInteract", Kind.INT, 0),
        ("OfxParamHostPropSupportsStringAnimation", Kind.INT, 0),
        ("OfxParamHostPropSupportsChoiceAnimation", Kind.INT, 0),
        ("OfxParamHostPropSupportsBooleanAnimation", Kind.INT, 0),
        ("OfxParamHostPropSupportsCustomAnimation", Kind.INT, 0),
        ("OfxParamHostPropSupportsParametricAnimation", Kind.INT, 0),
        ("OfxParamHostPropMaxParameters", Kind.INT, -1),
        ("OfxParamHostPropMaxPages", Kind.INT, 0),
        ("OfxParamHostPropPageRowColumnCount", Kind.INT, [0, 0]),
    ):
        props.declare(name, kind, value)
    return props


class OfxHost:
    """Loads one plugin from a bundle, describes it in the Filter context, makes instances."""

    def __init__(self, bundle: str | Path, plugin_id: str | None = None):
        self.binary = plugin_binary(bundle)
        self.runtime = runtime()
        self.props = _host_properties(self.runtime)
        self.struct = OfxHostStruct(self.props.handle, self.runtime.fetch_suite)
        self.runtime.host_structs.append(self.struct)
        self.actions: list[tuple[str, str, Status | int]] = []  # (action, target label, status)
        self.instances: list[EffectInstance] = []
        self._wanted_id = plugin_id
        self._lib: C.CDLL | None = None  # the plugin binary stays loaded for the process anyway
        self._main: Any = None
        self._loaded = False
        self.plugin_id = ""
        self.descriptor: Effect | None = None

    # ----------------------------------------------------------------------------- lifecycle
    def __enter__(self) -> OfxHost:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """dlopen the binary, pick the plugin, then Load, Describe and DescribeInContext(Filter)."""
        lib = C.CDLL(str(self.binary))
        lib.OfxGetNumberOfPlugins.restype = C.c_int
        lib.OfxGetPlugin.restype = C.POINTER(OfxPluginStruct)
        lib.OfxGetPlugin.argtypes = [C.c_int]
        plugins = [lib.OfxGetPlugin(i).contents for i in range(lib.OfxGetNumberOfPlugins())]
        ids = [p.pluginIdentifier.decode() for p in plugins]
        chosen = [p for p in plugins if self._wanted_id in (None, p.pluginIdentifier.decode())]
        if not chosen:
            raise OfxError(f"{self.binary} has plugins {ids}, not {self._wanted_id!r}")
        plugin = chosen[0]
        if plugin.pluginApi != b"OfxImageEffectPluginAPI":
            raise OfxError(f"{ids[0]} implements {plugin.pluginApi!r}, not OfxImageEffectPluginAPI")
        self.plugin_id = plugin.pluginIdentifier.decode()
        self._lib = lib
        SET_HOST(plugin.setHost)(C.pointer(self.struct))
        self._main = MAIN_ENTRY(plugin.mainEntry)
        self.call_checked(ACTION_LOAD, None)
        self._loaded = True
        self.descriptor = Effect(self.runtime.registry, f"{self.plugin_id} descriptor")
        self.descriptor.props.declare("OfxPropType", Kind.STRING, "OfxTypeImageEffect")
        self.descriptor.props.declare("OfxPluginPropFilePath", Kind.STRING, str(self.binary.parents[2]))
        self.call_checked(ACTION_DESCRIBE, self.descriptor)
        contexts = self.descriptor.props.values("OfxImageEffectPropSupportedContexts")
        if CONTEXT_FILTER not in contexts:
            raise OfxError(f"{self.plugin_id} does not support the Filter context (it lists {contexts})")
        args = PropertySet(self.runtime.registry, "describeInContext args", read_only=True)
        args.declare("OfxImageEffectPropContext", Kind.STRING, CONTEXT_FILTER)
        self.call_checked(ACTION_DESCRIBE_IN_CONTEXT, self.descriptor, args)

    def close(self) -> None:
        """Destroy live instances, then Unload."""
        for inst in list(self.instances):
            inst.destroy()
        if self._loaded:
            self._loaded = False
            self.call_checked(ACTION_UNLOAD, None)

    # ----------------------------------------------------------------------------- actions
    def call(self, action: str, target: Effect | None, in_args: PropertySet | None = None,
             out_args: PropertySet | None = None) -> Status | int:
        """Send one action on this thread; raise OfxError if a host callback raised meanwhile."""
        errors_before = len(self.runtime.callback_errors)
        status = self._main(action.encode(), target.handle if target else None,
                            in_args.handle if in_args else None, out_args.handle if out_args else None)
        label = target.label if target else "-"
        try:
            status = Status(status)
        except ValueError:
            pass
        self.actions.append((action, label, status))
        logger.debug("%s(%s) -> %s", action, label, status_name(status))
        new_errors = self.runtime.callback_errors[errors_before:]
        if new_errors:
            raise OfxError(f"host callback(s) raised during {action}: "
                           + "; ".join(f"{e.function}: {e.error}" for e in new_errors))
        return status

    def call_checked(self, action: str, target: Effect | None, in_args: PropertySet | None = None,
                     out_args: PropertySet | None = None) -> Status | int:
        status = self.call(action, target, in_args, out_args)
        if status not in OK_STATUSES:
            journal = self.runtime.journals(target.handle if target else 0)
            raise OfxError(f"{action} on {self.plugin_id} returned {status_name(status)}", status,
                           journal.messages)
        return status

    # ----------------------------------------------------------------------------- instances
    def create_instance(self, params: Mapping[str, Any] | None = None,
                        keys: Mapping[str, Mapping[float, Any]] | None = None,
                        frame_rate: float = 25.0, label: str | None = None) -> EffectInstance:
        """A new instance with `params` (constants; choice labels allowed) and `keys` (animations).

        Values are in place before CreateInstance, as when a host loads a saved project.
        """
        if self.descriptor is None:
            raise OfxError("the host is not open")
        inst = EffectInstance(self, label or f"{self.plugin_id} #{len(self.instances) + 1}", frame_rate)
        for name, value in (params or {}).items():
            inst.param(name).set_constant(value)
        for name, curve in (keys or {}).items():
            inst.param(name).set_keys(curve)
        self.call_checked(ACTION_CREATE_INSTANCE, inst.effect)
        inst.created = True
        self.instances.append(inst)
        return inst

    @property
    def messages(self) -> list[Message]:
        """Messages sent with no handle or on the descriptor (e.g. during Load/Describe)."""
        out = list(self.runtime.journals(0).messages)
        if self.descriptor is not None:
            out += self.runtime.journals(self.descriptor.handle).messages
        return out
