"""Format version 2 made "digits" the real 8x8 digits; version-1 files, whose "digits"
were the drawn glyphs, still load those glyphs (renamed "glyphs"), bit for bit."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_io_support import edited

from nnviz.core.data import glyph_digits
from nnviz.core.session import DataConfig, Session, build_spec
from nnviz.core.trainer import TrainConfig
from nnviz.io import FORMAT_VERSION, load_file, save_session
from nnviz.io.json_spec import load_json_spec
from nnviz.io.sources import regenerate
from nnviz.io.uci_digits import N_EXAMPLES, all_digits, uci_digits


def test_the_real_digits_ship_checked_and_read_only():
    X, y = all_digits()
    assert X.shape == (N_EXAMPLES, 64) and y.shape == (N_EXAMPLES,)
    assert X.max() == 16 and np.bincount(y).min() >= 170  # about 180 of each digit
    assert not X.flags.writeable
    d = uci_digits()
    assert d.source == {"generator": "digits", "n": N_EXAMPLES, "seed": 0}
    assert np.array_equal(d.X, X) and d.feature_names[9] == "pixel 1,1"
    few = regenerate({"generator": "digits", "n": 100, "seed": 3})
    assert len(few) == 100 and np.bincount(few.y).tolist() == [10] * 10  # stratified
    assert np.array_equal(few.X, regenerate({"generator": "digits", "n": 100, "seed": 3}).X)


def test_a_damaged_install_says_so(tmp_path, monkeypatch):
    from nnviz.core.data import DataError
    from nnviz.io import uci_digits as module

    for name in (module.IMAGES, module.LABELS):
        (tmp_path / name).write_bytes((module.data_folder() / name).read_bytes()[:-1])
    monkeypatch.setattr(module, "data_folder", lambda: tmp_path)
    module.all_digits.cache_clear()
    try:
        with pytest.raises(DataError, match=r"damaged.*reinstall nnviz"):
            module.uci_digits()
    finally:
        module.all_digits.cache_clear()


@pytest.mark.parametrize("n", [3, N_EXAMPLES + 1])
def test_more_digits_than_there_are_is_refused(n):
    from nnviz.io.schema import SchemaError
    from nnviz.io.sources import check_source

    with pytest.raises(SchemaError, match=r"must be in 4\.\.1,797"):
        check_source({"generator": "digits", "n": n}, "data")


def _spec(version: int) -> bytes:
    return json.dumps({
        "format": "nnviz-spec", "format_version": version,
        "architecture": {"input_dim": 64, "output_dim": 10},
        "data": {"generator": "digits", "n": 300, "noise": 1.0, "seed": 2},
    }).encode()


def test_a_version_1_spec_naming_digits_gets_the_glyphs_it_meant(tmp_path):
    old = load_json_spec(_spec(1), tmp_path / "old.json")
    assert old.data.source["generator"] == "glyphs"
    assert np.array_equal(old.data.X, glyph_digits(300, noise=1.0, seed=2).X)


def test_a_version_2_spec_naming_digits_with_noise_is_refused(tmp_path):
    from nnviz.io import FileFormatError

    with pytest.raises(FileFormatError, match="noise"):
        load_json_spec(_spec(2), tmp_path / "new.json")


def test_a_version_1_network_file_naming_digits_loads_the_glyphs(tmp_path):
    data = glyph_digits(200, seed=5)
    config = DataConfig(test_fraction=0.2, preprocess="standardize")
    session = Session(data, config, build_spec(data, config, layers=(8,)), TrainConfig(batch_size=16, seed=0))
    session.trainer.run(5)
    path = tmp_path / "glyphs.nnviz"
    save_session(session, path, include_data=False)
    assert load_file(path).format_version == FORMAT_VERSION == 2

    def as_version_1(network):
        network["data"]["source"]["generator"] = "digits"

    def version_1(manifest):
        manifest["format_version"] = 1

    old = edited(path, tmp_path / "old.nnviz", network=as_version_1, manifest=version_1)
    loaded = load_file(old)
    assert loaded.format_version == 1 and loaded.data_info.source["generator"] == "glyphs"
    assert np.array_equal(loaded.to_session().data.X, data.X)
