"""The shipped example networks load, do their job, and match their JSON specs; and the
file layer never imports Qt."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from nnviz.io import load_file
from nnviz.io.make_examples import EXAMPLES, MAX_EXAMPLE_BYTES, main, spec_text

EXAMPLE_DIR = Path(__file__).resolve().parents[1] / "resources" / "examples"
BY_NAME = {e.name: e for e in EXAMPLES}


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


def test_examples_are_made_deterministically(tmp_path, capsys):
    assert main([str(tmp_path), "--only", "xor"]) == 0
    assert "xor.nnviz" in capsys.readouterr().out
    made, shipped = zipfile.ZipFile(tmp_path / "xor.nnviz"), zipfile.ZipFile(EXAMPLE_DIR / "xor.nnviz")
    for member in shipped.namelist():
        if member != "manifest.json":  # holds the creation time
            assert made.read(member) == shipped.read(member), member


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
                            cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_documented_reader_works():
    """docs/file-format.md shows how to read weights with zipfile and NumPy alone."""
    root = Path(__file__).resolve().parents[1]
    doc = (root / "docs" / "file-format.md").read_text(encoding="utf-8")
    section = doc.split("### Reading the weights without nnviz", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert result.returncode == 0, result.stderr
    values = [float(v) for v in result.stdout.replace("[", " ").replace("]", " ").split()]
    assert len(values) == 4 and values[0] < 0.1 < 0.9 < values[1] and values[2] > 0.9 > 0.1 > values[3]
