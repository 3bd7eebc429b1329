"""Standardising a column that is constant in the training split (an always-blank border
pixel) must not divide by its rounding noise: a test image that lights it would get 1e8."""

from __future__ import annotations

import numpy as np
import pytest

from nnviz.core.preprocess import InputPipeline


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_constant_column_keeps_its_scale(dtype):
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(3.0, 2.0, 500), np.zeros(500), np.full(500, 7.0)]).astype(dtype)
    pipeline = InputPipeline("standardize").fit(X)
    lit = np.array([[3.0, 1.0, 8.0]], dtype=dtype)
    out = pipeline.transform(lit)
    assert np.all(np.isfinite(out))
    # the varying column is standardised as before, the constant ones only shifted
    np.testing.assert_allclose(out[0, 1:], [1.0, 1.0], rtol=1e-6)
    assert abs(out[0, 0]) < 0.2
    standardised = pipeline.transform(X)[:, 0]
    assert abs(float(standardised.std()) - 1.0) < 1e-5


def test_a_tiny_but_real_spread_is_still_standardised():
    """Only rounding noise counts as constant: a column measured in micro-units is scaled."""
    rng = np.random.default_rng(1)
    X = rng.normal(0.0, 1e-6, (400, 2))
    out = InputPipeline("standardize").fit(X).transform(X)
    np.testing.assert_allclose(out.std(axis=0), 1.0, rtol=0.02)
