"""Handles and property sets of the ctypes OFX host, and the OfxPropertySuiteV1 over them.

Every host object the plugin can name (effect, clip, param, image, argument set ...) gets a unique
address from `HandleRegistry`; callbacks map the address back and answer kOfxStatErrBadHandle for
anything else. Property values are typed (string, int, double, pointer) and sized: declared
properties keep their type and fixed dimension, properties the plugin invents are accepted the way
real hosts (MLT) accept them, with a variable dimension and the type of their first write.
"""

from __future__ import annotations

import ctypes as C
import logging
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

from tests.hosts.ofx_abi import I32, D, P, S, Status, SuiteTable, decode, read_array, write_out

logger = logging.getLogger(__name__)
T = TypeVar("T")


class HandleRegistry:
    """Unique, stable addresses for host objects; keeps their backing cells alive."""

    def __init__(self) -> None:
        self._objects: dict[int, Any] = {}
        self._cells: dict[int, C.Array] = {}

    def register(self, obj: Any) -> int:
        cell = (C.c_char * 8)()
        handle = C.addressof(cell)
        self._cells[handle] = cell
        self._objects[handle] = obj
        return handle

    def forget(self, handle: int) -> None:
        self._objects.pop(handle, None)
        self._cells.pop(handle, None)

    def lookup(self, handle: int | None, cls: type[T]) -> T | None:
        obj = self._objects.get(handle or 0)
        return obj if isinstance(obj, cls) else None


class Kind(Enum):
    STRING = "string"
    INT = "int"
    DOUBLE = "double"
    POINTER = "pointer"


_ZERO = {Kind.STRING: "", Kind.INT: 0, Kind.DOUBLE: 0.0, Kind.POINTER: 0}


@dataclass
class Property:
    """One property: its type, its values, and whether its dimension is fixed."""

    kind: Kind
    values: list[Any]
    fixed_dimension: bool
    default: list[Any] = field(default_factory=list)
    buffers: list[C.Array | None] = field(default_factory=list)  # char* handed to the plugin

    def string_address(self, index: int) -> int:
        """A host-owned `char*` for values[index], valid until the value changes (OFX rule)."""
        while len(self.buffers) < len(self.values):
            self.buffers.append(None)
        buf = self.buffers[index]
        encoded = str(self.values[index]).encode()
        if buf is None or buf.value != encoded:
            buf = self.buffers[index] = C.create_string_buffer(encoded)
        return C.addressof(buf)


@dataclass
class PropertyError:
    """A property call the host refused (often legitimate: plugins probe optional properties)."""

    set_label: str
    function: str
    name: str
    status: Status


class PropertySet:
    """A named, typed property store with its own handle (`OfxPropertySetHandle`)."""

    def __init__(self, registry: HandleRegistry, label: str, read_only: bool = False):
        self.label = label
        self.read_only = read_only
        self.props: dict[str, Property] = {}
        self.handle = registry.register(self)

    # ---------------------------------------------------------------- host side (no restrictions)
    def declare(self, name: str, kind: Kind, values: list[Any] | Any, variable: bool = False) -> None:
        vals = list(values) if isinstance(values, list | tuple) else [values]
        self.props[name] = Property(kind, vals, fixed_dimension=not variable, default=list(vals))

    def put(self, name: str, values: list[Any] | Any) -> None:
        """Host-side update of a declared property (keeps its type)."""
        prop = self.props[name]
        prop.values = list(values) if isinstance(values, list | tuple) else [values]

    def get(self, name: str, default: Any = None) -> Any:
        """Python value: a scalar for dimension 1, else a list; `default` when absent."""
        prop = self.props.get(name)
        if prop is None:
            return default
        return prop.values[0] if len(prop.values) == 1 else list(prop.values)

    def values(self, name: str) -> list[Any]:
        prop = self.props.get(name)
        return [] if prop is None else list(prop.values)

    def __contains__(self, name: str) -> bool:
        return name in self.props

    # ---------------------------------------------------------------- plugin side (OFX rules)
    def _writable(self, name: str, kind: Kind) -> Property | Status:
        prop = self.props.get(name)
        if prop is None:
            if self.read_only:
                return Status.ERR_UNKNOWN
            prop = self.props[name] = Property(kind, [], fixed_dimension=False)
        elif self.read_only:
            return Status.ERR_VALUE
        if prop.kind is not kind:
            return Status.ERR_VALUE
        return prop

    def plugin_set(self, name: str, kind: Kind, index: int, value: Any) -> Status:
        prop = self._writable(name, kind)
        if isinstance(prop, Status):
            return prop
        if index < 0 or (prop.fixed_dimension and index >= len(prop.values)):
            return Status.ERR_BAD_INDEX
        while len(prop.values) <= index:
            prop.values.append(_ZERO[kind])
        prop.values[index] = value
        return Status.OK

    def plugin_set_n(self, name: str, kind: Kind, values: list[Any]) -> Status:
        prop = self._writable(name, kind)
        if isinstance(prop, Status):
            return prop
        if prop.fixed_dimension:
            if len(values) > len(prop.values):
                return Status.ERR_BAD_INDEX
            prop.values[: len(values)] = values
        else:
            prop.values = list(values)
        return Status.OK

    def plugin_get(self, name: str, kind: Kind, index: int, count: int = 1) -> tuple[Status, list[Any]]:
        """Values [index, index + count) in C form (strings as host-owned char* addresses)."""
        prop = self.props.get(name)
        if prop is None:
            return Status.ERR_UNKNOWN, []
        if prop.kind is not kind:
            return Status.ERR_VALUE, []
        if index < 0 or count < 0 or index + count > len(prop.values):
            return Status.ERR_BAD_INDEX, []
        picked = range(index, index + count)
        if kind is Kind.STRING:
            return Status.OK, [prop.string_address(i) for i in picked]
        return Status.OK, [prop.values[i] for i in picked]

    def plugin_reset(self, name: str) -> Status:
        prop = self.props.get(name)
        if prop is None:
            return Status.ERR_UNKNOWN
        if self.read_only:
            return Status.ERR_VALUE
        prop.values = list(prop.default)
        return Status.OK

    def plugin_dimension(self, name: str) -> tuple[Status, int]:
        prop = self.props.get(name)
        return (Status.ERR_UNKNOWN, 0) if prop is None else (Status.OK, len(prop.values))


_CTYPE = {Kind.STRING: C.c_void_p, Kind.INT: C.c_int, Kind.DOUBLE: C.c_double, Kind.POINTER: C.c_void_p}


class PropertySuite:
    """OfxPropertySuiteV1: 18 functions over `PropertySet`s found in a `HandleRegistry`."""

    def __init__(self, registry: HandleRegistry, errors: list[PropertyError], on_exception: Any):
        self.registry = registry
        self.errors = errors
        order = ((Kind.POINTER, P), (Kind.STRING, S), (Kind.DOUBLE, D), (Kind.INT, I32))  # header order
        entries: list[tuple[Any, ...]] = [(self._setter(kind), (P, S, I32, value)) for kind, value in order]
        entries += [(self._setter_n(kind), (P, S, I32, P)) for kind, _ in order]
        entries += [(self._getter(kind, multi), (P, S, I32, P)) for multi in (False, True) for kind, _ in order]
        entries += [(self.prop_reset, (P, S)), (self.prop_get_dimension, (P, S, P))]
        self.suite = SuiteTable("OfxPropertySuite", entries, on_exception)

    def _result(self, pset: PropertySet | None, function: str, name: bytes, status: Status) -> int:
        if status is not Status.OK:
            label = pset.label if pset else "<bad handle>"
            self.errors.append(PropertyError(label, function, decode(name), status))
            logger.debug("%s(%s, %s) -> %s", function, label, decode(name), status.name)
        return int(status)

    def _set(self, handle: int, function: str, name: bytes, apply: Any) -> int:
        pset = self.registry.lookup(handle, PropertySet)
        status = Status.ERR_BAD_HANDLE if pset is None else apply(pset, decode(name))
        return self._result(pset, function, name, status)

    @staticmethod
    def _to_python(kind: Kind, raw: Any) -> Any:
        if kind is Kind.STRING:
            return decode(raw if isinstance(raw, bytes) else C.string_at(raw) if raw else b"")
        if kind is Kind.POINTER:
            return raw or 0
        return raw

    def _setter(self, kind: Kind) -> Any:
        def prop_set(handle: int, name: bytes, index: int, value: Any) -> int:
            return self._set(handle, f"propSet{kind.value}", name,
                             lambda ps, n: ps.plugin_set(n, kind, index, self._to_python(kind, value)))

        prop_set.__name__ = f"propSet_{kind.value}"
        return prop_set

    def _setter_n(self, kind: Kind) -> Any:
        def prop_set_n(handle: int, name: bytes, count: int, array: int) -> int:
            raw = read_array(array, _CTYPE[kind], count) if array else []
            if len(raw) != max(count, 0):
                return self._set(handle, f"propSet{kind.value}N", name, lambda ps, n: Status.ERR_VALUE)
            vals = [self._to_python(kind, v) for v in raw]
            return self._set(handle, f"propSet{kind.value}N", name, lambda ps, n: ps.plugin_set_n(n, kind, vals))

        prop_set_n.__name__ = f"propSetN_{kind.value}"
        return prop_set_n

    def _getter(self, kind: Kind, multi: bool) -> Any:
        function = f"propGet{kind.value}{'N' if multi else ''}"

        def prop_get(handle: int, name: bytes, index_or_count: int, out: int) -> int:
            index, count = (0, index_or_count) if multi else (index_or_count, 1)

            def apply(pset: PropertySet, n: str) -> Status:
                if not out:
                    return Status.ERR_VALUE
                status, vals = pset.plugin_get(n, kind, index, count)
                for i, v in enumerate(vals):
                    write_out(out + i * C.sizeof(_CTYPE[kind]), _CTYPE[kind], v)
                return status

            return self._set(handle, function, name, apply)

        prop_get.__name__ = function
        return prop_get

    def prop_reset(self, handle: int, name: bytes) -> int:
        return self._set(handle, "propReset", name, lambda ps, n: ps.plugin_reset(n))

    def prop_get_dimension(self, handle: int, name: bytes, out: int) -> int:
        def apply(pset: PropertySet, n: str) -> Status:
            status, count = pset.plugin_dimension(n)
            if out:
                write_out(out, C.c_int, count)
            return status

        return self._set(handle, "propGetDimension", name, apply)
