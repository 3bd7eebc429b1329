"""An image set is a data set like any other: a session trains on it."""

from __future__ import annotations

import numpy as np
from imgdata_fixtures import idx_bytes, write_idx_folder

from nnviz.core.optim import OptimizerConfig, Schedule
from nnviz.core.session import DataConfig, Session, build_spec
from nnviz.core.trainer import TrainConfig
from nnviz.io.images import load_image_data


def test_a_session_learns_tiny_idx_images(tmp_path):
    x, y = write_idx_folder(tmp_path / "m", n_train=60, n_test=30)
    # make the classes separable: class k is bright in row k
    for i, label in enumerate(y):
        x[i] //= 4
        x[i, label] = 255
    (tmp_path / "m" / "train-images-idx3-ubyte").write_bytes(idx_bytes(x[:60]))
    (tmp_path / "m" / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(x[60:]))
    data = load_image_data(tmp_path / "m").dataset
    dc = DataConfig(test_fraction=0.2, preprocess="standardize")
    spec = build_spec(data, dc, layers=[8], activation="relu")
    session = Session(data, dc, spec, TrainConfig(OptimizerConfig("adam", {"lr": 0.01}), Schedule(),
                                                  batch_size=10))
    session.trainer.run(300)
    t = session.trainer
    accuracy = session.network.loss.accuracy(session.network.scores(t.X), t.y)
    assert spec.input_dim == 16 and spec.output_dim == 3
    assert accuracy > 0.9
    assert np.isfinite(session.history.steps.array()).all()
