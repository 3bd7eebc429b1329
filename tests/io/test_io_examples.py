"""The shipped example networks load, do their job, and match their JSON specs; and the
file layer never imports Qt."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nnviz.io import load_file
from nnviz.io.make_examples import EXAMPLES, MAX_EXAMPLE_BYTES, main, spec_text

EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "resources" / "examples"
BY_NAME = {e.name: e for e in EXAMPLES}
#: how far trained numbers may drift between CPUs, relative to the array's largest value
#: (measured between this project's machines: ~1e-11 in float64, ~1e-6 in float32)
NOISE = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-3}


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_example_files_do_their_job(name):
    example = BY_NAME[name]
    path = EXAMPLE_DIR / f"{name}.nnviz"
    assert path.stat().st_size < MAX_EXAMPLE_BYTES
    loaded = load_file(path)
    assert loaded.trainer_state["step"] == example.steps
    assert loaded.history is not None and loaded.history.steps.size == example.steps
    session = loaded.to_session()
    assert example.check(session) is None
    spec = load_file(EXAMPLE_DIR / f"{name}.json")
    assert spec.spec == loaded.spec
    assert spec.train_config == loaded.train_config and spec.data_config == loaded.data_config
    assert spec.data.X.tobytes() == loaded.data.X.tobytes()


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_json_specs_match_the_script(name):
    text = (EXAMPLE_DIR / f"{name}.json").read_text(encoding="utf-8")
    assert text == spec_text(BY_NAME[name])
    assert json.loads(text)["format"] == "nnviz-spec"


def _members(path: Path) -> dict[str, bytes]:
    """Every member but the manifest, which holds the creation time."""
    with zipfile.ZipFile(path) as zf:
        return {m: zf.read(m) for m in zf.namelist() if m != "manifest.json"}


def _arrays(raw: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def test_examples_are_made_deterministically(tmp_path, capsys):
    """Same machine, same bits: making the examples twice gives identical files."""
    assert main([str(tmp_path / "a")]) == 0
    assert "xor.nnviz" in capsys.readouterr().out
    assert main([str(tmp_path / "b")]) == 0
    for name in BY_NAME:
        assert _members(tmp_path / "a" / f"{name}.nnviz") == _members(tmp_path / "b" / f"{name}.nnviz"), name


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_made_examples_match_the_shipped_ones(name, tmp_path):
    """Made here, an example equals the shipped file up to floating-point noise: its trained
    numbers differ from another CPU's or BLAS's in the last bits (measured: ~1e-11 relative
    after 4,000 Adam steps on AMD vs the shipping machine), never in structure or settings."""
    assert main([str(tmp_path), "--only", name]) == 0
    made, shipped = _members(tmp_path / f"{name}.nnviz"), _members(EXAMPLE_DIR / f"{name}.nnviz")
    assert made.keys() == shipped.keys()
    for member, raw in shipped.items():
        if not member.endswith(".npz"):
            assert made[member] == raw, member  # JSON: architecture, settings, counters
            continue
        ours, theirs = _arrays(made[member]), _arrays(raw)
        assert ours.keys() == theirs.keys(), member
        for key, want in theirs.items():
            got = ours[key]
            assert got.dtype == want.dtype and got.shape == want.shape, f"{member}/{key}"
            if want.dtype.kind != "f":
                assert np.array_equal(got, want), f"{member}/{key}"
            elif want.size:
                assert np.array_equal(np.isnan(got), np.isnan(want)), f"{member}/{key}"
                scale = max(float(np.nanmax(np.abs(want), initial=0.0)), 1e-300)
                tol = NOISE[want.dtype] * scale
                assert np.nanmax(np.abs(got - want), initial=0.0) <= tol, f"{member}/{key}"
    assert BY_NAME[name].check(load_file(tmp_path / f"{name}.nnviz").to_session()) is None


def test_an_unsolved_example_is_reported(tmp_path, monkeypatch, capsys):
    from nnviz.io import make_examples

    broken = make_examples.Example("xor", BY_NAME["xor"].spec, steps=1, check=BY_NAME["xor"].check)
    monkeypatch.setattr(make_examples, "EXAMPLES", [broken])
    assert main([str(tmp_path)]) == 1
    assert "XOR not solved" in capsys.readouterr().err
    assert not (tmp_path / "xor.nnviz").exists()


def test_io_never_imports_qt():
    code = ("import sys, nnviz.io, nnviz.io.make_examples; "
            "bad = [m for m in sys.modules if m.startswith(('PySide', 'PyQt', 'pyqtgraph'))]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_documented_reader_works():
    """docs/file-format.md shows how to read weights with zipfile and NumPy alone."""
    root = Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "file-format.md").read_text(encoding="utf-8")
    section = doc.split("### Reading the weights without nnviz", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert result.returncode == 0, result.stderr
    values = [float(v) for v in result.stdout.replace("[", " ").replace("]", " ").split()]
    assert len(values) == 4 and values[0] < 0.1 < 0.9 < values[1] and values[2] > 0.9 > 0.1 > values[3]
