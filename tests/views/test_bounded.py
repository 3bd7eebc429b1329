"""The bounds every view draws within: image sides, point samples, finite ranges."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnviz.gui.views.bounded import (
    MAX_COORD,
    MAX_IMAGE_SIDE,
    MIN_SPAN,
    block_starts,
    finite_range,
    padded_range,
    shrink_mean,
    shrink_share,
    shrink_signed,
    subsample,
)

pytestmark = pytest.mark.filterwarnings("error")

BIG = np.finfo(np.float64).max


@pytest.mark.parametrize("n", [1, 5, 1023, 1024, 1025, 65_536, 65_537])
def test_blocks_cover_every_index_once(n):
    starts = block_starts(n, MAX_IMAGE_SIDE)
    assert starts[0] == 0 and len(starts) <= MAX_IMAGE_SIDE
    assert np.all(np.diff(np.append(starts, n)) > 0)
    assert len(starts) == min(n, MAX_IMAGE_SIDE) or n > MAX_IMAGE_SIDE


@pytest.mark.parametrize("shape", [(65_536, 305), (305, 65_537), (4, 65_536), (1025, 1025)])
def test_shrink_signed_keeps_each_blocks_strongest_value_and_its_sign(shape):
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, shape)
    a[shape[0] // 3, shape[1] // 2] = -50.0
    a[-1, -1] = 40.0  # in the last, shorter block
    out = shrink_signed(a)
    assert out.shape[0] <= MAX_IMAGE_SIDE and out.shape[1] <= MAX_IMAGE_SIDE
    assert out.min() == -50.0 and out.max() == 40.0
    assert out[-1, -1] == 40.0
    # every block shows a value of the largest magnitude in it
    r = block_starts(shape[0], MAX_IMAGE_SIDE)
    c = block_starts(shape[1], MAX_IMAGE_SIDE)
    i, j = len(r) // 2, len(c) // 2
    block = a[r[i]:r[i + 1], c[j]:c[j + 1]]
    assert abs(out[i, j]) == np.abs(block).max() and out[i, j] in block


def test_shrink_signed_leaves_small_arrays_and_copes_with_extremes():
    a = np.arange(6.0).reshape(2, 3)
    assert shrink_signed(a) is a
    w = np.full((3000, 2), 1.0)
    w[0, 0], w[1, 0], w[2, 1] = BIG, -BIG, np.nan
    out = shrink_signed(w)
    assert out.shape == (1000, 2)
    assert abs(out[0, 0]) == BIG and np.isnan(out[0, 1]) and out[5, 1] == 1.0


def test_shrink_mean_and_share():
    v = np.arange(4096.0)
    m = shrink_mean(v)
    assert m.shape == (1024,) and m[0] == pytest.approx(1.5) and m.mean() == pytest.approx(v.mean())
    huge = shrink_mean(np.full(5000, BIG))
    assert np.all(np.isfinite(huge)) and huge[0] == pytest.approx(BIG)
    f = np.zeros(4096, bool)
    f[:3] = True  # three of the first block of four
    f[4] = True  # one of the second
    s = shrink_share(f)
    assert s.shape == (1024,) and s[0] and not s[1] and s.sum() == 1


def test_subsample_is_seeded_sorted_and_bounded():
    assert subsample(100, 1000) is None
    a = subsample(5_000_000, 20_000)
    assert len(a) == 20_000 and np.all(np.diff(a) > 0) and a[-1] < 5_000_000
    assert np.array_equal(a, subsample(5_000_000, 20_000))


@pytest.mark.parametrize(("lo", "hi"), [
    (-BIG, BIG), (BIG, BIG), (-BIG, -BIG), (1e-308, 1e-308), (-1e-308, 1e-308), (0.0, 0.0),
    (5e-324, 5e-324), (-BIG, 1e-308), (3.0, 3.0), (1e300, -1e300), (math.inf, 2.0), (-math.inf, math.inf),
    (math.nan, math.nan), (math.nan, 1.0), (2**63 - 1, 2**63 - 1), (1e16, 1e16 + 2),
])
def test_finite_range_is_finite_ordered_and_drawable(lo, hi):
    for a, b in (finite_range(lo, hi), padded_range(lo, hi, 0.02)):
        assert math.isfinite(a) and math.isfinite(b) and a < b
        assert a >= -MAX_COORD and b <= MAX_COORD
        assert math.isfinite(b - a) and b - a >= MIN_SPAN * 0.99


def test_finite_range_leaves_ordinary_ranges_as_they_are():
    assert finite_range(0.25, 0.75) == (0.25, 0.75)
    assert finite_range(-3, 10) == (-3.0, 10.0)
    assert finite_range(math.nan, math.inf) == (0.0, 1.0)
    lo, hi = padded_range(0.0, 10.0, 0.1)
    assert lo == pytest.approx(-1.0) and hi == pytest.approx(11.0)
