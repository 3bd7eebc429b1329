"""What a ``.nnviz`` file holds: member names, the manifest, and ``network.json``, both the
writing side and the strict reading side.

Reading ``network.json`` produces a :class:`Plan`: the checked settings plus, for every
array member, the exact names, shapes and dtypes it must contain. The loader compares
the ZIP directory against the plan before it reads a single array, so a file cannot make
the loader allocate more than its (checked, capped) architecture and data imply.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import nnviz
from nnviz.core.data import MAX_EXAMPLES
from nnviz.core.history import COLUMNS, EVAL_COLUMNS
from nnviz.core.optim import Optimizer, OptimizerConfig
from nnviz.core.preprocess import InputPipeline
from nnviz.core.session import DataConfig
from nnviz.core.spec import MAX_UNITS, NetworkSpec, SpecError
from nnviz.core.trainer import TrainConfig
from nnviz.io.archive import MAX_TOTAL_BYTES, ArchiveError, ArraySpec, npz_size_bounds
from nnviz.io.csv_cells import MAX_MAGNITUDE
from nnviz.io.schema import SchemaError, check, field, int_range, only_keys, string_list
from nnviz.io.sources import (
    check_source,
    generator_task,
    is_generated,
    source_size,
    upgrade_version_1_source,
)

FORMAT = "nnviz-network"
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
NETWORK = "network.json"
WEIGHTS = "weights.npz"
OPTIMIZER = "optimizer.npz"
PIPELINE = "pipeline.npz"
TRAINER = "trainer.npz"
HISTORY = "history.npz"
DATA = "data.npz"
ARRAY_MEMBERS = (WEIGHTS, OPTIMIZER, PIPELINE, TRAINER, HISTORY, DATA)
ALL_MEMBERS = (MANIFEST, NETWORK, *ARRAY_MEMBERS)
MAX_MANIFEST_BYTES = 64 * 1024
MAX_NETWORK_JSON_BYTES = 8 * 1024**2
#: step, epoch and optimiser counters (and schedule lengths): at most 2**53, the largest
#: range in which a float64 (the history, the plots) holds every integer exactly; the
#: saver checks the same bound, so whatever loads can be saved again
MAX_COUNTER = 2**53
#: data inputs and regression targets stored in a file: at most this in magnitude, the
#: very bound the CSV loader uses (squares and sums of larger values overflow float64)
MAX_DATA_MAGNITUDE = MAX_MAGNITUDE
MAX_HISTORY_ROWS = 2**31
FLOAT = ("f4", "f8")

def _version_1_to_2(network: dict[str, Any]) -> dict[str, Any]:
    """Version 2 renamed the drawn digits "glyphs": "digits" are now the real ones."""
    data = network.get("data")
    if isinstance(data, dict) and "source" in data:
        network = {**network, "data": {**data, "source": upgrade_version_1_source(data["source"])}}
    return network


#: format_version -> function upgrading a network.json dict of that version to the next.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _version_1_to_2}


# --- manifest ---------------------------------------------------------------------------
def utc_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def manifest_dict(members: list[str], created: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "app_version": nnviz.__version__,
        "created": created,
        "members": sorted(members),
    }


def check_manifest(m: Any, members: set[str]) -> int:
    """The file's format version, after checking the manifest describes this archive."""
    check(m, "dict", "manifest.json")
    only_keys(m, {"format", "format_version", "app_version", "created", "members"}, "manifest.json")
    fmt = field(m, "format", "str", "manifest.json")
    if fmt != FORMAT:
        raise SchemaError(f"it is not an nnviz network (format {fmt[:40]!r})")
    version = field(m, "format_version", "int", "manifest.json")
    if version > FORMAT_VERSION:
        raise SchemaError(
            f"it was written in format version {version}, newer than the version {FORMAT_VERSION} "
            f"this nnviz {nnviz.__version__} reads; update nnviz to open it"
        )
    if version < 1:
        raise SchemaError(f"format version {version} does not exist")
    app = field(m, "app_version", "str", "manifest.json")
    created = field(m, "created", "str", "manifest.json")
    if len(app) > 100 or len(created) > 100:
        raise SchemaError("manifest.json has an implausibly long version or date")
    listed = set(string_list(field(m, "members", "list", "manifest.json"), "manifest.json.members", 16))
    if listed != members - {MANIFEST}:
        raise SchemaError(
            f"the manifest lists {', '.join(sorted(listed)) or 'nothing'} but the archive holds "
            f"{', '.join(sorted(members - {MANIFEST})) or 'nothing'}"
        )
    return version


def migrate(network: dict[str, Any], version: int) -> dict[str, Any]:
    """Upgrade an older ``network.json`` step by step to :data:`FORMAT_VERSION`."""
    for v in range(version, FORMAT_VERSION):
        if v not in MIGRATIONS:
            raise SchemaError(f"format version {v} cannot be upgraded by this nnviz")
        network = MIGRATIONS[v](network)
    return network


# --- network.json -----------------------------------------------------------------------
@dataclass(frozen=True)
class DataInfo:
    """What a file says about its data set (present even when the data is not stored)."""

    name: str
    task: str
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    source: dict[str, Any]
    n_examples: int
    n_features: int
    target_dim: int
    stored: bool

    @property
    def regenerable(self) -> bool:
        return is_generated(self.source)


@dataclass(frozen=True)
class TrainerInfo:
    """Counters and RNG state of a trainer; its arrays live in other members."""

    step: int
    epoch: int
    pos: int
    n_train: int
    has_perm: bool
    rng: dict[str, Any]
    optimizer_name: str
    optimizer_t: int
    state_keys: tuple[str, ...]  # optimiser state lists, e.g. ("exp_avg", "exp_avg_sq")


@dataclass(frozen=True)
class Plan:
    """``network.json`` checked, and the arrays each member must hold."""

    spec: NetworkSpec
    train_config: TrainConfig
    data_config: DataConfig
    pipeline: InputPipeline  # method and features; arrays are loaded separately
    data: DataInfo | None
    trainer: TrainerInfo | None
    history_rows: tuple[int, int] | None

    def members(self) -> set[str]:
        """The members the archive must hold, no more, no fewer."""
        names = {MANIFEST, NETWORK, WEIGHTS}
        if self.trainer is not None and self.trainer.state_keys:
            names.add(OPTIMIZER)
        if self.pipeline.method != "none":
            names.add(PIPELINE)
        if self.trainer is not None and self.trainer.has_perm:
            names.add(TRAINER)
        if self.history_rows is not None:
            names.add(HISTORY)
        if self.data is not None and self.data.stored:
            names.add(DATA)
        return names

    def arrays(self, member: str) -> dict[str, ArraySpec]:
        """Name -> expected array for one ``.npz`` member."""
        shapes = self.spec.layer_shapes()
        if member == WEIGHTS:
            out = {}
            for i, (w, b) in enumerate(shapes):
                out[f"W{i}"] = ArraySpec(w, FLOAT, f"weights of layer {i + 1}", into=self._param_code)
                out[f"b{i}"] = ArraySpec(b, FLOAT, f"biases of layer {i + 1}", into=self._param_code)
            return out
        if member == OPTIMIZER:
            assert self.trainer is not None
            out = {}
            for key in self.trainer.state_keys:
                for i, (w, b) in enumerate(shapes):
                    what = f"the optimizer's {key} for layer {i + 1}"
                    out[f"{key}_{2 * i}"] = ArraySpec(w, FLOAT, f"{what} weights", False, self._param_code)
                    out[f"{key}_{2 * i + 1}"] = ArraySpec(b, FLOAT, f"{what} biases", False, self._param_code)
            return out
        if member == PIPELINE:
            d = self.spec.input_dim
            return {
                "mean": ArraySpec((d,), FLOAT, "the preprocessing mean", False, "f8"),
                "matrix": ArraySpec((d, d), FLOAT, "the preprocessing matrix", False, "f8"),
            }
        if member == TRAINER:
            assert self.trainer is not None
            return {"perm": ArraySpec((self.trainer.n_train,), ("i8",), "the shuffle order", False)}
        if member == HISTORY:
            assert self.history_rows is not None
            s, e = self.history_rows
            return {
                "steps": ArraySpec((s, len(COLUMNS)), ("f8",), "the step history", False),
                "evals": ArraySpec((e, len(EVAL_COLUMNS)), ("f8",), "the evaluation history", False),
            }
        if member == DATA:
            assert self.data is not None
            n, info = self.data.n_examples, self.data
            y = (
                ArraySpec((n,), ("i8", "i4"), "the class labels", into="i8")
                if info.task == "classification"
                else ArraySpec((n, info.target_dim), FLOAT, "the targets", into="f8")
            )
            return {"X": ArraySpec((n, info.n_features), FLOAT, "the data inputs", into="f8"), "y": y}
        raise KeyError(member)

    @property
    def _param_code(self) -> str:
        """Weights and optimiser state are loaded in the architecture's dtype."""
        return "f4" if np.dtype(self.spec.dtype) == np.float32 else "f8"

    def size_bounds(self, member: str) -> tuple[int, int]:
        return npz_size_bounds(self.arrays(member))

    def memory_bytes(self, member: str) -> int:
        """What one member's arrays take once loaded."""
        return sum(a.memory_bytes for a in self.arrays(member).values())

    def check_total(self) -> None:
        """The arrays as loaded (data as float64 whatever the file stores) fit the cap."""
        total = sum(self.memory_bytes(m) for m in self.members() if m in ARRAY_MEMBERS)
        if total > MAX_TOTAL_BYTES:
            raise ArchiveError(
                f"the network and data it describes need {total:,} bytes, more than the "
                f"{MAX_TOTAL_BYTES:,} a file may hold"
            )


def network_dict(
    spec: NetworkSpec,
    train_config: TrainConfig,
    data_config: DataConfig,
    pipeline: InputPipeline,
    data: dict[str, Any] | None,
    trainer: dict[str, Any] | None,
    history_rows: tuple[int, int] | None,
) -> dict[str, Any]:
    return {
        "architecture": spec.to_dict(),
        "training": train_config.to_dict(),
        "data_config": data_config.to_dict(),
        "pipeline": pipeline.to_dict(),
        "data": data,
        "trainer": trainer,
        "history": None if history_rows is None else {"steps": history_rows[0], "evals": history_rows[1]},
    }


def parse_network(d: Any) -> Plan:
    """Check every field of ``network.json`` and work out the members it implies."""
    check(d, "dict", "network.json")
    keys = ("architecture", "training", "data_config", "pipeline", "data", "trainer", "history")
    only_keys(d, keys, "network.json")
    for k in keys:
        if k not in d:
            raise SchemaError(f"network.json lacks {k!r}")
    try:
        spec = NetworkSpec.from_dict(d["architecture"])
    except SpecError as exc:
        raise SchemaError(f"the architecture is invalid: {exc}") from exc
    train = parse_training(d["training"], "training")
    data_config = parse_data_config(d["data_config"], "data_config")
    pipe = check(d["pipeline"], "dict", "pipeline")
    only_keys(pipe, {"method", "features"}, "pipeline")
    method = field(pipe, "method", "str", "pipeline")
    features = string_list(field(pipe, "features", "list", "pipeline"), "pipeline.features", 16, 20)
    try:
        pipeline = InputPipeline(method, features)
    except ValueError as exc:
        raise SchemaError(f"pipeline: {exc}") from exc
    if (method, features) != (data_config.preprocess, data_config.features):
        raise SchemaError("the pipeline and data_config disagree on preprocessing or features")
    raw_dim = 2 if features else spec.input_dim
    if features and len(features) != spec.input_dim:
        raise SchemaError(
            f"the architecture has {spec.input_dim} inputs but {len(features)} input features are chosen"
        )
    data = None if d["data"] is None else parse_data_info(d["data"], spec, raw_dim)
    trainer = None if d["trainer"] is None else parse_trainer(d["trainer"], train, spec)
    if trainer is not None and data is not None:
        n = data.n_examples
        n_test = round(n * data_config.test_fraction)
        n_train = n - n_test if n_test else n
        if n_train != trainer.n_train:
            raise SchemaError(
                f"trainer.n_train is {trainer.n_train:,} but the data set splits into {n_train:,} "
                "training examples"
            )
    history_rows = None
    if d["history"] is not None:
        h = check(d["history"], "dict", "history")
        only_keys(h, {"steps", "evals"}, "history")
        history_rows = (
            int_range(field(h, "steps", "int", "history"), 0, MAX_HISTORY_ROWS, "history.steps"),
            int_range(field(h, "evals", "int", "history"), 0, MAX_HISTORY_ROWS, "history.evals"),
        )
    plan = Plan(spec, train, data_config, pipeline, data, trainer, history_rows)
    plan.check_total()
    return plan


def parse_training(t: Any, where: str) -> TrainConfig:
    """A TrainConfig from untrusted JSON (any subset of its fields)."""
    check(t, "dict", where)
    only_keys(t, {"optimizer", "schedule", "batch_size", "l2", "l1", "dropout", "seed"}, where)
    opt = check(t.get("optimizer", {}), "dict", f"{where}.optimizer")
    name = field(opt, "name", "str", f"{where}.optimizer", "sgd")
    for k, v in opt.items():
        if k != "name":
            check(v, "number", f"{where}.optimizer.{k}")
    sched = check(t.get("schedule", {}), "dict", f"{where}.schedule")
    only_keys(sched, {"name", "step_size", "gamma", "t_max", "eta_min"}, f"{where}.schedule")
    field(sched, "name", "str", f"{where}.schedule", None)
    for k in ("step_size", "t_max"):
        if k in sched:
            int_range(sched[k], 1, MAX_COUNTER, f"{where}.schedule.{k}")
    for k in ("gamma", "eta_min"):
        field(sched, k, "number", f"{where}.schedule", None)
    field(t, "batch_size", "int", where, None)
    for k in ("l2", "l1", "dropout"):
        field(t, k, "number", where, None)
    field(t, "seed", "int", where, None)
    try:
        optimizer = OptimizerConfig(name, {k: v for k, v in opt.items() if k != "name"})
        rest = {k: v for k, v in t.items() if k not in ("optimizer", "schedule")}
        return TrainConfig.from_dict({"optimizer": optimizer.to_dict(), "schedule": sched, **rest})
    except (ValueError, TypeError) as exc:
        raise SchemaError(f"{where}: {exc}") from exc


def parse_data_config(c: Any, where: str) -> DataConfig:
    check(c, "dict", where)
    only_keys(c, {"test_fraction", "preprocess", "features"}, where)
    field(c, "test_fraction", "number", where, None)
    field(c, "preprocess", "str", where, None)
    if "features" in c:
        string_list(c["features"], f"{where}.features", 16, 20)
    try:
        return DataConfig.from_dict(c)
    except (ValueError, TypeError) as exc:
        raise SchemaError(f"{where}: {exc}") from exc


def parse_data_info(d: Any, spec: NetworkSpec, raw_dim: int) -> DataInfo:
    check(d, "dict", "data")
    keys = ("name", "task", "feature_names", "class_names", "source", "n_examples", "n_features",
            "target_dim", "stored")
    only_keys(d, keys, "data")
    name = field(d, "name", "str", "data")
    if len(name) > 1000:
        raise SchemaError("data.name is longer than 1000 characters")
    task = field(d, "task", "str", "data")
    if task not in ("classification", "regression"):
        raise SchemaError(f"data.task must be classification or regression, not {task[:40]!r}")
    n = int_range(field(d, "n_examples", "int", "data"), 1, MAX_EXAMPLES, "data.n_examples")
    n_features = int_range(field(d, "n_features", "int", "data"), 1, MAX_UNITS, "data.n_features")
    target_dim = int_range(field(d, "target_dim", "int", "data"), 1, MAX_UNITS, "data.target_dim")
    if n_features != raw_dim:
        raise SchemaError(f"the data has {n_features} features but the network takes {raw_dim}")
    if task == "classification" and target_dim != 1:
        raise SchemaError("classification data has one target column")
    if task == "regression" and target_dim != spec.output_dim:
        raise SchemaError(f"the data has {target_dim} targets; the network has {spec.output_dim} outputs")
    feature_names = string_list(field(d, "feature_names", "list", "data"), "data.feature_names", MAX_UNITS)
    if len(feature_names) != n_features:
        raise SchemaError(f"data.feature_names has {len(feature_names)} names for {n_features} features")
    class_names = string_list(field(d, "class_names", "list", "data"), "data.class_names", MAX_UNITS)
    if task == "regression" and class_names:
        raise SchemaError("regression data has no class names")
    source = field(d, "source", "dict", "data")
    stored = field(d, "stored", "bool", "data")
    if not stored and is_generated(source):
        check_source(source, "data.source")
        if generator_task(source) != task:
            raise SchemaError("data.source makes a different kind of data than data.task says")
        if source_size(source) != (n, n_features):
            raise SchemaError("data.source does not make the number of examples and features the file says")
    return DataInfo(name, task, feature_names, class_names, dict(source), n, n_features, target_dim, stored)


def parse_rng(r: Any) -> dict[str, Any]:
    """A PCG64 state as ``bit_generator.state`` returns it; checked by setting it."""
    check(r, "dict", "trainer.rng")
    only_keys(r, {"bit_generator", "state", "has_uint32", "uinteger"}, "trainer.rng")
    if field(r, "bit_generator", "str", "trainer.rng") != "PCG64":
        raise SchemaError("trainer.rng must be a PCG64 state")
    s = field(r, "state", "dict", "trainer.rng")
    only_keys(s, {"state", "inc"}, "trainer.rng.state")
    for k in ("state", "inc"):
        int_range(field(s, k, "int", "trainer.rng.state"), 0, 2**128 - 1, f"trainer.rng.state.{k}")
    int_range(field(r, "has_uint32", "int", "trainer.rng"), 0, 1, "trainer.rng.has_uint32")
    int_range(field(r, "uinteger", "int", "trainer.rng"), 0, 2**32 - 1, "trainer.rng.uinteger")
    state = {
        "bit_generator": "PCG64",
        "state": {"state": s["state"], "inc": s["inc"]},
        "has_uint32": r["has_uint32"],
        "uinteger": r["uinteger"],
    }
    try:
        np.random.PCG64().state = state
    except (ValueError, TypeError, OverflowError) as exc:
        raise SchemaError(f"trainer.rng is not a usable state ({exc})") from exc
    return state


def parse_trainer(t: Any, train: TrainConfig, spec: NetworkSpec) -> TrainerInfo:
    check(t, "dict", "trainer")
    only_keys(t, {"step", "epoch", "pos", "n_train", "has_perm", "rng", "optimizer"}, "trainer")
    counters = {k: int_range(field(t, k, "int", "trainer"), 0, MAX_COUNTER, f"trainer.{k}")
                for k in ("step", "epoch", "pos")}
    n_train = int_range(field(t, "n_train", "int", "trainer"), 1, MAX_EXAMPLES, "trainer.n_train")
    has_perm = field(t, "has_perm", "bool", "trainer")
    if has_perm and counters["pos"] >= n_train:  # without a shuffle order pos is not used
        raise SchemaError(f"trainer.pos {counters['pos']:,} is past the {n_train:,} training examples")
    opt = field(t, "optimizer", "dict", "trainer")
    only_keys(opt, {"name", "t"}, "trainer.optimizer")
    name = field(opt, "name", "str", "trainer.optimizer")
    if name != train.optimizer.name:
        raise SchemaError(
            f"the optimizer state is for {name[:40]!r} but training uses {train.optimizer.name!r}"
        )
    t_count = int_range(field(opt, "t", "int", "trainer.optimizer"), 0, MAX_COUNTER, "trainer.optimizer.t")
    # the core decides which state an optimiser keeps; ask it with placeholder arrays
    keys = tuple(Optimizer(train.optimizer, [np.zeros(0)] * (2 * len(spec.layer_shapes()))).state)
    rng = parse_rng(field(t, "rng", "dict", "trainer"))
    return TrainerInfo(counters["step"], counters["epoch"], counters["pos"], n_train, has_perm, rng,
                       name, t_count, keys)
