"""Bounds of the network file: memory and time before allocation (inflate bombs, ZIP64
directory lies), counters and values every consumer can handle, and files that are not
regular files."""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import textwrap
import threading
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_io_support import (
    add_zip64_lie,
    edited,
    make_session,
    members,
    npz_arrays,
    table_data,
    train,
    write_data_bomb,
    write_stream_npz,
    write_zip,
)

from nnviz.io import FileFormatError, SaveError, load_file, save_session
from nnviz.io import network_file_contents as lay
from nnviz.io.archive import npy_arrays
from nnviz.io.json_spec import MAX_SPEC_BYTES, load_json_spec_file

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024**2


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    s = make_session(preprocess="standardize")
    train(s, 15)
    path = tmp_path_factory.mktemp("limits") / "net.nnviz"
    save_session(s, path)
    return path


def refused(path, match: str) -> FileFormatError:
    with pytest.raises(FileFormatError) as info:
        load_file(path)
    assert match in str(info.value), str(info.value)
    return info.value


# --- inflate bombs: one copy of the data at the peak ----------------------------------------
_LOAD_AND_REPORT = textwrap.dedent("""
    import resource, sys
    sys.path.insert(0, sys.argv[2])
    from nnviz.io import load_file
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB, after the imports
    r = load_file(sys.argv[1])
    print(base, r.data.X.shape[0], r.data.X.shape[1], float(max(r.data.X.max(), -r.data.X.min())))
""")


def _load_in_child(path: Path) -> tuple[int, int, tuple[int, int], float]:
    """(peak RSS of the loading child, its RSS after imports, X's shape, max |X|); KiB."""
    proc = subprocess.run([sys.executable, "-c", _LOAD_AND_REPORT, str(path), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    base, n, d, top = proc.stdout.split()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak, int(base), (int(n), int(d)), float(top)


def test_inflate_bomb_within_limits_loads_with_one_copy_of_its_data(tmp_path):
    """A file of a few hundred KiB whose data.npz inflates to 192 MiB (stream-written, as a
    bomb is made): loaded in one pass straight into the final array. The old loader joined
    the member in memory and NumPy copied it again: three copies at the peak."""
    n, d = 393_216, 64  # X: 192 MiB of float64 zeros
    path = tmp_path / "bomb.nnviz"
    write_data_bomb(path, n, d)
    assert path.stat().st_size < 2 * MiB
    peak, base, shape, top = _load_in_child(path)
    assert shape == (n, d) and top == 0.0
    data_kib = (n * d * 8 + n * 8) // 1024
    # the final arrays, plus slack for the Dataset's own finiteness check (an eighth)
    assert peak - base < 1.4 * data_kib, f"peak {peak} KiB over {base} KiB for {data_kib} KiB of data"


def test_bomb_beyond_what_the_architecture_needs_is_refused_unread(good, tmp_path):
    """A member bounded by what its arrays hold: 2 KiB of weights may not inflate to 64 MiB."""
    contents = members(good)
    out = io.BytesIO()
    write_stream_npz(out, {"W0": ((8192, 1024), "<f8")}, compression=zipfile.ZIP_DEFLATED)
    contents["weights.npz"] = out.getvalue()
    path = tmp_path / "x.nnviz"
    write_zip(path, contents)
    tracemalloc.start()
    try:
        refused(path, "weights.npz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * MiB


def test_stream_written_npz_members_load_exactly(good, tmp_path):
    """Data descriptors (sizes after the data), stored or deflated, read in one pass."""
    before = load_file(good)
    for compression in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        contents = members(good)
        for name in ("weights.npz", "data.npz"):
            out = io.BytesIO()
            write_stream_npz(out, npz_arrays(contents[name]), compression=compression)
            contents[name] = out.getvalue()
        path = tmp_path / f"stream{compression}.nnviz"
        write_zip(path, contents)
        after = load_file(path)
        for p, q in zip(before.params, after.params, strict=True):
            assert p.tobytes() == q.tobytes()
        assert after.data.X.tobytes() == before.data.X.tobytes()


def test_overlapping_or_lying_inner_directory_is_refused(good, tmp_path):
    """The inner directory must list exactly the arrays read, where they were read."""
    raw = bytearray(members(good)["weights.npz"])
    pos = raw.rfind(b"PK\x01\x02")  # the last directory entry: point it elsewhere
    raw[pos + 42 : pos + 46] = (0).to_bytes(4, "little")
    refused(edited(good, tmp_path / "x.nnviz", replace={"weights.npz": bytes(raw)}), "weights.npz")


def test_large_fortran_order_arrays_are_refused(good, tmp_path, monkeypatch):
    monkeypatch.setattr(npy_arrays, "MAX_FORTRAN_BYTES", 64)

    def fortran(a):
        a["W1"] = np.asfortranarray(a["W1"])

    refused(edited(good, tmp_path / "x.nnviz", arrays={"weights.npz": fortran}), "Fortran order")


# --- ZIP64: the directory zipfile itself will read --------------------------------------------
def _many_entries(n: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for i in range(n):
            zf.writestr(f"m{i}", b"")
    return out.getvalue()


def test_zip64_record_overrides_a_modest_classic_record(tmp_path):
    """The classic end record says 6 entries; a ZIP64 locator makes zipfile list 3,000."""
    path = tmp_path / "lie.nnviz"
    path.write_bytes(add_zip64_lie(_many_entries(3000), entries=3000))
    with zipfile.ZipFile(path) as zf:  # what zipfile itself does with this file
        assert len(zf.infolist()) == 3000
    tracemalloc.start()
    try:
        refused(path, "its ZIP directory lists 3,000 entries")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * MiB


def test_zip64_count_of_millions_is_refused_before_parsing(good, tmp_path):
    path = tmp_path / "lie.nnviz"
    path.write_bytes(add_zip64_lie(good.read_bytes(), entries=6_000_000, cd_size=6_000_000 * 46))
    refused(path, "lists 6,000,000 entries")


def test_zip64_lie_inside_an_npz_member(good, tmp_path):
    lied = add_zip64_lie(members(good)["weights.npz"], entries=6_000_000, cd_size=6_000_000 * 46)
    refused(edited(good, tmp_path / "x.nnviz", replace={"weights.npz": lied}),
            "weights.npz: its ZIP directory lists 6,000,000 entries")


def test_zip64_record_without_lies_still_loads(good, tmp_path):
    """A ZIP64 end record that tells the truth (as a ZIP64 writer makes) is fine."""
    raw = good.read_bytes()
    entries = len(zipfile.ZipFile(good).infolist())
    path = tmp_path / "z64.nnviz"
    path.write_bytes(add_zip64_lie(raw, entries=entries, classic_entries=0xFFFF))
    assert load_file(path).trainer_state["step"] == 15


# --- counters and values ------------------------------------------------------------------
def _with_counters(good: Path, dst: Path, value: int) -> Path:
    def edit(d):
        d["trainer"]["step"] = value
        d["trainer"]["epoch"] = value
        d["trainer"]["optimizer"]["t"] = value

    return edited(good, dst, network=edit)


def test_counters_at_the_bound_load_save_and_load_again(good, tmp_path):
    top = lay.MAX_COUNTER
    assert top == 2**53
    loaded = load_file(_with_counters(good, tmp_path / "top.nnviz", top))
    assert loaded.trainer_state["step"] == top
    session = loaded.to_session()
    again = tmp_path / "again.nnviz"
    save_session(session, again)
    state = load_file(again).trainer_state
    assert (state["step"], state["epoch"], state["optimizer_t"]) == (top, top, top)


@pytest.mark.parametrize("value", [2**53 + 1, 2**63 - 1, 2**64])
def test_counters_beyond_the_bound_are_refused(good, tmp_path, value):
    refused(_with_counters(good, tmp_path / "x.nnviz", value),
            "trainer.step must be in 0..9,007,199,254,740,992")


def test_saving_a_counter_beyond_the_bound_is_refused(tmp_path):
    s = make_session()
    train(s, 2)
    state = s.trainer.get_state()
    state["step"] = 2**53 + 1
    s.trainer.set_state(state)
    with pytest.raises(SaveError, match=r"trainer\.step"):
        save_session(s, tmp_path / "x.nnviz")
    assert not (tmp_path / "x.nnviz").exists()


@pytest.mark.parametrize("value", [2.0**63, -1.0, 1.5, np.nan])
def test_history_step_column_must_hold_counters(good, tmp_path, value):
    def edit(a):
        a["steps"][3, 0] = value

    refused(edited(good, tmp_path / "x.nnviz", arrays={"history.npz": edit}),
            "step history's step column must hold whole numbers")


def test_data_inputs_beyond_1e100_are_refused(good, tmp_path):
    def at_bound(a):
        a["X"][0, 0] = -1e100

    def beyond(a):
        a["X"][5, 1] = 1e101

    loaded = load_file(edited(good, tmp_path / "ok.nnviz", arrays={"data.npz": at_bound}))
    assert loaded.data.X.min() == -1e100
    refused(edited(good, tmp_path / "x.nnviz", arrays={"data.npz": beyond}), "beyond ±1e+100")


def test_saving_data_beyond_1e100_is_refused(tmp_path):
    data = table_data()
    X = data.X.copy()
    X[0, 0] = 1e300
    s = make_session(data=type(data)(X, data.y, data.task, data.name, data.feature_names,
                                     data.class_names, data.source))
    with pytest.raises(SaveError, match="1e\\+100"):
        save_session(s, tmp_path / "x.nnviz")
    save_session(s, tmp_path / "nodata.nnviz", include_data=False)  # the network alone is fine


# --- what kind of file ---------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
def test_fifo_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / "pipe.nnviz"
    os.mkfifo(fifo)
    errors: list[BaseException] = []

    def attempt(fn):
        try:
            fn(fifo)
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    for fn in (load_file, load_json_spec_file):
        t = threading.Thread(target=attempt, args=(fn,), daemon=True)
        t.start()
        t.join(60)
        if t.is_alive():  # unblock the reader so the test run can end
            with open(fifo, "wb"):
                pass
            pytest.fail(f"{fn.__name__} blocked on a FIFO")
    assert len(errors) == 2 and all(isinstance(e, FileFormatError) for e in errors)
    assert all("named pipe" in str(e) for e in errors), errors


def test_oversized_json_spec_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.json"
    with open(path, "wb") as f:
        f.write(b'{"architecture": {"input_dim": 2, "output_dim": 2}, "name": "')
        f.truncate(MAX_SPEC_BYTES * 64)  # sparse: nothing of it is in memory
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError, match="at most 1,048,576"):
            load_json_spec_file(path)
        refused(path, "sensible size")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * MiB


def test_json_spec_file_loads_and_bounds_inline_data(tmp_path):
    doc = {"architecture": {"input_dim": 2, "output_dim": 2},
           "data": {"X": [[0, 0], [0, 1], [1, 0], [1, 1]], "y": [0, 1, 1, 0]}}
    path = tmp_path / "xor.json"
    path.write_text(json.dumps(doc))
    assert load_json_spec_file(path).data.X.shape == (4, 2)
    doc["data"]["X"][2][1] = 1e101
    path.write_text(json.dumps(doc))
    with pytest.raises(FileFormatError, match=r"data.X\[2\]\[1\] is 1e\+101"):
        load_json_spec_file(path)
    doc["data"]["X"][2][1] = 10**400  # an integer no float64 holds
    path.write_text(json.dumps(doc))
    with pytest.raises(FileFormatError, match="finite number"):
        load_json_spec_file(path)
