"""The process-wide part of the ctypes OFX host: handle registry, suites, fetchSuite, journals.

A plugin may keep the suite pointers it fetched in Load across Unload/Load (MLT loads a bundle
several times), and a .ofx binary is never really unloaded from a process. So suites, handles and
the OfxHost structs live as long as the process: every `OfxHost` of a test session shares them.
"""

from __future__ import annotations

import ctypes as C
import functools
import logging
import traceback
from dataclasses import dataclass

from tests.hosts.ofx_abi import FETCH_SUITE, SuiteTable
from tests.hosts.ofx_effect import ImageEffectSuite
from tests.hosts.ofx_params import ParameterSuite
from tests.hosts.ofx_props import HandleRegistry, PropertyError, PropertySuite
from tests.hosts.ofx_services import Journals, MemorySuite, MessageSuite, MultiThreadSuite, ProgressSuite, TimeLineSuite

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallbackError:
    """An exception raised inside a host callback: a bug in this host, never the plugin's fault."""

    function: str
    error: str
    trace: str


class OfxRuntime:
    """Registry, journals and suite tables shared by every host in this process."""

    def __init__(self) -> None:
        self.registry = HandleRegistry()
        self.journals = Journals()
        self.property_errors: list[PropertyError] = []
        self.callback_errors: list[CallbackError] = []
        self.fetched: list[tuple[str, int, bool]] = []  # (suite, version, provided)
        on_exc = self._record_exception
        self.properties = PropertySuite(self.registry, self.property_errors, on_exc)
        self.parameters = ParameterSuite(self.registry, on_exc)
        self.image_effect = ImageEffectSuite(self.registry, on_exc)
        self.messages = MessageSuite(self.journals, on_exc)
        self.progress = ProgressSuite(self.journals, on_exc)
        self.memory = MemorySuite(on_exc)
        self.threads = MultiThreadSuite(self.registry, on_exc)
        self.timeline = TimeLineSuite(self.registry, on_exc)
        self.suites: dict[tuple[str, int], SuiteTable] = {
            ("OfxPropertySuite", 1): self.properties.suite,
            ("OfxParameterSuite", 1): self.parameters.suite,
            ("OfxImageEffectSuite", 1): self.image_effect.suite,
            ("OfxMessageSuite", 1): self.messages.v1,
            ("OfxMessageSuite", 2): self.messages.v2,
            ("OfxProgressSuite", 1): self.progress.v1,
            ("OfxProgressSuite", 2): self.progress.v2,
            ("OfxMemorySuite", 1): self.memory.suite,
            ("OfxMultiThreadSuite", 1): self.threads.suite,
            ("OfxTimeLineSuite", 1): self.timeline.suite,
        }
        self.fetch_suite = FETCH_SUITE(self._fetch_suite)
        self.host_structs: list[C.Structure] = []  # every OfxHost handed to a plugin, kept alive

    def _record_exception(self, function: str, exc: BaseException) -> None:
        trace = "".join(traceback.format_exception(exc))
        logger.error("host callback %s raised:\n%s", function, trace)
        self.callback_errors.append(CallbackError(function, repr(exc), trace))

    def _fetch_suite(self, host_handle: int, name: bytes, version: int) -> int | None:
        suite = self.suites.get((name.decode(errors="replace"), version))
        self.fetched.append((name.decode(errors="replace"), version, suite is not None))
        return suite.address if suite else None


@functools.cache
def runtime() -> OfxRuntime:
    """The process-wide runtime, created on first use (never at import)."""
    return OfxRuntime()
