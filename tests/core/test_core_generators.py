"""Generated data sets: one memory and time budget, checked before anything is allocated."""

import json
import tracemalloc

import numpy as np
import pytest

from nnviz.core import data, glyphs
from nnviz.core.data import (
    BUILTIN_SETS,
    GENERATE_BYTES,
    DataError,
    check_generation,
    digits_like,
    generate,
    generation_cost,
    glyph_digits,
    max_examples,
)
from nnviz.io.errors import FileFormatError
from nnviz.io.json_spec import load_json_spec

ALL = (*BUILTIN_SETS, "glyphs", "digits_like")


def _make(gen: str, n: int, **kw):
    if gen == "glyphs":
        return glyph_digits(n)
    if gen == "digits_like":
        return digits_like(n, **kw)
    return generate(gen, n)


@pytest.mark.parametrize("gen", ALL)
def test_the_largest_accepted_request_is_the_edge_of_the_rule(gen):
    most = max_examples(gen)
    assert most >= 2000  # the shipped examples and the window's defaults fit with room
    check_generation(gen, most)
    assert generation_cost(gen, most).fits()
    with pytest.raises(DataError, match=f"at most {most:,} examples fit"):
        check_generation(gen, most + 1)


@pytest.mark.parametrize("gen", ALL)
def test_the_cost_covers_what_the_generator_allocates(gen):
    n = 20_000
    cost = generation_cost(gen, n)
    consumers = data._consumer_bytes(n, 64 if gen in ("glyphs", "digits_like") else 2)
    _make(gen, 10)  # lazy imports and first-call caches are not the generator's arrays
    tracemalloc.start()
    try:
        made = _make(gen, n)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(made) == n
    assert peak <= cost.bytes - consumers, f"{gen}: {peak:,} bytes, costed {cost.bytes - consumers:,}"


@pytest.mark.parametrize(
    "call",
    [
        lambda: digits_like(2000, n_features=65_536, n_classes=65_536),  # two 34 GB arrays
        lambda: digits_like(60_000, n_features=4096, n_classes=4096),
        lambda: glyph_digits(769_000),
        lambda: generate("checkerboard", 5_000_000),
    ],
)
def test_huge_requests_are_refused_before_allocating(call):
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"limit is 1\.0 GB"):
            call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_bad_counts_and_noise_are_refused():
    for bad in (3, 0, -5, 2.5, True):
        with pytest.raises(DataError):
            check_generation("xor", bad)
    with pytest.raises(DataError, match="noise"):
        generate("xor", 100, noise=11)
    with pytest.raises(DataError, match="classes"):
        digits_like(100, n_classes=1)


def test_budget_counts_consumers_and_time():
    # the window draws at most MAX_DRAWN_POINTS points; the copies of every row remain
    n = max_examples("checkerboard")
    cost = data.generation_cost
    assert cost("checkerboard", n).fits() and not cost("checkerboard", n + 1).fits()
    assert data._consumer_bytes(n, 2) < GENERATE_BYTES
    assert data._consumer_bytes(10 * n, 2) - data._consumer_bytes(n, 2) == 9 * n * data.ROW_COPIES * 8 * 3
    assert data._consumer_bytes(100, 2) == 100 * (data.ROW_COPIES * 8 * 3 + data.WINDOW_BYTES_PER_EXAMPLE)
    assert max_examples("glyphs") * data._DIGIT_SECONDS <= data.GENERATE_SECONDS


def test_digits_render_in_chunks_with_the_same_images(monkeypatch):
    chunked = glyphs.digit_images(700, noise=1.3, seed=4)
    monkeypatch.setattr(glyphs, "RENDER_CHUNK", 10_000)
    whole = glyphs.digit_images(700, noise=1.3, seed=4)
    assert np.array_equal(chunked[0], whole[0]) and np.array_equal(chunked[1], whole[1])


def test_digits_like_keeps_its_classes_in_its_recipe():
    d = digits_like(50, n_features=5, n_classes=3, seed=2)
    assert d.source["n_classes"] == 3


def test_a_tiny_spec_asking_for_gigabytes_is_one_clear_error(tmp_path):
    spec = {"format": "nnviz-spec", "architecture": {"input_dim": 4096, "output_dim": 4096},
            "data": {"generator": "digits_like", "n": 60000, "n_features": 4096, "n_classes": 4096}}
    raw = json.dumps(spec).encode()
    assert len(raw) < 300
    with pytest.raises(FileFormatError, match=r"limit is 1\.0 GB") as info:
        load_json_spec(raw, tmp_path / "big.json")
    assert "\n" not in str(info.value)
    spec["data"] = {"generator": "glyphs", "n": 769_000}
    spec["architecture"] = {"input_dim": 64, "output_dim": 10}
    with pytest.raises(FileFormatError, match="at most 50,000 examples fit"):
        load_json_spec(json.dumps(spec).encode(), tmp_path / "digits.json")
