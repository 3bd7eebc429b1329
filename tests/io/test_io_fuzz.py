"""Fuzzing the loader: corrupted files end in FileFormatError (or, where the damage is
harmless, in a correct load), never in another exception, a hang or a memory blow-up.

A few hundred cases run with the normal suite; ``make fuzz`` (pytest -m fuzz) runs many
thousands. Every case is seeded, so a failure names the seed that reproduces it.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import resource
import struct
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from test_io_support import make_session, members, npz_arrays, npz_bytes, table_data, train, write_zip

from nnviz.core.data import generate
from nnviz.core.preprocess import InputPipeline
from nnviz.core.spec import LayerSpec, NetworkSpec
from nnviz.io import FileFormatError, LoadedNetwork, load_file, save_network, save_session

NORMAL_CASES = 40  # per mutator, in the normal suite (~300 cases)
FUZZ_CASES = 2500  # per mutator with -m fuzz (~18,000 cases)
#: bombs cost a few MiB of compression each to build; fewer of them say as much
CASES_SCALE = {"bombs": 0.12}
MAX_CASE_SECONDS = 5.0
MAX_RSS_GROWTH = 400 * 1024  # KiB


@dataclass(frozen=True)
class Base:
    name: str
    data: bytes
    loaded: LoadedNetwork


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> list[Base]:
    folder = tmp_path_factory.mktemp("bases")
    out = []

    def add(name: str, path: Path) -> None:
        out.append(Base(name, path.read_bytes(), load_file(path)))

    s = make_session(preprocess="whiten", dropout=0.2)
    train(s, 23)
    save_session(s, folder / "full.nnviz")
    add("full", folder / "full.nnviz")

    s = make_session(data=generate("xor", n=80, seed=2), optimizer="sgd", dtype="float32", layers=(3,))
    train(s, 4)
    save_session(s, folder / "regen.nnviz", include_data=False, include_history=False)
    add("regen", folder / "regen.nnviz")

    s = make_session(data=table_data(n=30, d=4, task="regression"), optimizer="rmsprop",
                     hyper={"lr": 0.01, "momentum": 0.5}, layers=(2, 2), activation="maxout")
    train(s, 9)
    save_session(s, folder / "regress.nnviz")
    add("regress", folder / "regress.nnviz")

    spec = NetworkSpec(3, 2, (LayerSpec(2, "relu"),), dtype="float32")
    params = [np.full(shape, 0.5, np.float32) for pair in spec.layer_shapes() for shape in pair]
    save_network(spec, params, InputPipeline("center").fit(np.eye(3)), folder / "bare.nnviz")
    add("bare", folder / "bare.nnviz")

    (folder / "spec.json").write_text(json.dumps({
        "architecture": {"input_dim": 2, "output_dim": 1, "hidden": [{"units": 2, "activation": "tanh"}],
                         "loss": "logistic"},
        "training": {"optimizer": {"name": "adam", "lr": 0.05}, "batch_size": 10, "seed": 3},
        "data": {"generator": "xor", "n": 40, "noise": 0.05, "seed": 0, "test_fraction": 0.2},
    }))
    add("spec", folder / "spec.json")
    return out


# --- mutators: (rng, base) -> (bytes, must_fail) --------------------------------------------
def flip_bits(rng: random.Random, base: Base) -> tuple[bytes, bool]:
    raw = bytearray(base.data)
    for _ in range(rng.choice([1, 1, 2, 4, 16])):
        i = rng.randrange(len(raw))
        raw[i] ^= 1 << rng.randrange(8)
    return bytes(raw), False


def truncate(rng: random.Random, base: Base) -> tuple[bytes, bool]:
    n = rng.randrange(len(base.data))
    return base.data[:n], True


def splice(rng: random.Random, base: Base) -> tuple[bytes, bool]:
    raw = bytearray(base.data)
    i = rng.randrange(len(raw))
    if rng.random() < 0.5:
        raw[i:i] = rng.randbytes(rng.randrange(1, 64))
    else:
        del raw[i:i + rng.randrange(1, 64)]
    return bytes(raw), False


_BAD_VALUES = [None, True, False, 0, -1, 1, 7, 2**31, 2**64, 2**200, 0.5, -1e308, 1e308, "", "x" * 300,
               "relu", "float16", [], {}, [1, 2, 3], [[1]], {"a": 1}, 10**6, 65536, 65537, -0.0]


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


def _mutate_json(rng: random.Random, doc):
    paths = [p for p in _paths(doc) if p]
    path = rng.choice(paths)
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    key = path[-1]
    action = rng.random()
    if action < 0.15 and isinstance(parent, dict):
        del parent[key]
    elif action < 0.25 and isinstance(parent, dict):
        parent[rng.choice(["extra", "x", "__class__", "units"])] = rng.choice(_BAD_VALUES)
    elif action < 0.35 and isinstance(parent, list):
        parent.append(rng.choice(_BAD_VALUES))
    else:
        parent[key] = rng.choice(_BAD_VALUES)
    return doc


def edit_json(rng: random.Random, base: Base) -> tuple[bytes, bool]:
    if base.name == "spec":
        doc = _mutate_json(rng, json.loads(base.data))
        return json.dumps(doc).encode(), False
    contents = members(io.BytesIO(base.data))
    name = rng.choice(["network.json", "network.json", "network.json", "manifest.json"])
    contents[name] = json.dumps(_mutate_json(rng, json.loads(contents[name]))).encode()
    out = io.BytesIO()
    write_zip(out, contents)
    return out.getvalue(), False


def _array_mutation(rng: random.Random, a: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):  # casts to narrower types overflow on purpose
        return _mutate_array(rng, a)


def _mutate_array(rng: random.Random, a: np.ndarray) -> np.ndarray:
    kind = rng.randrange(9)
    if kind == 0:
        return a.astype(rng.choice([np.int64, np.int32, np.float16, np.float32, np.float64, np.bool_,
                                    np.complex64, np.uint8]))
    if kind == 1:
        return a.reshape(-1)
    if kind == 2:
        return np.concatenate([a.reshape(-1), a.reshape(-1)])
    if kind == 3:
        return a.reshape(-1)[: max(a.size - 1, 0)]
    if kind == 4 and a.dtype.kind == "f" and a.size:
        b = a.copy()
        b.reshape(-1)[rng.randrange(a.size)] = rng.choice([np.nan, np.inf, -np.inf, 1e300])
        return b
    if kind == 5:
        return np.zeros((rng.randrange(0, 3),) * rng.randrange(0, 4))
    if kind == 6 and a.size:
        b = a.copy()
        b.reshape(-1)[rng.randrange(a.size)] = -1 if a.dtype.kind in "iu" else -5.0
        return b
    if kind == 7:
        return a.astype(a.dtype.newbyteorder(">"))
    return np.asfortranarray(a) if a.ndim == 2 else a.T


def edit_arrays(rng: random.Random, base: Base) -> tuple[bytes, bool]:
    if base.name == "spec":
        return edit_json(rng, base)
    contents = members(io.BytesIO(base.data))
    name = rng.choice([m for m in contents if m.endswith(".npz")])
    arrays = npz_arrays(contents[name])
    key = rng.choice(sorted(arrays))
    roll = rng.random()
    if roll < 0.1:
        del arrays[key]
    elif roll < 0.2:
        arrays["extra"] = np.zeros(3)
    else:
        arrays[key] = _array_mutation(rng, arrays[key])
    contents[name] = npz_bytes(**arrays)
    out = io.BytesIO()
    write_zip(out, contents)
    return out.getvalue(), False


def shuffle_members(rng: random.Random, base: Base) -> tuple[bytes, bool]:
    """Drop, add, duplicate, swap or garble whole members."""
    if base.name == "spec":
        return splice(rng, base)
    contents = members(io.BytesIO(base.data))
    names = sorted(contents)
    roll = rng.randrange(5)
    if roll == 0:
        contents.pop(rng.choice(names))
    elif roll == 1:
        contents[rng.choice(["evil.py", "../x", "weights.npy", "data.npz", "history.npz"])] = b"x"
    elif roll == 2:
        a, b = rng.sample(names, 2)
        contents[a], contents[b] = contents[b], contents[a]
    elif roll == 3:
        contents[rng.choice(names)] = rng.randbytes(rng.randrange(0, 2000))
    else:
        victim = rng.choice(names)
        contents[victim] = npz_bytes(**{"W0": np.zeros(2)}) if victim.endswith(".json") else b"{}"
    out = io.BytesIO()
    write_zip(out, contents, compression=rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    return out.getvalue(), True


def _central_entries(raw: bytes):
    pos = raw.find(b"PK\x01\x02")
    while pos != -1:
        yield pos
        pos = raw.find(b"PK\x01\x02", pos + 4)


def zip_headers(rng: random.Random, base: Base) -> tuple[bytes, bool]:
    """Lie in the ZIP structures: sizes, offsets, counts, flags, methods."""
    if base.name == "spec":
        return flip_bits(rng, base)
    raw = bytearray(base.data)
    entries = list(_central_entries(bytes(raw)))
    pos = rng.choice(entries)
    field, fmt = rng.choice([(20, "<I"), (24, "<I"), (42, "<I"), (10, "<H"), (8, "<H"), (28, "<H"),
                             (30, "<H"), (16, "<I")])
    value = rng.choice([0, 1, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFF0, 2**31, rng.randrange(2**16)])
    if fmt == "<H":
        value &= 0xFFFF
    struct.pack_into(fmt, raw, pos + field, value)
    return bytes(raw), False


def bombs(rng: random.Random, base: Base) -> tuple[bytes, bool]:
    """Members that expand hugely: declared, or genuinely compressible."""
    if base.name == "spec":
        return b'{"a":' * rng.randrange(50, 50_000) + b"1" + b"}" * 3, True
    contents = members(io.BytesIO(base.data))
    victim = rng.choice(sorted(contents))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in contents.items():
            if name != victim:
                zf.writestr(name, data)
        with zf.open(victim, "w", force_zip64=True) as f:
            f.write(data if (data := contents[victim]) else b"")
            zeros = bytes(1 << 20)
            for _ in range(rng.choice([1, 4, 16])):
                f.write(zeros)
    return out.getvalue(), True


MUTATORS: dict[str, Callable[[random.Random, Base], tuple[bytes, bool]]] = {
    "flip_bits": flip_bits,
    "truncate": truncate,
    "splice": splice,
    "edit_json": edit_json,
    "edit_arrays": edit_arrays,
    "shuffle_members": shuffle_members,
    "zip_headers": zip_headers,
    "bombs": bombs,
}


def _same_network(a: LoadedNetwork, b: LoadedNetwork) -> bool:
    return a.spec == b.spec and all(
        x.shape == y.shape for x, y in zip(a.params, b.params, strict=True)
    )


def run_cases(bases: list[Base], mutator: str, n: int, tmp_path: Path, seed0: int = 0) -> dict[str, float]:
    """Run ``n`` seeded cases; return counts and the slowest case's time."""
    fn = MUTATORS[mutator]
    path = tmp_path / "case.nnviz"
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    slowest = 0.0
    refused = loaded = 0
    for k in range(n):
        seed = seed0 + k
        rng = random.Random(f"{mutator}-{seed}")
        base = bases[seed % len(bases)]
        data, must_fail = fn(rng, base)
        path.write_bytes(data)
        t0 = time.perf_counter()
        try:
            result = load_file(path)
        except FileFormatError as exc:
            refused += 1
            assert str(exc).startswith("case.nnviz: "), (mutator, seed, str(exc))
        except Exception as exc:  # the property under test: nothing else escapes
            where = f"{mutator} seed {seed} on {base.name}"
            raise AssertionError(f"{where}: {type(exc).__name__}: {exc}") from exc
        else:
            loaded += 1
            assert not must_fail or data == base.data, f"{mutator} seed {seed} on {base.name} loaded"
            assert all(np.isfinite(p).all() for p in result.params)
            if mutator in ("flip_bits", "zip_headers") and result.kind == "network":
                # checksums guard the content: a file that still loads is the same network
                assert _same_network(result, base.loaded), (mutator, seed)
            with contextlib.suppress(FileFormatError):  # e.g. no data to train on
                result.to_session(None if result.data is not None else _data_for(result))
        slowest = max(slowest, time.perf_counter() - t0)
        assert slowest < MAX_CASE_SECONDS, f"{mutator} seed {seed} took {slowest:.1f} s"
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0
    assert growth < MAX_RSS_GROWTH, f"peak memory grew by {growth} KiB"
    return {"cases": n, "refused": refused, "loaded": loaded, "slowest_s": slowest}


def _data_for(result: LoadedNetwork):
    if result.spec.loss == "mse":
        return table_data(n=30, d=result.spec.input_dim if not result.pipeline.features else 2,
                          task="regression") if result.spec.output_dim == 1 else None
    d = 2 if result.pipeline.features else result.spec.input_dim
    return table_data(n=30, d=d, classes=2)


@pytest.mark.parametrize("mutator", sorted(MUTATORS))
def test_fuzz_quick(bases, tmp_path, mutator):
    stats = run_cases(bases, mutator, round(NORMAL_CASES * CASES_SCALE.get(mutator, 1)), tmp_path)
    assert stats["refused"] > 0 or mutator in ("flip_bits", "splice", "zip_headers")


@pytest.mark.fuzz
@pytest.mark.parametrize("mutator", sorted(MUTATORS))
def test_fuzz_long(bases, tmp_path, mutator):
    t0 = time.perf_counter()
    n = round(FUZZ_CASES * CASES_SCALE.get(mutator, 1))
    stats = run_cases(bases, mutator, n, tmp_path, seed0=1_000_000)
    print(f"\nfuzz {mutator}: {stats['cases']} cases, {stats['refused']} refused, {stats['loaded']} loaded, "
          f"slowest {stats['slowest_s'] * 1000:.0f} ms, total {time.perf_counter() - t0:.1f} s")
