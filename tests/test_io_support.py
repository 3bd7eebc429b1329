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
