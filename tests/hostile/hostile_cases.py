"""The hostile inputs: files, specs, CSVs, ONNX models, arguments, and the window opening
them. Each case is a recipe that writes its inputs into a folder of its own and names the
``nnviz`` command to run on them; ``hostile_run`` runs it in a process of its own.

Every case is deterministic (seeded), so a failure names a case that reproduces it:
``python tests/hostile/hostile_run.py --only NAME``. A case is *clean* when the program
answers with exit 0 (a correct result), exit 2 and one line on stderr (a refusal), or exit
1 and one line saying the run diverged; within 30 s, and under 2 GB peak RSS for an input
under 2 MB. ``expect="refuse"`` cases must be refused; ``expect="ok"`` ones must work.
"""

from __future__ import annotations

import io
import json
import os
import random
import struct
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EXAMPLES = ROOT / "resources" / "examples"
SECRET = b"-----BEGIN OPENSSH PRIVATE KEY----- nnviz-hostile-secret 0123456789abcdef"

Maker = Callable[[Path, Path], list[str]]  # (case folder, bases folder) -> argv


@dataclass(frozen=True)
class Case:
    group: str  # nnviz, spec, csv, onnx, args, window
    name: str
    make: Maker
    expect: str = "any"  # "refuse", "ok" or "any" (clean either way)
    window: bool = False  # argv[0] is a file for the window to open
    quick: bool = False  # part of the subset `make test` runs
    check: Callable[[Path, int], str | None] | None = None
    inputs: tuple[str, ...] = field(default=())  # names (in the folder) that count as input

    def command(self, argv: list[str]) -> list[str]:
        if self.window:
            return [sys.executable, str(HERE / "open_in_window.py"), *argv]
        return [sys.executable, "-m", "nnviz", *argv]

    def input_bytes(self, folder: Path) -> int:
        total = 0
        for p in folder.iterdir():
            if p.is_file() and not p.name.startswith("out"):
                total += p.stat().st_size
        return total


# --- bases: real files made once by nnviz itself ---------------------------------------------
def make_bases(folder: Path) -> None:
    """Trained networks, specs and an ONNX export for the mutators to start from."""
    import subprocess

    folder.mkdir(parents=True, exist_ok=True)
    for ex in EXAMPLES.glob("*"):
        (folder / ex.name).write_bytes(ex.read_bytes())
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}

    def nnviz(*args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "nnviz", *args], cwd=folder, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"nnviz {' '.join(args)} failed: {done.stderr.strip()}")

    nnviz("train", "--data", "xor", "--layers", "3", "--steps", "20", "--out", "small.nnviz", "--quiet")
    nnviz(
        "train",
        "--data",
        "moons",
        "--layers",
        "4,4",
        "--steps",
        "10",
        "--optimizer",
        "sgd",
        "--dtype",
        "float32",
        "--out",
        "sgd32.nnviz",
        "--quiet",
    )
    try:
        import onnx  # noqa: F401
    except ImportError:
        return
    nnviz("export", "small.nnviz", "small.onnx")
    nnviz("export", "xor.nnviz", "xor.onnx")
    (folder / "data.csv").write_text(
        "x1,x2,label\n" + "".join(f"{(i % 7) / 7:.3f},{(i % 5) / 5:.3f},{i % 2}\n" for i in range(60))
    )


# --- helpers ----------------------------------------------------------------------------
def _zip_members(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def _npz_arrays(raw: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(raw), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _paths(obj, prefix=()):
    if prefix:
        yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


def _set(doc, path, value):
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    parent[path[-1]] = value
    return doc


BAD_VALUES = [
    None,
    True,
    -1,
    0,
    2**31,
    2**63 - 1,
    2**64,
    10**400,
    0.5,
    -1e308,
    1e308,
    "",
    "x" * 5000,
    "relu",
    [],
    {},
    [[1]],
    {"a": 1},
    32768,
    65537,
    10**7,
    float("nan"),
    float("inf"),
]


def _json_bad(value) -> str:
    """JSON text for a hostile value (NaN, Infinity and huge ints as Python's json writes them)."""
    return json.dumps(value)


def _write(name: str, data: bytes | str) -> Callable[[Path], None]:
    def w(folder: Path) -> None:
        p = folder / name
        p.write_bytes(data.encode() if isinstance(data, str) else data)

    return w


def file_case(
    group: str, name: str, filename: str, data: Callable[[Path], bytes | str], argv: list[str], **kw
) -> Case:
    """A case that writes one file (``data(bases)``) and runs ``argv`` ({f} is the file)."""

    def make(folder: Path, bases: Path) -> list[str]:
        raw = data(bases)
        (folder / filename).write_bytes(raw.encode() if isinstance(raw, str) else raw)
        return [a.format(f=filename, bases=bases) for a in argv]

    return Case(group, name, make, **kw)


# --- .nnviz files ------------------------------------------------------------------------
NNVIZ_BASES = ("small.nnviz", "sgd32.nnviz", "xor.nnviz", "spiral.nnviz", "digits.nnviz", "regression.nnviz")


def _mutated_nnviz(base: str, seed: int, how: str) -> Callable[[Path], bytes]:
    def data(bases: Path) -> bytes:
        rng = random.Random(f"{how}-{base}-{seed}")
        raw = (bases / base).read_bytes()
        if how == "flip":
            b = bytearray(raw)
            for _ in range(rng.choice([1, 2, 8, 64])):
                i = rng.randrange(len(b))
                b[i] ^= 1 << rng.randrange(8)
            return bytes(b)
        if how == "truncate":
            return raw[: rng.randrange(len(raw))]
        members = _zip_members(raw)
        if how == "json":
            jsons = [m for m in members if m.endswith(".json")]
            m = rng.choice(jsons)
            doc = json.loads(members[m])
            path = rng.choice(list(_paths(doc)))
            members[m] = _json_bad(_set(doc, path, rng.choice(BAD_VALUES))).encode()
        elif how == "array":
            npzs = [m for m in members if m.endswith(".npz")]
            m = rng.choice(npzs)
            arrays = _npz_arrays(members[m])
            k = rng.choice(sorted(arrays))
            a = arrays[k]
            roll = rng.randrange(6)
            with np.errstate(all="ignore"):
                if roll == 0:
                    arrays[k] = np.full(a.shape, rng.choice([np.nan, np.inf, 1e308, -1e308]))
                elif roll == 1:
                    arrays[k] = np.zeros((a.size + 1,), a.dtype)
                elif roll == 2:
                    arrays[k] = a.astype(rng.choice([np.float16, np.int8, np.complex128, np.bool_]))
                elif roll == 3:
                    arrays[k] = np.zeros((0,) * max(a.ndim, 1), a.dtype)
                elif roll == 4:
                    arrays[k] = np.zeros((2, 2, 2, 2), a.dtype)
                else:
                    del arrays[k]
            members[m] = _npz(arrays)
        elif how == "members":
            names = sorted(members)
            roll = rng.randrange(4)
            if roll == 0:
                members.pop(rng.choice(names))
            elif roll == 1:
                members[rng.choice(["../evil.py", "/etc/x", "evil.pkl"])] = b"cos\nsystem\n(S'echo hi'\ntR."
            elif roll == 2:
                members[rng.choice(names)] = rng.randbytes(rng.randrange(200))
            else:
                a, b = rng.sample(names, 2)
                members[a], members[b] = members[b], members[a]
        return _zip_bytes(members)

    return data


def _nnviz_with(base: str, edit: Callable[[dict[str, bytes]], None]) -> Callable[[Path], bytes]:
    def data(bases: Path) -> bytes:
        members = _zip_members((bases / base).read_bytes())
        edit(members)
        return _zip_bytes(members)

    return data


def _edit_json_member(member: str, path: tuple, value) -> Callable[[dict[str, bytes]], None]:
    def edit(members: dict[str, bytes]) -> None:
        doc = json.loads(members[member])
        for p in _paths(doc):
            if p[-len(path) :] == path:
                _set(doc, p, value)
        members[member] = json.dumps(doc).encode()

    return edit


def _inflate_bomb(bases: Path) -> bytes:
    """A 1 MB file whose data.npz inflates to 1 GiB of zeros (an X of 67,108,864 x 2)."""
    cached = bases / "inflate-bomb.nnviz"
    if cached.is_file():
        return cached.read_bytes()
    members = _zip_members((bases / "small.nnviz").read_bytes())
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as iz:
        with iz.open("X.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(
                f, {"descr": "<f8", "fortran_order": False, "shape": (67108864, 2)}
            )
            zeros = bytes(1 << 22)
            for _ in range(256):
                f.write(zeros)
        iz.writestr("y.npy", _npy(np.zeros(67108864 // 1024, np.int64)))
    members["data.npz"] = inner.getvalue()
    raw = _zip_bytes(members, zipfile.ZIP_STORED)
    cached.write_bytes(raw)
    return raw


def _npy(a: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, a)
    return out.getvalue()


def _zip64_entry_lie(bases: Path) -> bytes:
    """A classic end record claiming 6 entries, a ZIP64 record claiming 40,000 (all listed)."""
    n = 40_000
    central = bytearray()
    for i in range(n):
        name = str(i).encode()
        central += (
            struct.pack(
                "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0, 0, 0
            )
            + name
        )
    body = b""
    cd_offset = len(body)
    eocd64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, len(central), cd_offset)
    loc = struct.pack("<IIQI", 0x07064B50, 0, cd_offset + len(central), 1)
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 6, 6, len(central), cd_offset, 0)
    return bytes(body + central + eocd64 + loc + eocd)


def nnviz_cases() -> list[Case]:
    cases = []
    cmds = [
        ["info", "{f}"],
        ["train", "{f}", "--steps", "3", "--quiet"],
        ["export", "{f}", "out.onnx"],
        ["predict", "{f}", "--data", "{bases}/data.csv"],
    ]
    for how, count in (("flip", 24), ("truncate", 16), ("json", 40), ("array", 24), ("members", 12)):
        for k in range(count):
            base = NNVIZ_BASES[k % len(NNVIZ_BASES)]
            argv = cmds[k % len(cmds)] if how in ("json", "array") else cmds[k % 2]
            if argv[0] == "predict" and base not in ("small.nnviz", "xor.nnviz"):
                argv = cmds[0]
            cases.append(
                file_case(
                    "nnviz",
                    f"nnviz-{how}-{k:02d}",
                    "case.nnviz",
                    _mutated_nnviz(base, k, how),
                    argv,
                    quick=k == 0,
                )
            )
    targeted = {
        "step-max": _nnviz_with("small.nnviz", _edit_json_member("network.json", ("step",), 2**63 - 1)),
        "epoch-max": _nnviz_with("small.nnviz", _edit_json_member("network.json", ("epoch",), 2**63 - 1)),
        "inflate-bomb": _inflate_bomb,
        "zip64-entries": _zip64_entry_lie,
        "empty": lambda b: b"",
        "not-a-zip": lambda b: b"PK\x05\x06" + b"\x00" * 18,
        "pickle": lambda b: _zip_bytes({"network.json": b"{}", "weights.npz": _npz_object()}),
    }
    for name, data in targeted.items():
        for argv in cmds[:2]:
            cases.append(file_case("nnviz", f"nnviz-{name}-{argv[0]}", "case.nnviz", data, argv, quick=True))
    return cases


def _npz_object() -> bytes:
    out = io.BytesIO()
    np.save(out, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return _zip_bytes({"W0.npy": out.getvalue()})


# --- JSON specs -----------------------------------------------------------------------------
SPEC_BASES = ("xor.json", "spiral.json", "digits.json", "regression.json")


def _spec(arch: dict, data: dict | None = None, training: dict | None = None) -> Callable[[Path], str]:
    doc = {"format": "nnviz-spec", "format_version": 1, "architecture": arch}
    if data is not None:
        doc["data"] = data
    if training is not None:
        doc["training"] = training
    return lambda _b: json.dumps(doc)


def _arch(input_dim=2, hidden=({"units": 4, "activation": "relu"},), output_dim=2, loss="softmax"):
    return {"input_dim": input_dim, "output_dim": output_dim, "hidden": list(hidden), "loss": loss}


def _mutated_spec(base: str, seed: int) -> Callable[[Path], str]:
    def data(bases: Path) -> str:
        rng = random.Random(f"spec-{base}-{seed}")
        doc = json.loads((bases / base).read_text())
        for _ in range(rng.choice([1, 1, 2])):
            path = rng.choice(list(_paths(doc)))
            doc = _set(doc, path, rng.choice(BAD_VALUES))
        return _json_bad(doc)

    return data


def spec_cases() -> list[Case]:
    cases = []
    for k in range(96):
        base = SPEC_BASES[k % len(SPEC_BASES)]
        argv = ["info", "{f}"] if k % 3 else ["train", "{f}", "--steps", "3", "--quiet"]
        cases.append(
            file_case(
                "spec", f"spec-mutated-{k:02d}", "case.json", _mutated_spec(base, k), argv, quick=k == 0
            )
        )
    big = 32768
    targeted: dict[str, Callable[[Path], str | bytes]] = {
        "input-32768": _spec(_arch(input_dim=big)),
        "hidden-32768": _spec(_arch(hidden=({"units": big, "activation": "tanh"},))),
        "output-32768": _spec(_arch(output_dim=big)),
        "input-65536": _spec(_arch(input_dim=65536, hidden=())),
        "params-over-cap": _spec(_arch(input_dim=5000, hidden=({"units": 5000, "activation": "relu"},))),
        "digits-like-huge": _spec(
            _arch(input_dim=4096, hidden=(), output_dim=4096),
            {"generator": "digits_like", "n": 1000, "n_features": 4096, "n_classes": 4096},
        ),
        "digits-like-65536-classes": _spec(
            _arch(input_dim=64, hidden=(), output_dim=65536),
            {"generator": "digits_like", "n": 100, "n_features": 64, "n_classes": 65536},
        ),
        "digits-769000": _spec(
            _arch(input_dim=64, hidden=(), output_dim=10), {"generator": "glyphs", "n": 769000}
        ),
        "checkerboard-5M": _spec(_arch(), {"generator": "checkerboard", "n": 5_000_000}),
        "checkerboard-2.5M": _spec(_arch(), {"generator": "checkerboard", "n": 2_500_000}),
        "beta2-5": _spec(
            _arch(), {"generator": "xor", "n": 100}, {"optimizer": {"name": "adam", "lr": 0.01, "beta2": 5}}
        ),
        "beta1-1": _spec(
            _arch(), {"generator": "xor", "n": 100}, {"optimizer": {"name": "adam", "lr": 0.01, "beta1": 1.0}}
        ),
        "lr-1e308": _spec(
            _arch(), {"generator": "xor", "n": 100}, {"optimizer": {"name": "sgd", "lr": 1e308}}
        ),
        "features-x3": _spec(_arch(), {"generator": "xor", "n": 100, "features": ["x3", "x1"]}),
        "deep-nesting": lambda b: "[" * 100_000 + "]" * 100_000,
        "deep-dict": lambda b: '{"a":' * 50_000 + "1" + "}" * 50_000,
        "huge-int": lambda b: '{"architecture": {"input_dim": ' + "9" * 5000 + "}}",
        "nan-literal": lambda b: (
            '{"architecture": {"input_dim": NaN, "output_dim": 2, "hidden": [], "loss": "softmax"}}'
        ),
        "infinity": lambda b: (
            '{"architecture": {"input_dim": 1e999, "output_dim": 2, "hidden": [], "loss": "softmax"}}'
        ),
        "not-utf8": lambda b: b'{"architecture": "\xff\xfe\xfa"}',
        "utf16": lambda b: json.dumps({"architecture": _arch()}).encode("utf-16"),
        "empty": lambda b: "",
        "null": lambda b: "null",
        "list": lambda b: "[1, 2, 3]",
        "whitespace-1.9MB": lambda b: " " * 1_900_000,
        "long-string": lambda b: json.dumps({"architecture": _arch(), "name": "x" * 1_900_000}),
        "many-layers": _spec(_arch(hidden=[{"units": 2, "activation": "relu"}] * 5000)),
        "init-std-1e400": lambda b: '{"architecture": {"input_dim": 2, "output_dim": 2, "hidden": [], '
                                    '"init": "normal", "init_std": 1e400}}',
        "init-std-negative": _spec({**_arch(), "init": "normal", "init_std": -1}),
        "init-std-string": _spec({**_arch(), "init": "normal", "init_std": "5"}),
        "init-std-without-normal": _spec({**_arch(), "init": "torch", "init_std": 5}),
        "duplicate-keys": lambda b: (
            '{"architecture": {"input_dim": 2, "input_dim": -5, "output_dim": 2, '
            '"hidden": [], "loss": "softmax"}}'
        ),
    }
    for name, data in targeted.items():
        cases.append(file_case("spec", f"spec-{name}-info", "case.json", data, ["info", "{f}"], quick=True))
        cases.append(
            file_case(
                "spec", f"spec-{name}-train", "case.json", data, ["train", "{f}", "--steps", "3", "--quiet"]
            )
        )
    return cases


# --- CSV ------------------------------------------------------------------------------------
def _quote_soup(seed: int, size: int = 65536) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice('"",,a\n\'') for _ in range(size))


def _table(rows: int, cols: int, label=lambda i: i % 2, value=lambda i, j: (i * 7 + j) % 11 / 11) -> str:
    head = ",".join(f"f{j}" for j in range(cols)) + ",label\n"
    return head + "".join(
        ",".join(str(value(i, j)) for j in range(cols)) + f",{label(i)}\n" for i in range(rows)
    )


def csv_cases() -> list[Case]:
    cases = []
    targeted: dict[str, Callable[[Path], str | bytes]] = {
        "quote-soup-all": lambda b: '"' * 65536,
        "values-1e308": lambda b: _table(40, 2, value=lambda i, j: (-1) ** i * 1e308),
        "values-1e200": lambda b: _table(40, 2, value=lambda i, j: (-1) ** i * 1e200 * (j + 1)),
        "values-tiny": lambda b: _table(40, 2, value=lambda i, j: 1e-308 * (i + 1)),
        "constant-column": lambda b: _table(40, 2, value=lambda i, j: 3.0),
        "nan": lambda b: _table(10, 2, value=lambda i, j: "nan" if i == 5 else 1),
        "inf": lambda b: _table(10, 2, value=lambda i, j: "inf" if i == 5 else 1),
        "1e999": lambda b: _table(10, 2, value=lambda i, j: "1e999" if i == 5 else 1),
        "ragged": lambda b: "a,b,label\n1,2,0\n1,2\n3,4,5,1\n",
        "empty": lambda b: "",
        "header-only": lambda b: "a,b,label\n",
        "one-row": lambda b: "a,b,label\n1,2,0\n",
        "one-class": lambda b: _table(30, 2, label=lambda i: 0),
        "binary": lambda b: random.Random(1).randbytes(50_000),
        "nul-bytes": lambda b: "a,b,label\n1,\x00,0\n" * 10,
        "utf16": lambda b: _table(20, 2).encode("utf-16"),
        "bom": lambda b: "\ufeff" + _table(20, 2),
        "long-line": lambda b: "a,label\n" + "1" * 1_900_000 + ",0\n",
        "wide-4000-cols": lambda b: _table(30, 4000),
        "rows-300k": lambda b: "a,b,label\n" + "0.5,0.25,1\n0.125,0.75,0\n" * 150_000,
        "labels-60-strings": lambda b: _table(600, 2, label=lambda i: f"class{i % 60}"),
        "labels-all-distinct": lambda b: _table(3000, 2, label=lambda i: f"id{i}"),
        "labels-float": lambda b: _table(50, 2, label=lambda i: i * 0.37),
        "semicolons": lambda b: "a;b;label\n" + "1;2;0\n3;4;1\n" * 20,
        "tabs": lambda b: "a\tb\tlabel\n" + "1\t2\t0\n3\t4\t1\n" * 20,
        "decimal-commas": lambda b: 'a,b,label\n"1,5","2,5",0\n"3,5","4,5",1\n' * 10,
        "quoted-newlines": lambda b: 'a,b,label\n"1\n2",3,0\n4,5,1\n' * 10,
        "hex": lambda b: "a,b,label\n0x10,0x20,0\n0x30,0x40,1\n" * 10,
        "duplicate-header": lambda b: "a,a,label\n1,2,0\n3,4,1\n" * 10,
        "huge-header": lambda b: ",".join("h" * 10_000 for _ in range(3)) + "\n1,2,0\n3,4,1\n",
        "negative-labels": lambda b: _table(20, 2, label=lambda i: -i),
        "label-2e9": lambda b: _table(20, 2, label=lambda i: 2_000_000_000 * (i % 2)),
        "crlf": lambda b: _table(20, 2).replace("\n", "\r\n"),
        "cr-only": lambda b: _table(20, 2).replace("\n", "\r"),
    }
    for k in range(12):
        targeted[f"quote-soup-{k:02d}"] = (lambda s: lambda b: _quote_soup(s))(k)
    for k in range(8):
        targeted[f"random-bytes-{k:02d}"] = (lambda s: lambda b: random.Random(s).randbytes(4000))(k)
    for name, data in targeted.items():
        quick = name in (
            "quote-soup-all",
            "values-1e308",
            "values-1e200",
            "labels-60-strings",
            "binary",
            "quote-soup-00",
            "rows-300k",
        )
        cases.append(
            file_case(
                "csv",
                f"csv-{name}-train",
                "case.csv",
                data,
                ["train", "--data", "{f}", "--steps", "5", "--quiet"],
                quick=quick,
            )
        )
        if not name.startswith(("quote-soup-0", "random-bytes")):
            cases.append(
                file_case(
                    "csv",
                    f"csv-{name}-predict",
                    "case.csv",
                    data,
                    ["predict", "{bases}/small.nnviz", "--data", "{f}"],
                )
            )
    for label in ("label", "f1", "missing", ""):
        cases.append(
            file_case(
                "csv",
                f"csv-label-{label or 'empty'}",
                "case.csv",
                lambda b: _table(20, 2),
                ["train", "--data", "{f}", "--label", label, "--steps", "3", "--quiet"],
            )
        )
    return cases


# --- ONNX -----------------------------------------------------------------------------------
def _onnx_model(nodes, inputs, outputs, inits=(), opset=17):
    from onnx import helper

    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _vi(name, shape):
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _gemm_model(w: np.ndarray, b: np.ndarray, extra_nodes=(), extra_inits=()):
    from onnx import helper, numpy_helper

    nodes = [helper.make_node("Gemm", ["x", "W", "B"], ["y"], transB=1), *extra_nodes]
    inits = [
        numpy_helper.from_array(w.astype(np.float32), "W"),
        numpy_helper.from_array(b.astype(np.float32), "B"),
        *extra_inits,
    ]
    return _onnx_model(nodes, [_vi("x", ["N", w.shape[1]])], [_vi("y", ["N", w.shape[0]])], inits)


def _external(tensor, location: str, length: int) -> None:
    from onnx import TensorProto

    tensor.ClearField("raw_data")
    tensor.ClearField("float_data")
    tensor.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", "0"), ("length", str(length))):
        e = tensor.external_data.add()
        e.key, e.value = k, v


def _secret_check(folder: Path, _code: int) -> str | None:
    for p in folder.rglob("*"):
        if p.is_file() and p.name != "secret" and SECRET[:20] in p.read_bytes():
            return f"the secret's bytes ended up in {p.name}"
        if p.is_file() and p.suffix == ".nnviz":
            with zipfile.ZipFile(p) as zf:
                for m in zf.namelist():
                    if m.endswith(".npz"):
                        for a in _npz_arrays(zf.read(m)).values():
                            if SECRET[:16] in a.tobytes():
                                return "the secret's bytes became weights"
    return None


def _onnx_constant_external(where: str) -> Callable[[Path], bytes]:
    """A model whose Constant node (or subgraph) names external data: a file beside it, or
    one outside (``../secret``); both must stay unread."""

    def data(bases: Path) -> bytes:
        from onnx import helper, numpy_helper

        t = numpy_helper.from_array(np.zeros((2, 2), np.float32), "c")
        _external(t, where, 16)
        const = helper.make_node("Constant", [], ["W"], value=t)
        bias = numpy_helper.from_array(np.zeros(2, np.float32), "B")
        gemm = helper.make_node("Gemm", ["x", "W", "B"], ["y"], transB=1)
        m = _onnx_model([const, gemm], [_vi("x", ["N", 2])], [_vi("y", ["N", 2])], [bias])
        return m.SerializeToString()

    return data


def _onnx_init_external(bases: Path) -> bytes:
    m = _gemm_model(np.ones((2, 2)), np.zeros(2))
    _external(m.graph.initializer[0], "secret", 16)
    return m.SerializeToString()


def _onnx_subgraph_external(bases: Path) -> bytes:
    from onnx import TensorProto, helper, numpy_helper

    t = numpy_helper.from_array(np.zeros((2, 2), np.float32), "c")
    _external(t, "secret", 16)
    then = helper.make_graph(
        [helper.make_node("Constant", [], ["t"], value=t)],
        "then",
        [],
        [helper.make_tensor_value_info("t", TensorProto.FLOAT, [2, 2])],
    )
    cond = numpy_helper.from_array(np.array(True), "cond")
    node = helper.make_node("If", ["cond"], ["W"], then_branch=then, else_branch=then)
    bias = numpy_helper.from_array(np.zeros(2, np.float32), "B")
    gemm = helper.make_node("Gemm", ["x", "W", "B"], ["y"], transB=1)
    return _onnx_model(
        [node, gemm], [_vi("x", ["N", 2])], [_vi("y", ["N", 2])], [cond, bias]
    ).SerializeToString()


def _onnx_fold_bomb(n: int) -> Callable[[Path], bytes]:
    def data(bases: Path) -> bytes:
        from onnx import helper, numpy_helper

        a = numpy_helper.from_array(np.ones((n, 1), np.float32), "a")
        c = numpy_helper.from_array(np.ones((1, n), np.float32), "c")
        add = helper.make_node("Add", ["a", "c"], ["W"])
        bias = numpy_helper.from_array(np.zeros(n, np.float32), "B")
        gemm = helper.make_node("Gemm", ["x", "W", "B"], ["y"], transB=1)
        return _onnx_model(
            [add, gemm], [_vi("x", ["N", n])], [_vi("y", ["N", n])], [a, c, bias]
        ).SerializeToString()

    return data


def _onnx_declared_huge(bases: Path) -> bytes:
    from onnx import TensorProto

    m = _gemm_model(np.ones((2, 2)), np.zeros(2))
    huge = TensorProto(
        name="unused", data_type=TensorProto.FLOAT, dims=[100_000, 100_000], raw_data=bytes(16)
    )
    m.graph.initializer.append(huge)
    return m.SerializeToString()


def _onnx_unused_big(bases: Path) -> bytes:
    from onnx import numpy_helper

    m = _gemm_model(np.ones((2, 2)), np.zeros(2))
    m.graph.initializer.append(numpy_helper.from_array(np.zeros((400, 1000), np.float32), "unused"))
    return m.SerializeToString()


def _onnx_mutated(seed: int, how: str) -> Callable[[Path], bytes]:
    def data(bases: Path) -> bytes:
        rng = random.Random(f"onnx-{how}-{seed}")
        raw = (bases / ("small.onnx" if seed % 2 else "xor.onnx")).read_bytes()
        if how == "truncate":
            return raw[: rng.randrange(len(raw))]
        b = bytearray(raw)
        for _ in range(rng.choice([1, 4, 16])):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b)

    return data


def onnx_cases() -> list[Case]:
    try:
        import onnx  # noqa: F401
    except ImportError:
        return []
    argv = ["import", "{f}", "out.nnviz"]

    cases = []
    for how, count in (("flip", 20), ("truncate", 12)):
        for k in range(count):
            cases.append(
                file_case(
                    "onnx", f"onnx-{how}-{k:02d}", "case.onnx", _onnx_mutated(k, how), argv, quick=k == 0
                )
            )
    targeted: dict[str, tuple[Callable[[Path], bytes], str]] = {
        "fold-bomb-30000": (_onnx_fold_bomb(30000), "refuse"),
        "fold-bomb-60000": (_onnx_fold_bomb(60000), "refuse"),
        "declared-huge-initializer": (_onnx_declared_huge, "any"),
        "unused-initializer": (_onnx_unused_big, "any"),
        "constant-external-beside": (_onnx_constant_external("secret"), "refuse"),
        "constant-external-outside": (_onnx_constant_external("../secret"), "refuse"),
        "constant-external-absolute": (_onnx_constant_external("/etc/hostname"), "refuse"),
        "initializer-external": (_onnx_init_external, "refuse"),
        "subgraph-external": (_onnx_subgraph_external, "refuse"),
        "empty": (lambda b: b"", "refuse"),
        "text": (lambda b: b"hello, not a model", "refuse"),
        "gemm-nan": (
            lambda b: _gemm_model(np.full((2, 2), np.nan), np.zeros(2)).SerializeToString(),
            "refuse",
        ),
        "opset-99": (
            lambda b: _onnx_model(
                [], [_vi("x", ["N", 2])], [_vi("x", ["N", 2])], opset=99
            ).SerializeToString(),
            "refuse",
        ),
        "no-layers": (
            lambda b: _onnx_model([], [_vi("x", ["N", 2])], [_vi("x", ["N", 2])]).SerializeToString(),
            "refuse",
        ),
        "unknown-op": (
            lambda b: _onnx_model(
                [__import__("onnx").helper.make_node("Conv", ["x", "x"], ["y"])],
                [_vi("x", ["N", 2])],
                [_vi("y", ["N", 2])],
            ).SerializeToString(),
            "refuse",
        ),
    }
    for name, (data, expect) in targeted.items():

        def make(folder: Path, bases: Path, data=data) -> list[str]:
            (folder / "secret").write_bytes(SECRET)
            (folder / "sub").mkdir(exist_ok=True)
            (folder / "sub" / "case.onnx").write_bytes(data(bases))
            return ["import", "sub/case.onnx", "out.nnviz"]

        cases.append(Case("onnx", f"onnx-{name}", make, expect=expect, quick=True, check=_secret_check))
    return cases


# --- arguments --------------------------------------------------------------------------------
ARGS: dict[str, tuple[list[str], str]] = {
    "batch-size-0": (["train", "--data", "xor", "--batch-size", "0", "--steps", "3"], "refuse"),
    "batch-size-neg": (["train", "--data", "xor", "--batch-size", "-1", "--steps", "3"], "refuse"),
    "batch-size-huge": (["train", "--data", "xor", "--batch-size", str(10**18), "--steps", "3"], "any"),
    "steps-huge": (["train", "--data", "xor", "--steps", str(10**30)], "refuse"),
    "steps-neg": (["train", "--data", "xor", "--steps", "-5"], "refuse"),
    "epochs-huge": (["train", "--data", "xor", "--epochs", str(10**20)], "refuse"),
    "lr-neg": (["train", "--data", "xor", "--lr", "-1", "--steps", "3"], "refuse"),
    "lr-nan": (["train", "--data", "xor", "--lr", "nan", "--steps", "3"], "refuse"),
    "lr-1e309": (["train", "--data", "xor", "--lr", "1e309", "--steps", "3"], "refuse"),
    "lr-1e300": (["train", "--data", "xor", "--lr", "1e300", "--steps", "50", "--quiet"], "any"),
    "momentum-2": (
        ["train", "--data", "xor", "--optimizer", "momentum", "--momentum", "-2", "--steps", "3"],
        "refuse",
    ),
    "layers-zero-width": (["train", "--data", "xor", "--layers", "4,0", "--steps", "3"], "refuse"),
    "layers-text": (["train", "--data", "xor", "--layers", "a,b"], "refuse"),
    "layers-huge": (["train", "--data", "xor", "--layers", "99999999", "--steps", "1"], "refuse"),
    "layers-many": (["train", "--data", "xor", "--layers", ",".join(["2"] * 3000), "--steps", "1"], "any"),
    "layers-32768": (["train", "--data", "xor", "--layers", "32768", "--steps", "2", "--quiet"], "any"),
    "examples-huge": (["train", "--data", "spiral", "--examples", str(10**12), "--steps", "1"], "refuse"),
    "examples-0": (["train", "--data", "spiral", "--examples", "0", "--steps", "1"], "refuse"),
    "examples-5M": (
        ["train", "--data", "checkerboard", "--examples", "5000000", "--steps", "2", "--quiet"],
        "any",
    ),
    "digits-769000": (
        ["train", "--data", "digits", "--examples", "769000", "--steps", "1", "--quiet"],
        "any",
    ),
    "noise-huge": (["train", "--data", "xor", "--noise", "1e9", "--steps", "1"], "refuse"),
    "arms-1000": (["train", "--data", "spiral", "--arms", "1000", "--steps", "1"], "refuse"),
    "test-fraction-1": (["train", "--data", "xor", "--test-fraction", "1", "--steps", "1"], "refuse"),
    "test-fraction-neg": (["train", "--data", "xor", "--test-fraction", "-0.5", "--steps", "1"], "refuse"),
    "dropout-1": (["train", "--data", "xor", "--dropout", "1", "--steps", "1"], "refuse"),
    "l2-neg": (["train", "--data", "xor", "--l2", "-1", "--steps", "1"], "refuse"),
    "seed-huge": (["train", "--data", "xor", "--seed", str(2**70), "--steps", "1"], "any"),
    "eval-every-0": (["train", "--data", "xor", "--eval-every", "0", "--steps", "3"], "any"),
    "unknown-data": (["train", "--data", "nosuchset", "--steps", "1"], "refuse"),
    "no-data": (["train", "--steps", "1"], "refuse"),
    "unknown-flag": (["train", "--data", "xor", "--frobnicate"], "refuse"),
    "bad-choice": (["train", "--data", "xor", "--activation", "swishy"], "refuse"),
    "dtype-16": (["train", "--data", "xor", "--dtype", "float16"], "refuse"),
    "out-folder": (["train", "--data", "xor", "--steps", "2", "--out", "."], "refuse"),
    "out-missing-dir": (["train", "--data", "xor", "--steps", "2", "--out", "no/such/dir/x.nnviz"], "refuse"),
    "log-folder": (["train", "--data", "xor", "--steps", "2", "--log", "."], "refuse"),
    "info-missing": (["info", "nothing.nnviz"], "refuse"),
    "info-folder": (["info", "."], "refuse"),
    "info-dev-zero": (["info", "/dev/zero"], "refuse"),
    "info-dev-null": (["info", "/dev/null"], "refuse"),
    "train-dev-zero": (["train", "--data", "/dev/zero", "--steps", "1"], "refuse"),
    "import-dev-zero": (["import", "/dev/zero", "out.nnviz"], "refuse"),
    "predict-dev-zero": (["predict", "{bases}/small.nnviz", "--data", "/dev/zero"], "refuse"),
    "export-to-folder": (["export", "{bases}/small.nnviz", "."], "refuse"),
    "no-command": (["frobnicate"], "refuse"),
    "arch-change": (["train", "{bases}/small.nnviz", "--layers", "9", "--steps", "1"], "refuse"),
    "optimizer-change": (
        ["train", "{bases}/small.nnviz", "--optimizer", "sgd", "--steps", "2", "--quiet"],
        "ok",
    ),
    "same-preprocess": (
        ["train", "{bases}/small.nnviz", "--preprocess", "none", "--steps", "2", "--quiet"],
        "ok",
    ),
    "resume": (["train", "{bases}/small.nnviz", "--steps", "2", "--quiet", "--out", "out.nnviz"], "ok"),
    "train-ok": (["train", "--data", "spiral", "--steps", "20", "--quiet", "--out", "out.nnviz"], "ok"),
    "version": (["--version"], "ok"),
}


def _fifo_case(argv: list[str], name: str) -> Case:
    def make(folder: Path, bases: Path) -> list[str]:
        os.mkfifo(folder / "pipe")
        return [a.format(bases=bases) for a in argv]

    return Case("args", f"args-fifo-{name}", make, expect="refuse", quick=True)


def args_cases() -> list[Case]:
    cases = []
    for name, (argv, expect) in ARGS.items():

        def make(folder: Path, bases: Path, argv=argv) -> list[str]:
            return [a.format(bases=bases) for a in argv]

        quick = name in (
            "batch-size-0",
            "info-dev-zero",
            "steps-huge",
            "lr-nan",
            "optimizer-change",
            "same-preprocess",
            "examples-5M",
            "digits-769000",
            "unknown-flag",
        )
        cases.append(Case("args", f"args-{name}", make, expect=expect, quick=quick))
    cases.append(_fifo_case(["info", "pipe"], "info"))
    cases.append(_fifo_case(["train", "--data", "pipe", "--steps", "1"], "csv"))
    cases.append(_fifo_case(["import", "pipe", "out.nnviz"], "onnx"))
    cases.append(_fifo_case(["predict", "{bases}/small.nnviz", "--data", "pipe"], "predict"))
    return cases


# --- the window --------------------------------------------------------------------------------
def window_cases(others: list[Case]) -> list[Case]:
    """The window opening files the other groups made: the named attacks, and a sample of
    the mutated ones."""
    chosen = {
        "spec-input-32768-info",
        "spec-hidden-32768-info",
        "spec-output-32768-info",
        "spec-input-65536-info",
        "spec-params-over-cap-info",
        "spec-digits-like-huge-info",
        "spec-digits-769000-info",
        "spec-checkerboard-5M-info",
        "spec-beta2-5-info",
        "spec-features-x3-info",
        "spec-deep-nesting-info",
        "spec-many-layers-info",
        "spec-utf16-info",
        "csv-values-1e308-train",
        "csv-values-1e200-train",
        "csv-values-tiny-train",
        "csv-constant-column-train",
        "csv-quote-soup-all-train",
        "csv-rows-300k-train",
        "csv-wide-4000-cols-train",
        "csv-labels-60-strings-train",
        "csv-labels-all-distinct-train",
        "csv-one-class-train",
        "csv-binary-train",
        "csv-long-line-train",
        "nnviz-step-max-info",
        "nnviz-epoch-max-info",
        "nnviz-inflate-bomb-info",
        "nnviz-zip64-entries-info",
        "nnviz-empty-info",
        "nnviz-pickle-info",
        "spec-digits-like-65536-classes-info",
        "spec-checkerboard-2.5M-info",
    }
    sample = [
        c
        for c in others
        if c.name.startswith(("spec-mutated-", "nnviz-json-", "nnviz-array-", "nnviz-flip-"))
    ]
    picked = [c for c in others if c.name in chosen] + sample[::4]
    quick = {
        "spec-hidden-32768-info",
        "spec-output-32768-info",
        "csv-values-1e308-train",
        "nnviz-step-max-info",
        "spec-checkerboard-5M-info",
    }
    cases = []
    for c in picked:

        def make(folder: Path, bases: Path, c=c) -> list[str]:
            argv = c.make(folder, bases)
            return [next(a for a in argv if (folder / a).is_file())]

        cases.append(Case("window", f"window-{c.name}", make, window=True, quick=c.name in quick))
    for name in ("folder", "fifo"):

        def make(folder: Path, bases: Path, name=name) -> list[str]:
            if name == "fifo":
                os.mkfifo(folder / "pipe")
                return ["pipe"]
            (folder / "sub").mkdir()
            return ["sub"]

        cases.append(Case("window", f"window-{name}", make, window=True, quick=name == "fifo"))
    return cases


def all_cases() -> list[Case]:
    others = nnviz_cases() + spec_cases() + csv_cases() + onnx_cases() + args_cases()
    cases = others + window_cases(others)
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases
