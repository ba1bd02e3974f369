"""The shot store: persistence across instances, atomicity, corrupt and old files, LRU bound.

A minimal analysis class stands in for the real one: the store only needs `to_arrays` and a codec,
and these tests are about the store, not the analysis.
"""

from dataclasses import dataclass

import numpy as np
import pytest
from ned_server.shot_store import ShotStore


@dataclass
class _Analysis:
    values: np.ndarray

    def to_arrays(self):
        return {"values": self.values}


class _Codec:
    SCHEMA_VERSION = 3

    @staticmethod
    def from_arrays(arrays):
        if arrays["values"].dtype != np.float32:
            raise ValueError("values must be float32")
        return _Analysis(arrays["values"])


def _store(tmp_path, **kw):
    return ShotStore(tmp_path, _Codec(), **kw)


def test_survives_a_new_store_instance_bit_for_bit(tmp_path):
    values = np.random.default_rng(0).normal(size=(10, 478, 3)).astype(np.float32)
    first = _store(tmp_path).put("shot A@1920x1080", _Analysis(values), mode="full")
    again = _store(tmp_path).get("shot A@1920x1080")
    assert again is not None and again.mode == "full" and again.revision == first.revision
    np.testing.assert_array_equal(again.analysis.values, values)


def test_revision_increases_and_delete_forgets(tmp_path):
    store = _store(tmp_path)
    r1 = store.put("s", _Analysis(np.zeros(3, np.float32)), mode="online").revision
    r2 = store.put("s", _Analysis(np.ones(3, np.float32)), mode="full").revision
    assert r2 > r1
    assert store.delete("s") is True
    assert store.get("s") is None and _store(tmp_path).get("s") is None
    assert store.delete("s") is False


@pytest.mark.parametrize("damage", ["truncate", "garbage", "wrong_dtype"])
def test_corrupt_file_is_set_aside_and_reported(tmp_path, damage):
    store = _store(tmp_path)
    store.put("s", _Analysis(np.zeros(100, np.float32)), mode="full")
    path = store.shot_dir("s") / "shot.npz"
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "garbage":
        path.write_bytes(b"not a zip file at all")
    else:
        _store(tmp_path).put("s", _Analysis(np.zeros(100, np.float64)), mode="full")
    fresh = _store(tmp_path)
    assert fresh.get("s") is None
    assert fresh.problems and "corrupt" in fresh.problems[0].detail
    assert store.shot_dir("s").with_name(store.shot_dir("s").name + ".corrupt").exists()
    assert fresh.get("s") is None  # stays missing (to be re-analysed), no crash


def test_old_schema_is_set_aside(tmp_path):
    _store(tmp_path).put("s", _Analysis(np.zeros(4, np.float32)), mode="full")

    class _NewCodec(_Codec):
        SCHEMA_VERSION = 4

    fresh = ShotStore(tmp_path, _NewCodec())
    assert fresh.get("s") is None
    assert "schema 3" in fresh.problems[0].detail


def test_memory_is_bounded_but_disk_keeps_everything(tmp_path):
    store = _store(tmp_path, max_memory_bytes=1000)
    for i in range(5):
        store.put(f"s{i}", _Analysis(np.zeros(100, np.float32)), mode="full")  # 400 bytes each
    assert store.memory_bytes() <= 1000
    assert all(store.get(f"s{i}") is not None for i in range(5))  # reloaded from disk


def test_two_shot_ids_never_share_files(tmp_path):
    store = _store(tmp_path)
    store.put("clip@1920x1080", _Analysis(np.zeros(2, np.float32)), mode="full")
    assert store.get("clip@1280x720") is None
    assert store.shot_dir("clip@1920x1080") != store.shot_dir("clip@1280x720")
