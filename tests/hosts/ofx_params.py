"""Parameters of the ctypes OFX host and the OfxParameterSuiteV1 over them.

Values are animated the way an editor's timeline animates them: a constant, or keyframes
{time: value} with linear interpolation for numbers (rounded for integers) and a step for booleans,
choices and strings; outside the keys the nearest key holds. `paramGetValue` answers at the
instance's current time (the time of the action being run), `paramGetValueAtTime` at any time.

The variadic functions are reached through libffi closures declared with fixed dummy arguments
(SysV x86-64, ofx_facts §6.2): out-pointers arrive in rsi..r8, times and doubles in xmm0..,
integers and `char*` values in rsi..r8.
"""

from __future__ import annotations

import ctypes as C
import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping
from typing import Any

from tests.hosts.ofx_abi import I32, I64, U32, D, OfxRangeD, P, S, Status, SuiteTable, decode, write_out
from tests.hosts.ofx_props import HandleRegistry, Kind, PropertySet

# param type -> (value kind, number of values); None for params that hold no value
VALUE_SHAPES: dict[str, tuple[Kind, int] | None] = {
    "OfxParamTypeInteger": (Kind.INT, 1), "OfxParamTypeDouble": (Kind.DOUBLE, 1),
    "OfxParamTypeBoolean": (Kind.INT, 1), "OfxParamTypeChoice": (Kind.INT, 1),
    "OfxParamTypeStrChoice": (Kind.STRING, 1), "OfxParamTypeRGBA": (Kind.DOUBLE, 4),
    "OfxParamTypeRGB": (Kind.DOUBLE, 3), "OfxParamTypeDouble2D": (Kind.DOUBLE, 2),
    "OfxParamTypeInteger2D": (Kind.INT, 2), "OfxParamTypeDouble3D": (Kind.DOUBLE, 3),
    "OfxParamTypeInteger3D": (Kind.INT, 3), "OfxParamTypeString": (Kind.STRING, 1),
    "OfxParamTypeCustom": (Kind.STRING, 1), "OfxParamTypePushButton": None, "OfxParamTypeGroup": None,
    "OfxParamTypePage": None, "OfxParamTypeBytes": None,
}
_STEPPED = ("OfxParamTypeBoolean", "OfxParamTypeChoice", "OfxParamTypeStrChoice", "OfxParamTypeString",
            "OfxParamTypeCustom")
_KEEP_STRINGS = 64  # char* handed out per string param that stay valid (OFX: until the value changes)

Value = tuple[Any, ...]


class Param:
    """One parameter (descriptor or instance): its properties, constant value or keyframes."""

    def __init__(self, registry: HandleRegistry, owner: ParamSet, param_type: str, name: str):
        self.owner = owner
        self.type = param_type
        self.name = name
        self.shape = VALUE_SHAPES[param_type]
        self.props = PropertySet(registry, f"param {name}")
        self.handle = registry.register(self)
        self.constant: Value = ()
        self.keys: dict[float, Value] = {}
        self.plugin_writes: list[tuple[float | None, Any]] = []  # (time or None, value) set by the plugin
        self._strings: dict[bytes, C.Array] = {}
        self._declare_props()

    def _declare_props(self) -> None:
        p = self.props
        p.declare("OfxPropType", Kind.STRING, "OfxTypeParameter")
        p.declare("OfxPropName", Kind.STRING, self.name)
        p.declare("OfxParamPropType", Kind.STRING, self.type)
        for name in ("OfxPropLabel", "OfxParamPropHint", "OfxParamPropScriptName", "OfxParamPropParent"):
            p.declare(name, Kind.STRING, self.name if name == "OfxPropLabel" else "")
        for name, value in (("OfxParamPropEnabled", 1), ("OfxParamPropSecret", 0), ("OfxParamPropCanUndo", 1),
                            ("OfxParamPropEvaluateOnChange", 1), ("OfxParamPropPersistant", 1)):
            p.declare(name, Kind.INT, value)
        p.declare("OfxParamPropDataPtr", Kind.POINTER, 0)
        if self.shape is None:
            return
        kind, count = self.shape
        p.declare("OfxParamPropDefault", kind, [0.0 if kind is Kind.DOUBLE else 0 if kind is Kind.INT else ""]
                  * count)
        p.declare("OfxParamPropAnimates", Kind.INT, 0 if self.type in _STEPPED else 1)
        p.declare("OfxParamPropIsAnimating", Kind.INT, 0)
        if self.type in ("OfxParamTypeChoice", "OfxParamTypeStrChoice"):
            p.declare("OfxParamPropChoiceOption", Kind.STRING, [], variable=True)
        if self.type == "OfxParamTypeString":
            p.declare("OfxParamPropStringMode", Kind.STRING, "OfxParamStringIsSingleLine")

    def copy_to(self, registry: HandleRegistry, owner: ParamSet) -> Param:
        """The instance's copy of a descriptor param, holding the default value."""
        twin = Param(registry, owner, self.type, self.name)
        for name, prop in self.props.props.items():
            twin.props.declare(name, prop.kind, list(prop.values), variable=not prop.fixed_dimension)
        if self.shape is not None:
            twin.constant = tuple(twin.props.values("OfxParamPropDefault"))
        return twin

    # ----------------------------------------------------------------------------- values
    @property
    def options(self) -> list[str]:
        return [str(v) for v in self.props.values("OfxParamPropChoiceOption")]

    def normalise(self, value: Any) -> Value:
        """A Python value (scalar, sequence, or a choice label) as this param's value tuple."""
        if self.shape is None:
            raise ValueError(f"param {self.name!r} ({self.type}) holds no value")
        kind, count = self.shape
        if self.type == "OfxParamTypeChoice" and isinstance(value, str):
            if value not in self.options:
                raise ValueError(f"param {self.name!r}: {value!r} is not one of {self.options}")
            value = self.options.index(value)
        vals = tuple(value) if isinstance(value, list | tuple) else (value,)
        if len(vals) != count:
            raise ValueError(f"param {self.name!r} ({self.type}) takes {count} values, got {vals!r}")
        convert = {Kind.INT: int, Kind.DOUBLE: float, Kind.STRING: str}[kind]
        return tuple(convert(v) for v in vals)

    def set_constant(self, value: Any) -> None:
        self.keys.clear()
        self.constant = self.normalise(value)
        self.props.put("OfxParamPropIsAnimating", 0)

    def set_keys(self, keys: Mapping[float, Any]) -> None:
        if not keys:
            raise ValueError(f"param {self.name!r}: an animation needs at least one key")
        self.keys = {float(t): self.normalise(v) for t, v in sorted(keys.items())}
        self.props.put("OfxParamPropIsAnimating", 1)

    def value_at(self, time: float) -> Value:
        if not self.keys:
            return self.constant
        times = list(self.keys)
        if time <= times[0]:
            return self.keys[times[0]]
        if time >= times[-1]:
            return self.keys[times[-1]]
        hi = bisect_right(times, time)
        t0, t1 = times[hi - 1], times[hi]
        v0, v1 = self.keys[t0], self.keys[t1]
        if self.type in _STEPPED:
            return v0
        f = (time - t0) / (t1 - t0)
        mixed = tuple(a + (b - a) * f for a, b in zip(v0, v1, strict=True))
        return tuple(int(math.floor(v + 0.5)) for v in mixed) if self.shape[0] is Kind.INT else mixed

    def python_value(self, time: float) -> Any:
        vals = self.value_at(time)
        return vals[0] if len(vals) == 1 else vals

    def string_address(self, text: str) -> int:
        encoded = text.encode()
        buf = self._strings.pop(encoded, None) or C.create_string_buffer(encoded)
        self._strings[encoded] = buf  # most recent last
        while len(self._strings) > _KEEP_STRINGS:
            self._strings.pop(next(iter(self._strings)))
        return C.addressof(buf)


class ParamSet:
    """An effect's parameters (`OfxParamSetHandle`) plus the param set's own property set."""

    def __init__(self, registry: HandleRegistry, label: str, time_source: Callable[[], float]):
        self.registry = registry
        self.label = label
        self.time_source = time_source
        self.params: dict[str, Param] = {}
        self.props = PropertySet(registry, f"{label} param set")
        self.handle = registry.register(self)
        self.on_plugin_write: Callable[[Param], None] = lambda param: None

    def copy_for_instance(self, label: str, time_source: Callable[[], float]) -> ParamSet:
        twin = ParamSet(self.registry, label, time_source)
        twin.params = {name: p.copy_to(self.registry, twin) for name, p in self.params.items()}
        return twin

    def __getitem__(self, name: str) -> Param:
        try:
            return self.params[name]
        except KeyError:
            raise KeyError(f"no param {name!r}; the plugin defined {sorted(self.params)}") from None


class ParameterSuite:
    """OfxParameterSuiteV1 (18 functions)."""

    def __init__(self, registry: HandleRegistry, on_exception: Any):
        self.registry = registry
        self.suite = SuiteTable("OfxParameterSuite", [
            (self.param_define, (P, S, S, P)), (self.param_get_handle, (P, S, P, P)),
            (self.param_set_get_property_set, (P, P)), (self.param_get_property_set, (P, P)),
            (self.param_get_value, (P, P, P, P, P)), (self.param_get_value_at_time, (P, D, P, P, P, P)),
            (self.param_get_derivative, (P, D, P, P, P, P)), (self.param_get_integral, (P, D, D, P, P, P, P)),
            (self.param_set_value, (P, D, D, D, D, I64, I64, I64, I64)),
            (self.param_set_value_at_time, (P, D, D, D, D, D, I64, I64, I64, I64)),
            (self.param_get_num_keys, (P, P)), (self.param_get_key_time, (P, U32, P)),
            (self.param_get_key_index, (P, D, I32, P)), (self.param_delete_key, (P, D)),
            (self.param_delete_all_keys, (P,)), (self.param_copy, (P, P, D, P)),
            (self.param_edit_begin, (P, S)), (self.param_edit_end, (P,)),
        ], on_exception)

    def _param(self, handle: int) -> Param | None:
        return self.registry.lookup(handle, Param)

    def param_define(self, pset_handle: int, param_type: bytes, name: bytes, props_out: int) -> int:
        pset = self.registry.lookup(pset_handle, ParamSet)
        if pset is None:
            return Status.ERR_BAD_HANDLE
        type_name, param_name = decode(param_type), decode(name)
        if type_name not in VALUE_SHAPES:
            return Status.ERR_UNKNOWN
        if param_name in pset.params:
            return Status.ERR_EXISTS
        param = pset.params[param_name] = Param(self.registry, pset, type_name, param_name)
        if props_out:
            write_out(props_out, C.c_void_p, param.props.handle)
        return Status.OK

    def param_get_handle(self, pset_handle: int, name: bytes, out: int, props_out: int) -> int:
        pset = self.registry.lookup(pset_handle, ParamSet)
        if pset is None:
            return Status.ERR_BAD_HANDLE
        param = pset.params.get(decode(name))
        if param is None:
            return Status.ERR_UNKNOWN
        write_out(out, C.c_void_p, param.handle)
        if props_out:
            write_out(props_out, C.c_void_p, param.props.handle)
        return Status.OK

    def param_set_get_property_set(self, pset_handle: int, out: int) -> int:
        pset = self.registry.lookup(pset_handle, ParamSet)
        if pset is None:
            return Status.ERR_BAD_HANDLE
        write_out(out, C.c_void_p, pset.props.handle)
        return Status.OK

    def param_get_property_set(self, handle: int, out: int) -> int:
        param = self._param(handle)
        if param is None:
            return Status.ERR_BAD_HANDLE
        write_out(out, C.c_void_p, param.props.handle)
        return Status.OK

    def _write_value(self, param: Param | None, values: Value | None, outs: tuple[int, ...]) -> int:
        if param is None:
            return Status.ERR_BAD_HANDLE
        if param.shape is None or values is None:
            return Status.ERR_UNSUPPORTED
        kind, count = param.shape
        if not all(outs[:count]):
            return Status.ERR_VALUE
        for out, value in zip(outs[:count], values, strict=True):
            if kind is Kind.STRING:
                write_out(out, C.c_void_p, param.string_address(value))
            else:
                write_out(out, C.c_double if kind is Kind.DOUBLE else C.c_int, value)
        return Status.OK

    def param_get_value(self, handle: int, a: int, b: int, c: int, d: int) -> int:
        param = self._param(handle)
        values = param.value_at(param.owner.time_source()) if param and param.shape else None
        return self._write_value(param, values, (a, b, c, d))

    def param_get_value_at_time(self, handle: int, time: float, a: int, b: int, c: int, d: int) -> int:
        param = self._param(handle)
        values = param.value_at(time) if param and param.shape else None
        return self._write_value(param, values, (a, b, c, d))

    def param_get_derivative(self, handle: int, time: float, a: int, b: int, c: int, d: int) -> int:
        param = self._param(handle)
        if param is None or param.shape is None or param.shape[0] is not Kind.DOUBLE:
            return Status.ERR_BAD_HANDLE if param is None else Status.ERR_UNSUPPORTED
        h = 1e-3  # piecewise linear: a central difference is exact away from keys
        before, after = param.value_at(time - h), param.value_at(time + h)
        return self._write_value(param, tuple((y - x) / (2 * h) for x, y in zip(before, after, strict=True)),
                                 (a, b, c, d))

    def param_get_integral(self, handle: int, t1: float, t2: float, a: int, b: int, c: int, d: int) -> int:
        param = self._param(handle)
        if param is None or param.shape is None or param.shape[0] is not Kind.DOUBLE:
            return Status.ERR_BAD_HANDLE if param is None else Status.ERR_UNSUPPORTED
        # exact for a piecewise-linear curve: trapezoids between t1, the keys inside, and t2
        points = sorted({t1, t2, *(t for t in param.keys if t1 < t < t2)})
        total = [0.0] * param.shape[1]
        for lo, hi in zip(points, points[1:], strict=False):
            for i, (x, y) in enumerate(zip(param.value_at(lo), param.value_at(hi), strict=True)):
                total[i] += (x + y) * (hi - lo) / 2
        return self._write_value(param, tuple(total), (a, b, c, d))

    def _decode_set(self, param: Param, doubles: tuple[float, ...], ints: tuple[int, ...]) -> Value:
        kind, count = param.shape  # type: ignore[misc]
        if kind is Kind.DOUBLE:
            return tuple(doubles[:count])
        if kind is Kind.STRING:
            return (decode(C.string_at(ints[0])) if ints[0] else "",)
        return tuple(C.c_int32(v).value for v in ints[:count])

    def _plugin_set(self, param: Param | None, time: float | None, doubles: tuple[float, ...],
                    ints: tuple[int, ...]) -> int:
        if param is None:
            return Status.ERR_BAD_HANDLE
        if param.shape is None:
            return Status.ERR_UNSUPPORTED
        value = self._decode_set(param, doubles, ints)
        if time is not None or param.keys:
            key_time = param.owner.time_source() if time is None else time
            param.keys[key_time] = value
            param.keys = dict(sorted(param.keys.items()))
            param.props.put("OfxParamPropIsAnimating", 1)
        else:
            param.constant = value
        param.plugin_writes.append((time, value[0] if len(value) == 1 else value))
        param.owner.on_plugin_write(param)
        return Status.OK

    def param_set_value(self, handle: int, d1: float, d2: float, d3: float, d4: float,
                        i1: int, i2: int, i3: int, i4: int) -> int:
        return self._plugin_set(self._param(handle), None, (d1, d2, d3, d4), (i1, i2, i3, i4))

    def param_set_value_at_time(self, handle: int, time: float, d1: float, d2: float, d3: float, d4: float,
                                i1: int, i2: int, i3: int, i4: int) -> int:
        return self._plugin_set(self._param(handle), time, (d1, d2, d3, d4), (i1, i2, i3, i4))

    def param_get_num_keys(self, handle: int, out: int) -> int:
        param = self._param(handle)
        if param is None:
            return Status.ERR_BAD_HANDLE
        write_out(out, C.c_uint, len(param.keys))
        return Status.OK

    def param_get_key_time(self, handle: int, nth: int, out: int) -> int:
        param = self._param(handle)
        if param is None:
            return Status.ERR_BAD_HANDLE
        times = list(param.keys)
        if nth >= len(times):
            return Status.ERR_BAD_INDEX
        write_out(out, C.c_double, times[nth])
        return Status.OK

    def param_get_key_index(self, handle: int, time: float, direction: int, out: int) -> int:
        param = self._param(handle)
        if param is None:
            return Status.ERR_BAD_HANDLE
        times = list(param.keys)
        if direction == 0:
            index = times.index(time) if time in param.keys else -1
        elif direction < 0:
            index = bisect_left(times, time) - 1
        else:
            index = bisect_right(times, time)
        if not 0 <= index < len(times):
            return Status.FAILED
        write_out(out, C.c_int, index)
        return Status.OK

    def param_delete_key(self, handle: int, time: float) -> int:
        param = self._param(handle)
        if param is None:
            return Status.ERR_BAD_HANDLE
        if time not in param.keys:
            return Status.ERR_BAD_INDEX
        value = param.keys.pop(time)
        if not param.keys:
            param.set_constant(value)
        return Status.OK

    def param_delete_all_keys(self, handle: int) -> int:
        param = self._param(handle)
        if param is None:
            return Status.ERR_BAD_HANDLE
        if param.keys:
            param.set_constant(param.value_at(param.owner.time_source()))
        return Status.OK

    def param_copy(self, to_handle: int, from_handle: int, offset: float, range_ptr: int) -> int:
        dst, src = self._param(to_handle), self._param(from_handle)
        if dst is None or src is None:
            return Status.ERR_BAD_HANDLE
        if dst.type != src.type:
            return Status.ERR_VALUE
        span = C.cast(range_ptr, C.POINTER(OfxRangeD)).contents if range_ptr else None
        dst.constant = src.constant
        dst.keys = {t + offset: v for t, v in src.keys.items() if span is None or span.min <= t <= span.max}
        dst.props.put("OfxParamPropIsAnimating", int(bool(dst.keys)))
        return Status.OK

    def param_edit_begin(self, pset_handle: int, name: bytes) -> int:
        return Status.OK if self.registry.lookup(pset_handle, ParamSet) else Status.ERR_BAD_HANDLE

    def param_edit_end(self, pset_handle: int) -> int:
        return Status.OK if self.registry.lookup(pset_handle, ParamSet) else Status.ERR_BAD_HANDLE
