import dataclasses
import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

from featbench.errors import FeatbenchError
from featbench.store import FamilyMeta, StoreWriter, family_path, list_families, read_family
from featbench.store.files import TextRecord

META = FamilyMeta("toy", "a toy family", {"k": 1}, "hash1", {"sample_rate": 16000}, {"x": "1"}, 16000, 100.0, ["a", "b", "c"])


def _arrays(n, seed=0):
    rng = np.random.default_rng(seed)
    return {f"u{i}": rng.normal(size=(int(rng.integers(1, 6)), 3)).astype(np.float32) for i in range(n)}


def test_layout_is_readable_with_plain_h5py(tmp_path):
    arrays = _arrays(5)
    with StoreWriter(tmp_path) as writer:
        writer.prepare(META)
        for uid, array in arrays.items():
            writer.add("toy", uid, "h" + uid, array)
        writer.consolidate("toy", sorted(arrays))
    with h5py.File(tmp_path / "toy.h5", "r") as h5:
        ids = list(h5["ids"].asstr()[:])
        features, offsets, lengths = h5["features"][:], h5["offsets"][:], h5["lengths"][:]
        assert json.loads(h5.attrs["config"]) == {"k": 1}
        assert h5.attrs["config_hash"].decode() == "hash1" and h5.attrs["dim"] == 3 and h5.attrs["frame_rate"] == 100.0
        assert list(h5["columns"].asstr()[:]) == ["a", "b", "c"]
        assert list(h5["audio_hash"].asstr()[:]) == ["h" + u for u in ids]
        assert h5["features"].chunks is None  # contiguous: one fast read
    assert ids == sorted(arrays)
    for uid, start, length in zip(ids, offsets, lengths):
        np.testing.assert_array_equal(features[start:start + length], arrays[uid])
    assert not list((tmp_path / ".pending" / "toy").glob("*.h5"))


def test_files_keep_no_variable_length_data_so_no_global_heap(tmp_path):
    from featbench.store import FORMAT_VERSION

    meta = FamilyMeta("text", "tokens", {}, "h", {}, {}, 16000, 0.0, ["a", "b"], rows="tokens")
    with StoreWriter(tmp_path) as writer:
        writer.prepare(meta)
        writer.add("text", "u1", "h1", np.ones((2, 2), np.float32), text=TextRecord(("hé", "llo"), "héllo", "corpus"))
        writer.consolidate("text", ["u1"])
    path = tmp_path / "text.h5"
    with h5py.File(path, "r") as h5:
        assert FORMAT_VERSION == 3 and h5.attrs["format_version"] == 3
        assert [name for name in h5 if h5[name].dtype.kind == "O"] == []
        assert [name for name in h5.attrs if h5.attrs.get_id(name).dtype.kind == "O"] == []
        assert list(h5["tokens"].asstr()[:]) == ["hé", "llo"] and list(h5["text"].asstr()[:]) == ["héllo"]
    assert b"GCOL" not in path.read_bytes()  # the signature of a global heap collection
    fs = read_family(tmp_path, "text")
    assert fs.tokens("u1") == ["hé", "llo"] and fs.text("u1") == "héllo" and fs.text_source("u1") == "corpus"


def test_pending_shards_are_readable_before_consolidation(tmp_path):
    arrays = _arrays(4)
    with StoreWriter(tmp_path, flush_utterances=2) as writer:
        writer.prepare(META)
        for uid, array in arrays.items():
            writer.add("toy", uid, "h", array)
    assert len(list((tmp_path / ".pending" / "toy").glob("*.h5"))) == 2
    fs = read_family(tmp_path, "toy")
    assert sorted(fs.ids) == sorted(arrays)
    for uid, array in arrays.items():
        np.testing.assert_array_equal(fs.get(uid), array)
    assert list_families(tmp_path) == ["toy"]


def test_second_writer_is_refused(tmp_path):
    with StoreWriter(tmp_path):
        code = f"from featbench.store import StoreWriter\nStoreWriter({str(tmp_path)!r})"
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert result.returncode != 0
        assert "another featbench process is writing this store" in result.stderr
    with StoreWriter(tmp_path):  # released after the first closes
        pass


def test_config_change_keeps_old_file_aside_and_serves_nothing_stale(tmp_path):
    with StoreWriter(tmp_path) as writer:
        writer.prepare(META)
        writer.add("toy", "u0", "h", np.ones((2, 3), np.float32))
        writer.consolidate("toy", ["u0"])
    new = dataclasses.replace(META, config_hash="hash2")
    with StoreWriter(tmp_path) as writer:
        assert writer.prepare(new) == {}
        assert "config changed" in writer.messages[0]
    assert (tmp_path / "toy.hash1.h5").is_file() and not family_path(tmp_path, "toy").exists()


def test_changed_audio_hash_drops_stale_record(tmp_path):
    with StoreWriter(tmp_path) as writer:
        writer.prepare(META)
        writer.add("toy", "u0", "old", np.ones((2, 3), np.float32))
        writer.add("toy", "u1", "h1", np.ones((2, 3), np.float32))
        writer.consolidate("toy", ["u0", "u1"], expected={"u0": "new", "u1": "h1"})
    assert list(read_family(tmp_path, "toy").ids) == ["u1"]


def test_missing_family_is_one_line_error(tmp_path):
    with pytest.raises(FeatbenchError, match="no 'fbank' features in this store"):
        read_family(tmp_path, "fbank")


def test_wrong_width_is_refused(tmp_path):
    with StoreWriter(tmp_path) as writer:
        writer.prepare(META)
        with pytest.raises(FeatbenchError, match="does not fit"):
            writer.add("toy", "u0", "h", np.ones((2, 4), np.float32))
            writer.flush()
        writer._buffer["toy"] = []


def test_lock_falls_back_to_a_lock_file_where_flock_is_refused(tmp_path, monkeypatch):
    # NFS refuses flock on folders (EBADF): a <path>.lock file serves instead and is removed on release
    import errno

    from featbench import locking
    from featbench.errors import StoreLockedError

    import os
    import stat

    real_flock = locking.fcntl.flock

    def refuse(fd, op):  # like the NFS client: no flock on a folder
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EBADF, "Bad file descriptor")
        return real_flock(fd, op)

    monkeypatch.setattr(locking.fcntl, "flock", refuse)
    with locking.exclusive(tmp_path, "store"):
        assert (tmp_path.parent / (tmp_path.name + ".lock")).exists()
        with pytest.raises(StoreLockedError):
            with locking.exclusive(tmp_path, "store"):
                pass
    assert not (tmp_path.parent / (tmp_path.name + ".lock")).exists()


def test_format_1_files_are_read_reported_unchecked_and_rewritten_with_checksums(tmp_path):
    from featbench.store import StoreWriter, verify
    from tests.test_store_damage import _as_format_2

    arrays = _arrays(4)
    with StoreWriter(tmp_path) as writer:
        writer.prepare(META)
        for uid, array in arrays.items():
            writer.add("toy", uid, "h", array)
        writer.consolidate("toy", sorted(arrays))
    _as_format_2(tmp_path / "toy.h5")  # strings in a global heap, no index checksums
    with h5py.File(tmp_path / "toy.h5", "r+") as h5:  # as featbench 0.1 wrote it
        del h5["checksums"]
        for name in ("rows", "layers"):
            del h5.attrs[name]
        h5.attrs["format_version"] = 1
    fs = read_family(tmp_path, "toy")
    assert fs.meta.rows == "frames" and fs.meta.layers == 0
    assert "4 not checked" in verify(tmp_path)[0].line()
    with StoreWriter(tmp_path) as writer:
        assert "rewritten with checksums (4 clips)" in " ".join(writer.repair())
    assert verify(tmp_path)[0].line() == "toy: 4 clips ok"
    for uid, array in arrays.items():
        np.testing.assert_array_equal(read_family(tmp_path, "toy").get(uid), array)
