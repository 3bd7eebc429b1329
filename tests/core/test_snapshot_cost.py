"""The cheap forms behind a snapshot and a step give the numbers of the plain forms:
histograms on a sample (one pass for counts and the re-binning check), norms as BLAS dot
products in the array's own dtype, minibatches gathered into kept arrays."""

from __future__ import annotations

import numpy as np
import pytest

from nnviz.core import stats
from nnviz.core.network import Network
from nnviz.core.optim import OptimizerConfig
from nnviz.core.spec import LayerSpec, NetworkSpec
from nnviz.core.trainer import TrainConfig, Trainer


def _reference_histogram(values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, float]:
    """The form the histograms had before (nan_to_num, clip, one comparison pass for the
    values off the ends), applied to the same sample."""
    v = stats.sample(values)
    n = v.size
    lo, hi = float(edges[0]), float(edges[-1])
    bins = len(edges) - 1
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.nan_to_num((v - lo) * (bins / (hi - lo)), nan=0.0, posinf=bins, neginf=0.0)
    np.clip(scaled, 0, bins - 1, out=scaled)
    outside = int(np.count_nonzero((v < lo) | (v > hi))) if n else 0
    return np.bincount(scaled.astype(np.int64), minlength=bins), outside / n if n else 0.0


def _cases(dtype):
    rng = np.random.default_rng(1)
    edges = np.linspace(-2.0, 2.0, stats.HIST_BINS + 1)
    inside = rng.uniform(-1.9, 1.9, 5000)
    on_edges = np.concatenate([edges, edges[:-1] + 1e-12, inside[:100]])
    wide = rng.normal(0, 3, 7000)
    bad = np.concatenate([inside[:500], [np.nan, np.inf, -np.inf, 1e300, -1e300, np.nan]])
    big2d = rng.normal(0, 0.5, (700, 90))  # above the sample size: rows kept
    huge1d = rng.normal(0, 0.5, 100_000)
    return edges, [inside, on_edges, wide, bad, big2d, huge1d, np.array([])]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_histogram_counts_as_the_plain_binning(dtype):
    edges, cases = _cases(dtype)
    for values in cases:
        with np.errstate(over="ignore"):
            v = values.astype(dtype)
        e = edges.astype(np.float64)
        h = stats.histogram(v, e)
        counts, outside = _reference_histogram(v, e)
        assert np.array_equal(h.counts, counts) and h.counts.dtype == np.int64
        assert h.clipped == outside
        assert h.counts.sum() == stats.sample(v).size
        assert not h.counts.flags.writeable and not h.edges.flags.writeable


def test_float32_values_near_its_limit_bin_as_before_without_warnings():
    """A diverging float32 run: values near 3.4e38, bins chosen from them reach 1e39, past
    float32's range (the comparisons and the arithmetic must neither warn nor crash)."""
    import warnings

    v = np.array([3e38, -3e38, 1e38, 0.0, np.nan, 2.5], np.float32)
    edges = stats.choose_edges(v)
    assert edges[-1] > np.finfo(np.float32).max
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hist, outgrown = stats.checked_histogram(v, edges)
        assert outgrown == stats.edges_outgrown(edges, v)
    with np.errstate(over="ignore", invalid="ignore"):
        counts, outside = _reference_histogram(v, edges)
    assert np.array_equal(hist.counts, counts) and hist.clipped == outside


def test_checked_histogram_agrees_with_edges_outgrown():
    rng = np.random.default_rng(2)
    edges = stats.choose_edges(rng.normal(0, 1, 1000))
    for scale in (0.001, 0.05, 0.3, 1.0, 1.3, 3.0, 20.0):
        for dtype in (np.float32, np.float64):
            for extra in ([], [np.nan], [np.inf, -np.inf], [np.nan] * 2000):
                v = np.concatenate([rng.normal(0, scale, 3000), extra]).astype(dtype)
                hist, outgrown = stats.checked_histogram(v, edges)
                assert outgrown == stats.edges_outgrown(edges, v), (scale, dtype, extra[:1])
                assert np.array_equal(hist.counts, stats.histogram(v, edges).counts)
    only_nan = np.full(10, np.nan)
    assert stats.checked_histogram(only_nan, edges)[1] is False


def test_sample_keeps_whole_rows_of_a_matrix_and_every_kth_value_otherwise():
    m = np.arange(784 * 256, dtype=np.float64).reshape(784, 256)
    s = stats.sample(m)
    assert s.size <= stats.HIST_SAMPLE and s.flags.c_contiguous
    cols = np.unique(s.astype(np.int64) % 256)
    assert cols.size == 256  # every unit is in the sample
    rows = np.unique(s.astype(np.int64) // 256)
    assert rows[0] == 0 and rows.size * 256 == s.size and np.all(np.diff(rows) == rows[1] - rows[0])
    flat = np.arange(100_000.0)
    sf = stats.sample(flat)
    assert sf.size <= stats.HIST_SAMPLE and np.all(np.diff(sf) == sf[1] - sf[0])
    wide = np.zeros((3, stats.HIST_SAMPLE + 1))  # rows wider than the sample: single values
    assert stats.sample(wide).size <= stats.HIST_SAMPLE
    small = np.ones((10, 10))
    assert stats.sample(small).size == 100


def _norm64(a) -> float:
    return float(np.sqrt(np.sum(np.square(np.asarray(a), dtype=np.float64))))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_norm_is_the_float64_norm_within_the_dtype_rounding(dtype):
    rng = np.random.default_rng(3)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for a in (rng.normal(0, 0.05, (784, 256)), rng.normal(0, 1, 1000), rng.normal(0, 1, (5, 7))[:, ::2],
              np.array([3.0, 4.0])):
        a = a.astype(dtype)
        assert stats.norm(a) == pytest.approx(_norm64(a), rel=rtol)
    assert stats.norm(np.zeros(5, dtype)) == 0.0
    assert stats.norm(np.zeros(0, dtype)) == 0.0


def test_a_float32_norm_that_would_overflow_or_underflow_is_taken_in_float64():
    big = np.full(1000, 1e20, np.float32)  # squares overflow float32
    tiny = np.full(1000, 1e-25, np.float32)  # squares underflow float32
    mixed = np.array([1e-25, 0.0, 2e-25], np.float32)
    for a in (big, tiny, mixed):
        assert stats.norm(a) == pytest.approx(_norm64(a), rel=1e-6)
        assert stats.norm(a) > 0
    assert np.isnan(stats.norm(np.array([1.0, np.nan], np.float32)))
    assert stats.norm(np.array([1.0, np.inf], np.float32)) == np.inf
    assert np.isnan(stats.norm(np.array([1.0, np.nan])))
    assert stats.norm(np.array([1.0, np.inf])) == np.inf
    assert stats.norm(np.array([3, 4])) == 5.0  # integers: the float64 form
    assert stats.norm(np.array([3, 4], np.float16)) == 5.0


def _mnist_like_trainer(dtype: str, batch: int = 128, n: int = 600, seed: int = 0) -> Trainer:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 784)).astype(dtype)
    y = rng.integers(0, 10, n)
    spec = NetworkSpec(784, 10, (LayerSpec(64, "relu"), LayerSpec(32, "relu")), loss="softmax", dtype=dtype)
    cfg = TrainConfig(OptimizerConfig("adam", {"lr": 0.001}), batch_size=batch, seed=seed)
    return Trainer(Network.initialised(spec, 0), cfg, X, y)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gathered_minibatches_train_as_the_preshuffled_and_the_plain_ones(dtype, monkeypatch):
    """Batches over the preshuffle size are gathered into kept arrays: the same examples
    in the same order as a preshuffled epoch or a fresh gather, the same bits, and a
    resume from a state taken mid-epoch is exact."""
    import nnviz.core.trainer as trainer_module

    def run() -> tuple[list, np.ndarray, np.ndarray]:
        t = _mnist_like_trainer(dtype)
        recs = [tuple(t.step()) for _ in range(7)]  # 600 / 128: across an epoch's end
        state = t.get_state()
        recs += [tuple(t.step()) for _ in range(5)]
        t.update_config(batch_size=50)
        recs += [tuple(t.step()) for _ in range(5)]
        resumed = _mnist_like_trainer(dtype)
        resumed.set_state(state)
        for _ in range(5):
            resumed.step()
        resumed.update_config(batch_size=50)
        for _ in range(5):
            resumed.step()
        return recs, t.network.flat.copy(), resumed.network.flat.copy()

    monkeypatch.setattr(trainer_module, "PRESHUFFLE_BATCH_BYTES", 0)  # gathered
    gathered = run()
    monkeypatch.setattr(trainer_module, "PRESHUFFLE_BATCH_BYTES", 1 << 40)  # preshuffled
    preshuffled = run()
    monkeypatch.setattr(trainer_module, "PRESHUFFLE_BATCH_BYTES", 0)
    monkeypatch.setattr(trainer_module, "WORKSPACE_BYTES", 0)  # fresh arrays each step
    plain = run()
    for other in (preshuffled, plain):
        assert gathered[0] == other[0]
        assert np.array_equal(gathered[1], other[1])
    for r in (gathered, preshuffled, plain):
        assert np.array_equal(r[1], r[2])  # resumed exactly


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_snapshot_of_a_big_network_measures_what_the_plain_formulas_give(dtype):
    t = _mnist_like_trainer(dtype)
    for _ in range(3):
        t.step()
    before = [p.copy() for p in t.network.params[0::2]]
    t.step(snapshot=True)
    snap = t.last_snapshot
    net = t.network
    rtol = 1e-4 if dtype == "float32" else 1e-10
    for i, lay in enumerate(snap.layers):
        W = net.params[2 * i]
        assert lay.weight_norm == pytest.approx(_norm64(W), rel=rtol)
        expected = _norm64(W.astype(np.float64) - before[i]) / _norm64(before[i])
        assert lay.update_ratio == pytest.approx(expected, rel=1e-3 if dtype == "float32" else 1e-8)
        for h in lay.histograms.values():
            assert h.counts.sum() > 0 and not h.counts.flags.writeable
    assert all(not p.flags.writeable for p in snap.params)
    assert all(np.array_equal(p, q) for p, q in zip(snap.params, net.params, strict=True))
    assert snap.params[0] is not net.params[0] and not np.shares_memory(snap.params[0], net.params[0])
