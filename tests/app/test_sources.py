"""One data-source registry (io.sources.SOURCES): the window's list, the CLI's --data
names and the files' generator names all come from it."""

from __future__ import annotations

import numpy as np
import pytest

from nnviz.app.run_settings import DATA_SOURCES, DataSettings, make_dataset
from nnviz.core.data import BUILTIN_SETS, digits_like
from nnviz.io.schema import SchemaError
from nnviz.io.sources import (
    DIGITS_LIKE,
    GENERATORS,
    GLYPHS,
    HANDWRITTEN,
    OFFERED,
    SOURCES,
    check_source,
    generator_task,
    regenerate,
    source_size,
)


def test_names_and_offers():
    assert (*BUILTIN_SETS, HANDWRITTEN, GLYPHS, DIGITS_LIKE) == GENERATORS
    assert OFFERED == DATA_SOURCES == (*BUILTIN_SETS, HANDWRITTEN)  # glyphs, digits_like: files only
    assert all(SOURCES[n].label for n in GENERATORS)
    assert len({SOURCES[n].label for n in GENERATORS}) == len(GENERATORS)


@pytest.mark.parametrize("name", GENERATORS)
def test_each_source_makes_what_it_declares(name):
    info = SOURCES[name]
    recipe = {"generator": name, "n": 40, "seed": 3}
    check_source(recipe, "data")
    data = regenerate(recipe)
    assert data.task == info.task == generator_task(recipe)
    assert data.n_features == info.n_features == source_size(recipe)[1]
    assert set(data.source) - {"generator"} <= set(info.params)
    with pytest.raises(SchemaError):
        check_source({**recipe, "unknown": 1}, "data")


def test_digits_like_files_load_the_same_data():
    recipe = {"generator": "digits_like", "n": 60, "n_features": 16, "n_classes": 4, "seed": 2}
    a, b = regenerate(check_source(recipe, "data")), digits_like(n=60, n_features=16, n_classes=4, seed=2)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert source_size(recipe) == (60, 16)


def test_window_settings_use_the_registry():
    for name in OFFERED:
        s = DataSettings(source=name, n=40)
        assert s.task == SOURCES[name].task and s.is_2d == SOURCES[name].is_2d
        assert make_dataset(s, None).task == s.task


def test_cli_takes_every_offered_source(tmp_path):
    from nnviz.cli import main

    for name in ("digits", "plane"):
        out = tmp_path / f"{name}.nnviz"
        assert main(["train", "--data", name, "--examples", "40", "--steps", "2", "--quiet",
                     "--out", str(out)]) == 0
        assert out.exists()
