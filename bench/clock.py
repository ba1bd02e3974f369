"""Timing from the outside: wrap callables (instance methods, module functions) with accumulating timers.

The benchmarked code is never edited for timing. A stage is timed by replacing, for the duration
of a `with` block, the attribute that the code under test looks up at call time (a bound method on
an instance it was given, or a name in the module it calls through) by a timed wrapper.
"""

from __future__ import annotations

import functools
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import ModuleType
from typing import Any

__all__ = ["StageClock", "swapped"]


class StageClock:
    """Accumulates wall-clock seconds and call counts per stage name."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()

    def wrap(self, stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """`function`, adding each call's wall time to `stage`."""

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - start
                self.calls[stage] += 1

        return timed

    def time_method(self, stage: str, owner: object, method: str) -> None:
        """Time `owner.method` from now on (an instance attribute shadowing the bound method)."""
        setattr(owner, method, self.wrap(stage, getattr(owner, method)))

    @contextmanager
    def timing_functions(self, module: ModuleType, stages: Mapping[str, str]) -> Iterator[list[str]]:
        """Time the functions `module` calls by name ({function name: stage}) inside the block.

        Yields the names `module` does not have (the code changed; those stages go untimed).
        """
        present = {name: stage for name, stage in stages.items() if callable(getattr(module, name, None))}
        with swapped(module, {name: self.wrap(stage, getattr(module, name)) for name, stage in present.items()}):
            yield [name for name in stages if name not in present]


@contextmanager
def swapped(owner: object, replacements: Mapping[str, Any]) -> Iterator[None]:
    """Set attributes of `owner` inside the block, restoring the originals afterwards."""
    originals = {name: getattr(owner, name) for name in replacements}
    try:
        for name, value in replacements.items():
            setattr(owner, name, value)
        yield
    finally:
        for name, value in originals.items():
            setattr(owner, name, value)

