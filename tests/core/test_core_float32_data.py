"""Image data is held in float32 end to end: the data set, the input pipeline and a
float32 trainer make no float64 copy (what lets most of MNIST fit the memory budget),
and the figures agree with the float64 path within float32's precision."""

from __future__ import annotations

import numpy as np
import pytest

from nnviz.core.data import Dataset, input_table
from nnviz.core.preprocess import InputPipeline
from nnviz.core.session import DataConfig, Session, build_spec
from nnviz.core.trainer import TrainConfig


def _pixels(n=600, d=49, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, (n, d)) / 255.0
    return X.astype(np.float32), (np.arange(n) % 3).astype(np.int64)


def test_a_data_set_keeps_float32_and_makes_the_rest_float64():
    X32, y = _pixels()
    assert Dataset(X32, y).X.dtype == np.float32
    assert Dataset(X32, y).subset(np.arange(10)).X.dtype == np.float32
    assert Dataset(X32.astype(np.float16), y).X.dtype == np.float64
    assert Dataset(np.arange(12).reshape(6, 2), np.zeros(6, np.int64)).X.dtype == np.float64
    assert input_table([[1, 2]]).dtype == np.float64


@pytest.mark.parametrize("method", ["center", "standardize", "pca", "whiten"])
def test_the_pipeline_fits_float32_in_float64_blocks_and_transforms_in_float32(method, monkeypatch):
    import nnviz.core.preprocess as pre

    X32, _ = _pixels(n=1000)
    exact = InputPipeline(method).fit(X32.astype(np.float64))
    monkeypatch.setattr(pre, "_FIT_ROWS", 64)  # many blocks
    blocks = InputPipeline(method).fit(X32)
    assert np.allclose(blocks.mean, exact.mean, rtol=0, atol=1e-9)
    assert np.allclose(blocks.matrix, exact.matrix, rtol=1e-6, atol=1e-6)
    out = blocks.transform(X32)
    assert out.dtype == np.float32
    assert np.allclose(out, exact.transform(X32.astype(np.float64)), rtol=0, atol=1e-4)


@pytest.mark.parametrize("method", ["center", "standardize"])
def test_a_diagonal_pipeline_scales_columns_as_its_matrix_product_would(method):
    rng = np.random.default_rng(1)
    X = rng.normal(2, 3, (300, 7))
    p = InputPipeline(method).fit(X)
    assert np.array_equal(p.transform(X), (X - p.mean) @ p.matrix)


def test_a_float32_session_on_float32_data_trains_without_a_float64_copy():
    X32, y = _pixels(n=400)
    data = Dataset(X32, y, name="pixels")
    config = DataConfig(test_fraction=0.25, preprocess="standardize")
    spec = build_spec(data, config, layers=(16,), dtype="float32")
    s = Session(data, config, spec, TrainConfig(batch_size=32, seed=0))
    assert s.trainer.X.dtype == np.float32 and s.trainer.X_test.dtype == np.float32
    s.trainer.run(200)
    snap = s.trainer.snapshot()
    assert np.isfinite(snap.train_loss)

    wide = Session(Dataset(X32.astype(np.float64), y), config, build_spec(data, config, layers=(16,),
                   dtype="float32"), TrainConfig(batch_size=32, seed=0))
    wide.trainer.run(200)
    assert abs(wide.trainer.snapshot().train_loss - snap.train_loss) < 1e-3
