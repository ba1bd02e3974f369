"""OpenFX 1.4/1.5 ABI for a ctypes host on Linux x86-64 (SysV): status codes, strings, structs.

Written from the facts in docs/ofx_facts.md §5 (no OFX header is available to the project).
"""

from __future__ import annotations

import ctypes as C
from collections.abc import Callable, Sequence
from enum import IntEnum
from typing import Any


class Status(IntEnum):
    """OfxStatus values."""

    OK = 0
    FAILED = 1
    ERR_FATAL = 2
    ERR_UNKNOWN = 3
    ERR_MISSING_HOST_FEATURE = 4
    ERR_UNSUPPORTED = 5
    ERR_EXISTS = 6
    ERR_FORMAT = 7
    ERR_MEMORY = 8
    ERR_BAD_HANDLE = 9
    ERR_BAD_INDEX = 10
    ERR_VALUE = 11
    REPLY_YES = 12
    REPLY_NO = 13
    REPLY_DEFAULT = 14


def status_name(code: int) -> str:
    try:
        return f"kOfxStat{Status(code).name.title().replace('_', '')}"
    except ValueError:
        return f"OfxStatus({code})"


# Actions (the macro name without its leading `k`).
ACTION_LOAD = "OfxActionLoad"
ACTION_UNLOAD = "OfxActionUnload"
ACTION_DESCRIBE = "OfxActionDescribe"
ACTION_DESCRIBE_IN_CONTEXT = "OfxImageEffectActionDescribeInContext"
ACTION_CREATE_INSTANCE = "OfxActionCreateInstance"
ACTION_DESTROY_INSTANCE = "OfxActionDestroyInstance"
ACTION_GET_CLIP_PREFERENCES = "OfxImageEffectActionGetClipPreferences"
ACTION_GET_ROD = "OfxImageEffectActionGetRegionOfDefinition"
ACTION_GET_ROIS = "OfxImageEffectActionGetRegionsOfInterest"
ACTION_BEGIN_SEQUENCE_RENDER = "OfxImageEffectActionBeginSequenceRender"
ACTION_RENDER = "OfxImageEffectActionRender"
ACTION_END_SEQUENCE_RENDER = "OfxImageEffectActionEndSequenceRender"
ACTION_BEGIN_INSTANCE_CHANGED = "OfxActionBeginInstanceChanged"
ACTION_INSTANCE_CHANGED = "OfxActionInstanceChanged"
ACTION_END_INSTANCE_CHANGED = "OfxActionEndInstanceChanged"

CONTEXT_FILTER = "OfxImageEffectContextFilter"
CLIP_SOURCE = "Source"
CLIP_OUTPUT = "Output"
COMPONENTS_RGBA = "OfxImageComponentRGBA"
UNPREMULTIPLIED = "OfxImageAlphaUnPremultiplied"
FIELD_NONE = "OfxFieldNone"
CHANGE_USER_EDITED = "OfxChangeUserEdited"
CHANGE_PLUGIN_EDITED = "OfxChangePluginEdited"
TYPE_PARAMETER = "OfxTypeParameter"

MESSAGE_TYPES = ("OfxMessageFatal", "OfxMessageError", "OfxMessageWarning", "OfxMessageMessage",
                 "OfxMessageLog", "OfxMessageQuestion")


class OfxRectI(C.Structure):
    _fields_ = [("x1", C.c_int), ("y1", C.c_int), ("x2", C.c_int), ("y2", C.c_int)]


class OfxRectD(C.Structure):
    _fields_ = [("x1", C.c_double), ("y1", C.c_double), ("x2", C.c_double), ("y2", C.c_double)]


class OfxRangeD(C.Structure):
    _fields_ = [("min", C.c_double), ("max", C.c_double)]


FETCH_SUITE = C.CFUNCTYPE(C.c_void_p, C.c_void_p, C.c_char_p, C.c_int)


class OfxHostStruct(C.Structure):
    """`OfxHost`: the host property set and fetchSuite (16 bytes)."""

    _fields_ = [("host", C.c_void_p), ("fetchSuite", FETCH_SUITE)]


class OfxPluginStruct(C.Structure):
    """`OfxPlugin` as returned by OfxGetPlugin (48 bytes)."""

    _fields_ = [("pluginApi", C.c_char_p), ("apiVersion", C.c_int), ("pluginIdentifier", C.c_char_p),
                ("pluginVersionMajor", C.c_uint), ("pluginVersionMinor", C.c_uint),
                ("setHost", C.c_void_p), ("mainEntry", C.c_void_p)]


SET_HOST = C.CFUNCTYPE(None, C.POINTER(OfxHostStruct))
MAIN_ENTRY = C.CFUNCTYPE(C.c_int, C.c_char_p, C.c_void_p, C.c_void_p, C.c_void_p)
THREAD_FUNCTION = C.CFUNCTYPE(None, C.c_uint, C.c_uint, C.c_void_p)

# Short names for callback signatures.
P = C.c_void_p
S = C.c_char_p
I32 = C.c_int
I64 = C.c_int64
D = C.c_double
SZ = C.c_size_t
U32 = C.c_uint


class SuiteTable:
    """A C struct of function pointers built from Python callables, kept alive with the table.

    `entries` are (python function, ctypes argument types[, restype]) in header order. A callable that
    raises is a host bug: `on_exception` records it and the plugin gets kOfxStatErrFatal (0 for the
    few functions that return a plain int) instead of an exception unwinding through C.
    """

    def __init__(self, name: str, entries: Sequence[tuple[Any, ...]],
                 on_exception: Callable[[str, BaseException], None]):
        self.name = name
        self.callbacks = []
        for fn, argtypes, *rest in entries:
            restype = rest[0] if rest else C.c_int
            wrapped = _guarded(f"{name}.{fn.__name__}", fn, restype, on_exception)
            self.callbacks.append(C.CFUNCTYPE(restype, *argtypes)(wrapped))
        self.table = (C.c_void_p * len(self.callbacks))(*[C.cast(cb, C.c_void_p) for cb in self.callbacks])

    @property
    def address(self) -> int:
        return C.addressof(self.table)


def _guarded(name: str, fn: Callable[..., Any], restype: Any,
             on_exception: Callable[[str, BaseException], None]) -> Callable[..., Any]:
    failure = None if restype is None else (Status.ERR_FATAL if restype is C.c_int else 0)

    def call(*args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as exc:  # noqa: BLE001 - nothing may unwind into the plugin's C frames
            on_exception(name, exc)
            return failure

    call.__name__ = name
    return call


def write_out(pointer: int, ctype: type, value: Any) -> None:
    """Store `value` through an out-pointer argument (`int *`, `double *`, `void **` ...)."""
    C.cast(pointer, C.POINTER(ctype))[0] = value


def read_array(pointer: int, ctype: type, count: int) -> list[Any]:
    if count <= 0:
        return []
    return list(C.cast(pointer, C.POINTER(ctype * count)).contents)


def decode(raw: bytes | None) -> str:
    return (raw or b"").decode("utf-8", errors="replace")
