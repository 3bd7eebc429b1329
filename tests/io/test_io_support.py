"""Builders shared by the file tests (test_io_*.py). Holds no tests itself."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from nnviz.core.data import Dataset, generate
from nnviz.core.optim import OptimizerConfig, Schedule
from nnviz.core.session import DataConfig, Session, build_spec
from nnviz.core.trainer import TrainConfig


def make_session(
    data: Dataset | None = None,
    *,
    layers=(8, 8),
    activation="tanh",
    loss=None,
    optimizer="adam",
    hyper=None,
    batch_size=7,
    dtype="float64",
    preprocess="none",
    features=(),
    dropout=0.0,
    l2=0.0,
    l1=0.0,
    seed=0,
    test_fraction=0.2,
    schedule=None,
    residual=False,
    init="torch",
) -> Session:
    data = data if data is not None else generate("spiral", n=200, noise=0.1, seed=1, arms=3)
    dc = DataConfig(test_fraction, preprocess, tuple(features))
    spec = build_spec(data, dc, layers=layers, activation=activation, loss=loss, dtype=dtype,
                      residual=residual, init=init)
    train = TrainConfig(
        optimizer=OptimizerConfig(optimizer, hyper if hyper is not None else {"lr": 0.01}),
        schedule=schedule or Schedule(), batch_size=batch_size, l2=l2, l1=l1, dropout=dropout, seed=seed,
    )
    return Session(data, dc, spec, train, grid_size=8)


def train(session: Session, steps: int) -> list[float]:
    """Train ``steps`` minibatches, recording them (and an evaluation every 10) in the history."""
    losses = []
    for _ in range(steps):
        r = session.trainer.step()
        session.history.add_step(r.step, r.epoch, r.loss, r.accuracy)
        if r.step % 10 == 0:
            session.history.add_eval(r.step, r.loss, r.accuracy, None, None)
        losses.append(r.loss)
    return losses


def assert_same_state(a: dict, b: dict) -> None:
    """Two Trainer.get_state() dicts are bit-identical."""
    assert len(a["params"]) == len(b["params"])
    for x, y in zip(a["params"], b["params"], strict=True):
        assert x.dtype == y.dtype and x.shape == y.shape
        assert x.tobytes() == y.tobytes()
    assert a["optimizer_t"] == b["optimizer_t"]
    assert sorted(a["optimizer"]) == sorted(b["optimizer"])
    for k in a["optimizer"]:
        for x, y in zip(a["optimizer"][k], b["optimizer"][k], strict=True):
            assert x.dtype == y.dtype and x.tobytes() == y.tobytes()
    for k in ("step", "epoch", "pos", "rng"):
        assert a[k] == b[k], k
    if a["perm"] is None:
        assert b["perm"] is None
    else:
        assert np.array_equal(a["perm"], b["perm"])


def table_data(n=60, d=3, classes=3, seed=0, task="classification") -> Dataset:
    """A data set with no generator recipe (as if imported from CSV)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if task == "classification":
        y = (np.arange(n) % classes).astype(np.int64)
        names = tuple(f"class {chr(65 + i)}" for i in range(classes))
        return Dataset(X, y, task, "table", tuple(f"f{i}" for i in range(d)), names, {"csv": "t.csv"})
    y = X @ rng.standard_normal((d, 1))
    return Dataset(X, y, task, "table", tuple(f"f{i}" for i in range(d)), (), {"csv": "t.csv"})


# --- taking valid files apart and putting altered ones together ----------------------------
def members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def write_zip(path, contents: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> None:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in contents.items():
            zf.writestr(name, data)


def npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def npz_arrays(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def edited(
    src,
    dst,
    *,
    network: Callable[[dict], object] | None = None,
    manifest: Callable[[dict], object] | None = None,
    arrays: dict[str, Callable[[dict], object]] | None = None,
    replace: dict[str, bytes] | None = None,
    drop: tuple[str, ...] = (),
) -> Path:
    """A copy of ``src`` with its JSON or arrays changed in place by the given functions."""
    contents = members(src)
    for name, fn in (("network.json", network), ("manifest.json", manifest)):
        if fn is not None:
            d = json.loads(contents[name])
            fn(d)
            contents[name] = json.dumps(d).encode()
    for name, fn in (arrays or {}).items():
        a = npz_arrays(contents[name])
        fn(a)
        contents[name] = npz_bytes(**a)
    contents.update(replace or {})
    for name in drop:
        contents.pop(name)
    write_zip(dst, contents)
    return Path(dst)


# --- large and stream-written files, built without holding them in memory ---------------
def _npy_header(shape: tuple[int, ...], descr: str) -> bytes:
    b = io.BytesIO()
    np.lib.format.write_array_header_1_0(b, {"descr": descr, "fortran_order": False, "shape": shape})
    return b.getvalue()


class _NoSeek(io.RawIOBase):
    """A write-only stream: zipfile then writes data descriptors, as a streaming writer does."""

    def __init__(self, out):
        super().__init__()
        self._out = out

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        return self._out.write(data)


def write_stream_npz(out, arrays: dict[str, np.ndarray | tuple[tuple[int, ...], str]],
                     compression=zipfile.ZIP_STORED) -> None:
    """Write an .npz to ``out`` as a non-seekable stream would get it. An array given as
    ``(shape, descr)`` is written as zeros, 4 MiB at a time."""
    with zipfile.ZipFile(_NoSeek(out), "w", compression) as inner:
        for key, a in arrays.items():
            with inner.open(f"{key}.npy", "w", force_zip64=True) as f:
                if isinstance(a, np.ndarray):
                    np.lib.format.write_array(f, a)
                    continue
                shape, descr = a
                f.write(_npy_header(shape, descr))
                left = np.dtype(descr).itemsize * int(np.prod(shape))
                zeros = bytes(4 << 20)
                while left:
                    k = min(left, len(zeros))
                    f.write(zeros[:k])
                    left -= k


def write_data_bomb(path, n: int, d: int) -> None:
    """A valid .nnviz of a d-input network whose data.npz holds n x d zeros: tiny on disk
    (deflate), n * d * 8 bytes once loaded. No trainer state, no history."""
    from nnviz.io import save_session

    s = make_session(data=table_data(n=60, d=d, classes=2), layers=(2,), test_fraction=0.0)
    base = Path(f"{path}.base")
    save_session(s, base, include_history=False)
    c = members(base)
    base.unlink()
    net = json.loads(c["network.json"])
    net["data"]["n_examples"] = n
    net["trainer"] = None
    for m in ("optimizer.npz", "trainer.npz"):
        c.pop(m, None)
    manifest = json.loads(c["manifest.json"])
    manifest["members"] = sorted(set(c) - {"manifest.json"})
    c["manifest.json"] = json.dumps(manifest).encode()
    c["network.json"] = json.dumps(net).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in c.items():
            if name != "data.npz":
                zf.writestr(name, data)
        with zf.open("data.npz", "w", force_zip64=True) as out:
            write_stream_npz(out, {"X": ((n, d), "<f8"), "y": ((n,), "<i8")})


def add_zip64_lie(raw: bytes, entries: int, cd_size: int | None = None, classic_entries: int = 6) -> bytes:
    """``raw`` (a ZIP with no comment) with a ZIP64 end record and locator before its end
    record, which then claims ``classic_entries``. ``zipfile`` takes the ZIP64 record's
    counts whenever the locator is there."""
    import struct

    eocd = len(raw) - 22
    _sig, _d, _dd, _n1, _n2, size, offset, _c = struct.unpack("<4s4H2LH", raw[eocd:])
    cd_size = size if cd_size is None else cd_size
    z64_at = eocd
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, cd_size, offset)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, z64_at, 1)
    classic = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, classic_entries, classic_entries,
                          min(size, 6 * 46), offset, 0)
    return raw[:eocd] + record + locator + classic
