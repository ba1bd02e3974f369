"""Shared fixtures for the neural tests: one torch thread (shared machine), fixed seeds."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _single_thread_seeded() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
