"""Memory, MultiThread, Message (V1, V2), Progress (V1, V2) and TimeLine suites of the ctypes host.

Messages and progress are recorded per effect handle in a `Journal`, so a test can assert on
exactly what a user would have seen, and can make progressUpdate answer kOfxStatReplyNo (the user
pressed Cancel) after a given number of updates.
"""

from __future__ import annotations

import ctypes as C
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.hosts.ofx_abi import I32, I64, SZ, THREAD_FUNCTION, U32, D, P, S, Status, SuiteTable, decode, write_out
from tests.hosts.ofx_effect import Effect
from tests.hosts.ofx_printf import INT_REGISTERS_LEFT, STACK_SLOTS, XMM_REGISTERS, format_varargs
from tests.hosts.ofx_props import HandleRegistry


@dataclass(frozen=True)
class Message:
    """One message-suite call as the user would see it."""

    type: str  # OfxMessageError, OfxMessageWarning, ...
    id: str
    text: str
    persistent: bool = False

    @property
    def short_type(self) -> str:
        return self.type.removeprefix("OfxMessage").lower()


@dataclass(frozen=True)
class ProgressEvent:
    kind: str  # "start", "update" or "end"
    label: str = ""
    fraction: float = 0.0


@dataclass
class Journal:
    """What one effect (instance or descriptor) told the user, plus the user's scripted answers."""

    messages: list[Message] = field(default_factory=list)
    persistent: Message | None = None
    progress: list[ProgressEvent] = field(default_factory=list)
    cancel_after_updates: int | None = None  # progressUpdate answers ReplyNo after this many updates
    question_reply: Status = Status.REPLY_YES

    @property
    def updates_since_start(self) -> int:
        """progressUpdate calls since the last progressStart."""
        count = 0
        for event in reversed(self.progress):
            if event.kind == "start":
                break
            count += event.kind == "update"
        return count


class Journals:
    """Journals by effect handle (0 = messages sent without a handle)."""

    def __init__(self) -> None:
        self._by_handle: dict[int, Journal] = {}

    def __call__(self, handle: int | None) -> Journal:
        return self._by_handle.setdefault(handle or 0, Journal())


_MESSAGE_ARGS = (P, S, S, S, *[I64] * INT_REGISTERS_LEFT, *[D] * XMM_REGISTERS, *[I64] * STACK_SLOTS)


def _text(fmt: bytes | None, rest: tuple[Any, ...]) -> str:
    ints = rest[:INT_REGISTERS_LEFT]
    doubles = rest[INT_REGISTERS_LEFT:INT_REGISTERS_LEFT + XMM_REGISTERS]
    stack = rest[INT_REGISTERS_LEFT + XMM_REGISTERS:]
    return format_varargs(decode(fmt), ints, doubles, stack)


class MessageSuite:
    """OfxMessageSuiteV1 and V2 (the V1 table is the first entry of V2)."""

    def __init__(self, journals: Journals, on_exception: Any):
        self.journals = journals
        entries = [(self.message, _MESSAGE_ARGS), (self.set_persistent_message, _MESSAGE_ARGS),
                   (self.clear_persistent_message, (P,))]
        self.v1 = SuiteTable("OfxMessageSuiteV1", entries[:1], on_exception)
        self.v2 = SuiteTable("OfxMessageSuiteV2", entries, on_exception)

    def message(self, handle: int, mtype: bytes, mid: bytes, fmt: bytes, *rest: Any) -> int:
        journal = self.journals(handle)
        journal.messages.append(Message(decode(mtype), decode(mid), _text(fmt, rest)))
        return journal.question_reply if decode(mtype) == "OfxMessageQuestion" else Status.OK

    def set_persistent_message(self, handle: int, mtype: bytes, mid: bytes, fmt: bytes, *rest: Any) -> int:
        journal = self.journals(handle)
        journal.persistent = Message(decode(mtype), decode(mid), _text(fmt, rest), persistent=True)
        journal.messages.append(journal.persistent)
        return Status.OK

    def clear_persistent_message(self, handle: int) -> int:
        self.journals(handle).persistent = None
        return Status.OK


class ProgressSuite:
    """OfxProgressSuiteV1 (start with a label) and V2 (start with a message and a message id)."""

    def __init__(self, journals: Journals, on_exception: Any):
        self.journals = journals
        rest = [(self.progress_update, (P, D)), (self.progress_end, (P,))]
        self.v1 = SuiteTable("OfxProgressSuiteV1", [(self.progress_start_v1, (P, S)), *rest], on_exception)
        self.v2 = SuiteTable("OfxProgressSuiteV2", [(self.progress_start_v2, (P, S, S)), *rest], on_exception)

    def progress_start_v1(self, handle: int, label: bytes) -> int:
        self.journals(handle).progress.append(ProgressEvent("start", decode(label)))
        return Status.OK

    def progress_start_v2(self, handle: int, message: bytes, message_id: bytes) -> int:
        return self.progress_start_v1(handle, message)

    def progress_update(self, handle: int, fraction: float) -> int:
        journal = self.journals(handle)
        journal.progress.append(ProgressEvent("update", fraction=fraction))
        limit = journal.cancel_after_updates
        return Status.REPLY_NO if limit is not None and journal.updates_since_start > limit else Status.OK

    def progress_end(self, handle: int) -> int:
        self.journals(handle).progress.append(ProgressEvent("end"))
        return Status.OK


class MemorySuite:
    """OfxMemorySuiteV1: host-owned blocks, freed only through memoryFree."""

    def __init__(self, on_exception: Any):
        self.blocks: dict[int, C.Array] = {}
        self.suite = SuiteTable("OfxMemorySuite", [(self.memory_alloc, (P, SZ, P)), (self.memory_free, (P,))],
                                on_exception)

    def memory_alloc(self, handle: int, size: int, out: int) -> int:
        block = (C.c_char * max(size, 1))()
        self.blocks[C.addressof(block)] = block
        write_out(out, C.c_void_p, C.addressof(block))
        return Status.OK

    def memory_free(self, pointer: int) -> int:
        return Status.OK if self.blocks.pop(pointer or 0, None) is not None else Status.ERR_BAD_HANDLE


class _Mutex:
    def __init__(self, registry: HandleRegistry, locks: int):
        self.lock = threading.RLock()
        for _ in range(max(locks, 0)):
            self.lock.acquire()
        self.handle = registry.register(self)


class MultiThreadSuite:
    """OfxMultiThreadSuiteV1 with real threads: `multiThread` runs func(i, n, arg) on n threads."""

    def __init__(self, registry: HandleRegistry, on_exception: Any, cpus: int | None = None):
        self.registry = registry
        self.cpus = cpus or os.cpu_count() or 1
        self._local = threading.local()
        self.suite = SuiteTable("OfxMultiThreadSuite", [
            (self.multi_thread, (P, U32, P)), (self.num_cpus, (P,)), (self.thread_index, (P,)),
            (self.is_spawned_thread, (), I32), (self.mutex_create, (P, I32)), (self.mutex_destroy, (P,)),
            (self.mutex_lock, (P,)), (self.mutex_unlock, (P,)), (self.mutex_try_lock, (P,)),
        ], on_exception)

    def multi_thread(self, func: int, count: int, arg: int) -> int:
        if getattr(self._local, "spawned", False):
            return Status.ERR_EXISTS  # nested multiThread calls are not allowed (as in MLT)
        n = count or self.cpus
        call: Callable[[int, int, int], None] = THREAD_FUNCTION(func)

        def work(index: int) -> None:
            self._local.spawned, self._local.index = True, index
            call(index, n, arg)

        threads = [threading.Thread(target=work, args=(i,), name=f"ofx-worker-{i}") for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return Status.OK

    def num_cpus(self, out: int) -> int:
        write_out(out, C.c_uint, self.cpus)
        return Status.OK

    def thread_index(self, out: int) -> int:
        write_out(out, C.c_uint, getattr(self._local, "index", 0))
        return Status.OK

    def is_spawned_thread(self) -> int:
        return int(getattr(self._local, "spawned", False))

    def mutex_create(self, out: int, locks: int) -> int:
        write_out(out, C.c_void_p, _Mutex(self.registry, locks).handle)
        return Status.OK

    def mutex_destroy(self, handle: int) -> int:
        if self.registry.lookup(handle, _Mutex) is None:
            return Status.ERR_BAD_HANDLE
        self.registry.forget(handle)
        return Status.OK

    def mutex_lock(self, handle: int) -> int:
        mutex = self.registry.lookup(handle, _Mutex)
        if mutex is None:
            return Status.ERR_BAD_HANDLE
        mutex.lock.acquire()
        return Status.OK

    def mutex_unlock(self, handle: int) -> int:
        mutex = self.registry.lookup(handle, _Mutex)
        if mutex is None:
            return Status.ERR_BAD_HANDLE
        try:
            mutex.lock.release()
        except RuntimeError:  # not held by this thread
            return Status.ERR_VALUE
        return Status.OK

    def mutex_try_lock(self, handle: int) -> int:
        mutex = self.registry.lookup(handle, _Mutex)
        if mutex is None:
            return Status.ERR_BAD_HANDLE
        return Status.OK if mutex.lock.acquire(blocking=False) else Status.FAILED


class TimeLineSuite:
    """OfxTimeLineSuiteV1 over an effect's current time and frame range."""

    def __init__(self, registry: HandleRegistry, on_exception: Any):
        self.registry = registry
        self.suite = SuiteTable("OfxTimeLineSuite", [
            (self.get_time, (P, P)), (self.goto_time, (P, D)), (self.get_time_bounds, (P, P, P)),
        ], on_exception)

    def get_time(self, handle: int, out: int) -> int:
        effect = self.registry.lookup(handle, Effect)
        if effect is None:
            return Status.ERR_BAD_HANDLE
        write_out(out, C.c_double, effect.time)
        return Status.OK

    def goto_time(self, handle: int, time: float) -> int:
        effect = self.registry.lookup(handle, Effect)
        if effect is None:
            return Status.ERR_BAD_HANDLE
        effect.time = time
        return Status.OK

    def get_time_bounds(self, handle: int, first: int, last: int) -> int:
        effect = self.registry.lookup(handle, Effect)
        if effect is None:
            return Status.ERR_BAD_HANDLE
        write_out(first, C.c_double, effect.frame_range[0])
        write_out(last, C.c_double, effect.frame_range[1])
        return Status.OK
