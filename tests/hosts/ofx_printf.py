"""printf-style formatting of a variadic C call received through a libffi closure (SysV x86-64).

The message suite's `message(handle, type, id, format, ...)` is variadic. The closure is declared
with the 4 fixed arguments, then 2 int64 (r8, r9: the integer registers left), 8 doubles
(xmm0-7) and `STACK_SLOTS` int64 that libffi reads from the caller's stack. Walking the format
string in order, each integer-class argument takes the next free integer register and each
double the next xmm register; whatever does not fit goes to the next stack slot, in argument order.
"""

from __future__ import annotations

import ctypes as C
import re
import struct
from collections.abc import Sequence

INT_REGISTERS_LEFT = 2
XMM_REGISTERS = 8
STACK_SLOTS = 8

_SPEC = re.compile(r"%(?P<flags>[-+ #0]*)(?P<width>\*|\d+)?(?:\.(?P<prec>\*|\d+))?"
                   r"(?P<length>hh|h|ll|l|L|q|j|z|t)?(?P<conv>[diouxXeEfFgGaAcspn%])")
_DOUBLE_CONVERSIONS = "eEfFgGaA"


class VarArgs:
    """The variadic arguments of one call, consumed in order with SysV classification."""

    def __init__(self, ints: Sequence[int], doubles: Sequence[float], stack: Sequence[int]):
        self.ints, self.doubles, self.stack = list(ints), list(doubles), list(stack)
        self.next_int = self.next_double = self.next_stack = 0

    def _from_stack(self) -> int:
        if self.next_stack >= len(self.stack):
            raise IndexError("more variadic arguments than this host reads")
        self.next_stack += 1
        return self.stack[self.next_stack - 1] or 0

    def integer(self) -> int:
        if self.next_int < len(self.ints):
            self.next_int += 1
            return self.ints[self.next_int - 1] or 0
        return self._from_stack()

    def double(self) -> float:
        if self.next_double < len(self.doubles):
            self.next_double += 1
            return self.doubles[self.next_double - 1]
        raw = self._from_stack()
        return struct.unpack("<d", struct.pack("<q", C.c_int64(raw).value))[0]


def _integer(raw: int, length: str, signed: bool) -> int:
    bits = {"hh": 8, "h": 16, "": 32}.get(length, 64)
    value = raw & ((1 << bits) - 1)
    if signed and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


def _convert(match: re.Match[str], args: VarArgs) -> str:
    conv, length = match["conv"], match["length"] or ""
    if conv == "%":
        return "%"
    width = C.c_int32(args.integer()).value if match["width"] == "*" else match["width"]
    prec = C.c_int32(args.integer()).value if match["prec"] == "*" else match["prec"]
    spec = "%" + match["flags"] + (str(width) if width is not None else "")
    spec += f".{prec}" if prec is not None else ""
    if conv in _DOUBLE_CONVERSIONS:
        value = args.double()
        return value.hex() if conv in "aA" else (spec + conv) % value
    raw = args.integer()
    if conv == "s":
        return (spec + "s") % (C.string_at(raw).decode("utf-8", "replace") if raw else "(null)")
    if conv == "p":
        return f"0x{raw & (2**64 - 1):x}"
    if conv == "c":
        return (spec + "c") % chr(raw & 0xFF)
    if conv == "n":
        return ""
    value = _integer(raw, length, signed=conv in "di")
    return (spec + ("d" if conv in "diu" else conv)) % value


def format_varargs(fmt: str, ints: Sequence[int], doubles: Sequence[float], stack: Sequence[int]) -> str:
    """`fmt` expanded with the call's variadic arguments (see the module docstring)."""
    args = VarArgs(ints, doubles, stack)
    try:
        return _SPEC.sub(lambda m: _convert(m, args), fmt)
    except (IndexError, ValueError, TypeError, OverflowError) as exc:
        return f"{fmt} <unformatted: {exc}>"
