"""Hostile inputs, each in its own process under an address-space limit and a timeout:
every one answered cleanly (see ``hostile_cases``). ``make test`` runs the quick subset;
``make fuzz`` (``-m fuzz``) runs all of them, and ``make hostile`` prints the report with
counts per group and the slowest and largest cases."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hostile_cases import all_cases, make_bases
from hostile_run import run_case

CASES = all_cases()
QUICK = [c for c in CASES if c.quick]


@pytest.fixture(scope="session")
def bases(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile-bases")
    make_bases(folder)
    return folder


def _check(case, bases: Path, tmp_path: Path) -> None:
    result = run_case(case, bases, tmp_path)
    assert result.clean, (
        f"{case.name}: {result.problem} (exit {result.exit_code}, {result.wall_s:.1f} s, "
        f"{result.peak_rss / 2**20:.0f} MiB): {result.first_line}"
    )


def test_there_are_enough_cases():
    groups = {c.group for c in CASES}
    assert len(CASES) >= 500 and groups == {"nnviz", "spec", "csv", "onnx", "args", "window"}


@pytest.mark.parametrize("case", QUICK, ids=[c.name for c in QUICK])
def test_hostile_quick(case, bases, tmp_path):
    _check(case, bases, tmp_path)


@pytest.mark.fuzz
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_all(case, bases, tmp_path):
    _check(case, bases, tmp_path)
