"""Run a long job in a worker thread and relay what it reports to a streaming RPC.

Streaming handlers are generators on gRPC's thread; the models report progress through callbacks.
`relay` joins the two: the job runs in its own thread with an `emit` callback, and the handler
iterates over what it emitted, then over a final `Finished(result)`; an exception in the job is
raised in the handler, where the servicer maps it to a status.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["Finished", "relay"]

T = TypeVar("T")


@dataclass(frozen=True)
class Finished(Generic[T]):
    """The job's return value (the last item `relay` yields)."""

    value: T


@dataclass(frozen=True)
class _Failed:
    error: BaseException


def relay(job: Callable[[Callable[[Any], None]], T], name: str) -> Iterator[Any]:
    """Run `job(emit)` in a daemon thread; yield each emitted item, then `Finished(result)`.

    Raises:
        Whatever the job raised.
    """
    events: queue.Queue = queue.Queue()

    def run() -> None:
        try:
            events.put(Finished(job(events.put)))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the handler's thread
            events.put(_Failed(exc))

    threading.Thread(target=run, name=name, daemon=True).start()
    while True:
        event = events.get()
        if isinstance(event, _Failed):
            raise event.error
        yield event
        if isinstance(event, Finished):
            return
