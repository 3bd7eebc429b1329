"""Hand-written JSON network specs: an architecture, optional training and data settings,
no weights (they are drawn from the seed, exactly as a new session would draw them). The
data is a built-in generator's recipe or, for tiny sets like a truth table, written inline.

    {"architecture": {"input_dim": 2, "output_dim": 1,
                      "hidden": [{"units": 2, "activation": "tanh"}], "loss": "logistic"},
     "training": {"optimizer": {"name": "adam", "lr": 0.05}, "batch_size": 10, "seed": 3},
     "data": {"generator": "xor", "n": 200, "noise": 0.05, "seed": 0,
              "test_fraction": 0.2, "preprocess": "none", "features": []}}
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from nnviz.core.data import DataError, Dataset, split
from nnviz.core.init import initial_params
from nnviz.core.preprocess import InputPipeline
from nnviz.core.spec import MAX_UNITS, NetworkSpec, SpecError
from nnviz.io.errors import FileFormatError
from nnviz.io.loaded import LoadedNetwork
from nnviz.io.network_file_contents import FORMAT, MAX_DATA_MAGNITUDE, parse_data_config, parse_training
from nnviz.io.regular_file import read_regular
from nnviz.io.schema import SchemaError, check, field, is_int, only_keys, parse_json, string_list
from nnviz.io.sources import check_source, compatibility_problem, regenerate, upgrade_version_1_source

SPEC_FORMAT = "nnviz-spec"
SPEC_VERSION = 2  # 2: "digits" names the real digits; version 1's are "glyphs"
MAX_SPEC_BYTES = 1024**2
MAX_INLINE_ROWS = 10_000
_TOP_KEYS = {"format", "format_version", "name", "description", "architecture", "training", "data"}
_CONFIG_KEYS = ("test_fraction", "preprocess", "features")


def load_json_spec_file(path: str | os.PathLike) -> LoadedNetwork:
    """A JSON spec read from ``path``: a regular file (a FIFO or device is refused before
    it is opened) of at most :data:`MAX_SPEC_BYTES`, checked before it is read."""
    return load_json_spec(read_regular(path, MAX_SPEC_BYTES), path)


def load_json_spec(raw: bytes, path: str | os.PathLike) -> LoadedNetwork:
    """A LoadedNetwork from the bytes of a JSON spec; FileFormatError on any problem."""
    try:
        return _load(raw, path)
    except (SchemaError, DataError) as exc:
        raise FileFormatError(str(exc), path) from exc
    except SpecError as exc:
        raise FileFormatError(f"the architecture is invalid: {exc}", path) from exc
    except MemoryError as exc:
        raise FileFormatError("there is not enough memory for this network", path) from exc
    except FileFormatError:
        raise
    except (ValueError, TypeError, OverflowError, KeyError, IndexError) as exc:  # a core check's words
        raise FileFormatError(f"it cannot be used ({exc})", path) from exc


def _load(raw: bytes, path: str | os.PathLike) -> LoadedNetwork:
    d = parse_json(raw, "the JSON spec")
    check(d, "dict", "the JSON spec")
    fmt = field(d, "format", "str", "", SPEC_FORMAT)
    if fmt == FORMAT:
        raise SchemaError("this is the network.json of an unpacked .nnviz file; open the .nnviz file itself")
    if fmt != SPEC_FORMAT:
        raise SchemaError(f"format must be {SPEC_FORMAT!r}, not {fmt[:40]!r}")
    version = field(d, "format_version", "int", "", SPEC_VERSION)
    if version > SPEC_VERSION:
        raise SchemaError(
            f"it is spec format version {version}, newer than the version {SPEC_VERSION} this nnviz reads"
        )
    if version < 1:
        raise SchemaError(f"spec format version {version} does not exist")
    only_keys(d, _TOP_KEYS, "the JSON spec")
    field(d, "name", "str", "", None)
    field(d, "description", "str", "", None)
    if "architecture" not in d:
        raise SchemaError("the JSON spec lacks 'architecture'")
    spec = NetworkSpec.from_dict(d["architecture"])
    train = parse_training(d.get("training", {}), "training")
    data_part: dict[str, Any] = check(d.get("data", {}), "dict", "data")
    data_config = parse_data_config({k: v for k, v in data_part.items() if k in _CONFIG_KEYS}, "data")
    source = {k: v for k, v in data_part.items() if k not in _CONFIG_KEYS}
    if version == 1:
        source = upgrade_version_1_source(source)
    pipeline = InputPipeline(data_config.preprocess, data_config.features)
    if pipeline.features and len(pipeline.features) != spec.input_dim:
        raise SchemaError(
            f"the architecture has {spec.input_dim} inputs but {len(pipeline.features)} input "
            "features are chosen"
        )
    data = None
    if source:
        if "X" in source:
            data = inline_data(source)
        elif "generator" in source:
            data = regenerate(check_source(source, "data"))
        else:
            raise SchemaError(f"data has unknown field(s) {', '.join(sorted(source))}, and neither a "
                              "generator nor inline X and y")
        problem = compatibility_problem(spec, pipeline.features, data)
        if problem:
            raise SchemaError(f"the {data.name} data does not fit the architecture: {problem}")
        if pipeline.method != "none":
            pipeline = pipeline.fit(split(data, data_config.test_fraction, train.seed).train.X)
    params = initial_params(spec, train.seed)  # the spec's init_std too
    for p in params:
        p.flags.writeable = False
    return LoadedNetwork(
        path=os.fspath(path), kind="spec", spec=spec, params=params, pipeline=pipeline,
        train_config=train, data_config=data_config, data=data, trainer_state=None, history=None,
        format_version=version,
    )


def _bounded(v: Any, where: str) -> None:
    """A finite number of magnitude at most MAX_DATA_MAGNITUDE (the CSV loader's bound)."""
    check(v, "number", where)
    if abs(v) > MAX_DATA_MAGNITUDE:
        raise SchemaError(f"{where} is {v:.3g}; values beyond ±{MAX_DATA_MAGNITUDE:.0e} are refused")


def inline_data(d: dict[str, Any]) -> Dataset:
    """A small data set written into the spec itself (a truth table, say):
    ``{"X": [[0, 0], [0, 1], ...], "y": [0, 1, ...]}`` with optional ``task``, ``name``,
    ``feature_names`` and ``class_names``."""
    only_keys(d, {"X", "y", "task", "name", "feature_names", "class_names"}, "data")
    X = check(d["X"], "list", "data.X")
    y = check(field(d, "y", "list", "data"), "list", "data.y")
    if not X or len(X) > MAX_INLINE_ROWS:
        raise SchemaError(f"data.X must have 1..{MAX_INLINE_ROWS:,} rows")
    if len(y) != len(X):
        raise SchemaError(f"data.X has {len(X)} rows but data.y has {len(y)} values")
    width = len(check(X[0], "list", "data.X[0]"))
    for i, row in enumerate(X):
        check(row, "list", f"data.X[{i}]")
        if len(row) != width or not width:
            raise SchemaError(f"data.X[{i}] has {len(row)} values; the first row has {width}")
        for j, v in enumerate(row):
            _bounded(v, f"data.X[{i}][{j}]")
    for i, v in enumerate(y):
        _bounded(v, f"data.y[{i}]")
    whole = all(is_int(v) for v in y)
    task = field(d, "task", "str", "data", "classification" if whole else "regression")
    if task not in ("classification", "regression"):
        raise SchemaError(f"data.task must be classification or regression, not {task[:40]!r}")
    if task == "classification" and not (whole and min(y) >= 0 and max(y) < MAX_UNITS):
        raise SchemaError(f"data.y must hold class numbers 0..{MAX_UNITS - 1} for classification")
    name = field(d, "name", "str", "data", "inline")
    features = string_list(field(d, "feature_names", "list", "data", []), "data.feature_names", MAX_UNITS)
    if features and len(features) != width:
        raise SchemaError(f"data.feature_names has {len(features)} names for {width} columns")
    classes = string_list(field(d, "class_names", "list", "data", []), "data.class_names", MAX_UNITS)
    return Dataset(np.array(X, dtype=np.float64), np.array(y), task, name[:1000], features, classes,
                   {"inline": True})
