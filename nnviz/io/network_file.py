"""The ``.nnviz`` network file: save a session or a bare network, load either (or a
hand-written JSON spec) back.

A ``.nnviz`` file is a ZIP archive, like Keras's ``.keras``: ``manifest.json`` (format and
version), ``network.json`` (architecture, settings, counters, RNG state) and ``.npz``
members for the arrays, read with ``allow_pickle=False``. Nothing in a file is ever run
or unpickled. See docs/file-format.md for the full layout.
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from typing import Any

import numpy as np

from nnviz.core.data import DataError, Dataset
from nnviz.core.network import Network
from nnviz.core.preprocess import InputPipeline
from nnviz.core.session import DataConfig, Session
from nnviz.core.spec import NetworkSpec, SpecError
from nnviz.core.trainer import TrainConfig
from nnviz.io import network_file_contents as lay
from nnviz.io.archive import (
    MAX_TOTAL_BYTES,
    ArchiveError,
    check_central_directory,
    check_directory,
    check_member_size,
    read_member,
    read_npz_member,
)
from nnviz.io.atomic import atomic_write, describe_os_error
from nnviz.io.errors import FileFormatError, SaveError
from nnviz.io.json_spec import MAX_SPEC_BYTES, load_json_spec
from nnviz.io.loaded import LoadedNetwork, history_from_arrays
from nnviz.io.regular_file import open_regular
from nnviz.io.schema import SchemaError, parse_json, to_json_bytes
from nnviz.io.sources import compatibility_problem, regenerate

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
#: every exception a hostile file can provoke in the libraries we call; all become
#: FileFormatError (RuntimeError covers zipfile's encrypted-member refusal and recursion)
_WRAPPED = (
    OSError, EOFError, ValueError, TypeError, KeyError, IndexError, OverflowError, MemoryError,
    RuntimeError, NotImplementedError, struct.error, zlib.error, zipfile.BadZipFile, zipfile.LargeZipFile,
)
_SQUARED_STATES = ("square_avg", "exp_avg_sq")  # optimiser states that must be >= 0
_SAMPLE_BYTES = 1 << 20
_CHECK_ITEMS = 1 << 20  # values are checked in slices of this many: no full-size temporaries
#: history columns that count (steps, epochs): whole numbers in 0..MAX_COUNTER
_COUNTER_COLUMNS = {"steps": (0, 1), "evals": (0,)}


# --- saving ----------------------------------------------------------------------------
def save_session(
    session: Session, path: str | os.PathLike, *, include_data: bool = True, include_history: bool = True
) -> None:
    """Save everything needed to continue training exactly: weights, optimiser state,
    counters, RNG, pipeline, settings, and (optionally) the data and the history.

    A generated data set saved without its data is made again from its recipe on load.
    Raises :class:`SaveError` if the file cannot be written; the old file is then intact.
    """
    trainer = session.trainer
    state = trainer.get_state()
    spec = session.spec
    data = session.data
    info = _data_info_dict(data, stored=include_data)
    perm = state["perm"]
    trainer_json = {
        "step": state["step"],
        "epoch": state["epoch"],
        "pos": state["pos"],
        "n_train": trainer.n_train,
        "has_perm": perm is not None,
        "rng": state["rng"],
        "optimizer": {"name": trainer.config.optimizer.name, "t": state["optimizer_t"]},
    }
    arrays: dict[str, dict[str, np.ndarray]] = {lay.WEIGHTS: _weight_arrays(state["params"])}
    opt_arrays = {f"{k}_{i}": a for k, arrs in state["optimizer"].items() for i, a in enumerate(arrs)}
    if opt_arrays:
        arrays[lay.OPTIMIZER] = opt_arrays
    if session.pipeline.method != "none":
        arrays[lay.PIPELINE] = session.pipeline.arrays()
    if perm is not None:
        arrays[lay.TRAINER] = {"perm": np.asarray(perm, dtype=np.int64)}
    history_rows = None
    if include_history:
        steps, evals = session.history.steps.array(), session.history.evals.array()
        arrays[lay.HISTORY] = {"steps": steps, "evals": evals}
        history_rows = (len(steps), len(evals))
    if include_data:
        arrays[lay.DATA] = {"X": data.X, "y": data.y}
    network = lay.network_dict(spec, trainer.config, session.data_config, session.pipeline, info,
                             trainer_json, history_rows)
    _write(path, network, arrays)


def save_network(
    spec: NetworkSpec,
    params: list[np.ndarray],
    pipeline: InputPipeline,
    path: str | os.PathLike,
    *,
    train_config: TrainConfig | None = None,
    data_config: DataConfig | None = None,
) -> None:
    """Save a network with its weights and input pipeline but no data or training state
    (an imported model, say). ``pipeline`` must be fitted. Raises :class:`SaveError`."""
    if not pipeline.fitted:
        raise ValueError("the input pipeline is not fitted; fit it on the training inputs first")
    Network(spec, list(params))  # raises if the weights do not match the architecture
    if data_config is None:
        data_config = DataConfig(preprocess=pipeline.method, features=pipeline.features)
    arrays: dict[str, dict[str, np.ndarray]] = {
        lay.WEIGHTS: _weight_arrays([np.asarray(p, dtype=spec.dtype) for p in params])
    }
    if pipeline.method != "none":
        arrays[lay.PIPELINE] = pipeline.arrays()
    network = lay.network_dict(spec, train_config or TrainConfig(), data_config, pipeline, None, None, None)
    _write(path, network, arrays)


def _weight_arrays(params: list[np.ndarray]) -> dict[str, np.ndarray]:
    out = {}
    for i in range(len(params) // 2):
        out[f"W{i}"], out[f"b{i}"] = params[2 * i], params[2 * i + 1]
    return out


def _data_info_dict(data: Dataset, stored: bool) -> dict[str, Any]:
    return {
        "name": data.name,
        "task": data.task,
        "feature_names": list(data.feature_names),
        "class_names": list(data.class_names),
        "source": dict(data.source),
        "n_examples": len(data),
        "n_features": data.n_features,
        "target_dim": data.target_dim,
        "stored": stored,
    }


Arrays = dict[str, dict[str, np.ndarray]]  # member -> name -> array


def _check_savable(path: str | os.PathLike, network: dict[str, Any], arrays: Arrays) -> bytes:
    """The network.json bytes, after proving the loader will accept what we write."""

    def refuse(reason: str) -> SaveError:
        return SaveError(f"cannot save {os.fspath(path)}: {reason}", path)

    try:
        body = to_json_bytes(network)
    except (TypeError, ValueError) as exc:
        raise refuse(f"a setting cannot be written as JSON ({exc})") from exc
    if len(body) > lay.MAX_NETWORK_JSON_BYTES:
        raise refuse("the names and settings are too large for one file")
    try:
        plan = lay.parse_network(parse_json(body, "network.json"))
    except (SchemaError, ArchiveError) as exc:
        raise refuse(str(exc)) from exc
    if set(arrays) | {lay.MANIFEST, lay.NETWORK} != plan.members():
        raise AssertionError(f"members {sorted(arrays)} do not match the plan {sorted(plan.members())}")
    total = sum(a.nbytes for group in arrays.values() for a in group.values())
    if total > MAX_TOTAL_BYTES:
        raise refuse(f"the arrays take {total:,} bytes; a file may hold at most {MAX_TOTAL_BYTES:,}")
    for member in (lay.WEIGHTS, lay.OPTIMIZER, lay.PIPELINE, lay.DATA):
        for key, a in arrays.get(member, {}).items():
            if a.dtype.kind == "f" and not np.isfinite(a).all():
                raise refuse(f"{key} in {member} holds NaN or infinite values (did the run diverge?)")
    try:
        _check_data_values(arrays.get(lay.DATA), plan)
        if lay.HISTORY in arrays:
            _check_history(arrays[lay.HISTORY])
    except ArchiveError as exc:
        raise refuse(str(exc)) from exc
    return body


def _compressible(data: bytes) -> bool:
    """Whether deflating is worth its time: random-looking floats shrink by a few percent
    at 30-50 MB/s, so large members that barely compress are stored as they are."""
    if len(data) < _SAMPLE_BYTES:
        return True
    sample = data[:_SAMPLE_BYTES]
    return len(zlib.compress(sample, 1)) < 0.85 * len(sample)


def _write(path: str | os.PathLike, network: dict[str, Any], arrays: Arrays) -> None:
    body = _check_savable(path, network, arrays)
    created = lay.utc_now()
    stamp = (int(created[0:4]), int(created[5:7]), int(created[8:10]),
             int(created[11:13]), int(created[14:16]), int(created[17:19]))
    members = [lay.NETWORK, *(m for m in lay.ARRAY_MEMBERS if m in arrays)]

    def put(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
        info = zipfile.ZipInfo(name, date_time=stamp)
        info.compress_type = zipfile.ZIP_DEFLATED if _compressible(data) else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        zf.writestr(info, data, compresslevel=1)

    with atomic_write(path) as f, zipfile.ZipFile(f, "w") as zf:
        put(zf, lay.MANIFEST, to_json_bytes(lay.manifest_dict(members, created)))
        put(zf, lay.NETWORK, body)
        for member in lay.ARRAY_MEMBERS:
            if member in arrays:
                buf = io.BytesIO()
                np.savez(buf, **{k: np.ascontiguousarray(v) for k, v in arrays[member].items()})
                put(zf, member, buf.getvalue())


# --- loading ---------------------------------------------------------------------------
def load_file(path: str | os.PathLike) -> LoadedNetwork:
    """Open a ``.nnviz`` file or a JSON spec (told apart by content, not extension).

    Every problem, whatever its cause, raises :class:`FileFormatError` naming the file.
    """
    try:
        return _load(path)
    except FileFormatError:
        raise
    except (ArchiveError, SchemaError) as exc:
        raise FileFormatError(str(exc), path) from exc
    except _WRAPPED as exc:
        raise FileFormatError(_describe(exc), path) from exc


def _describe(exc: BaseException) -> str:
    if isinstance(exc, zipfile.BadZipFile):
        return f"the archive is damaged ({exc})"
    if isinstance(exc, FileNotFoundError):
        return "there is no such file"
    if isinstance(exc, OSError):
        return f"cannot read the file: {describe_os_error(exc)}"
    if isinstance(exc, MemoryError):
        return "there is not enough memory to load it"
    if isinstance(exc, RecursionError):
        return "it is nested too deeply to read"
    if isinstance(exc, EOFError | zlib.error | struct.error):
        return f"the file is truncated or damaged ({exc or type(exc).__name__})"
    return f"it cannot be read ({type(exc).__name__}: {exc})"


def _load(path: str | os.PathLike) -> LoadedNetwork:
    with open_regular(path) as f:  # a FIFO, device or folder is refused before open()
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            raise FileFormatError("the file is empty", path)
        if size > MAX_TOTAL_BYTES:
            raise FileFormatError(f"the file is {size:,} bytes, larger than any network file", path)
        head = f.read(4)
        f.seek(0)
        if head in _ZIP_MAGIC:
            check_central_directory(f, size)
            with zipfile.ZipFile(f) as zf:
                return _load_archive(zf, path)
        if size > MAX_SPEC_BYTES:
            raise FileFormatError(
                "it is neither a ZIP-based .nnviz file nor a JSON spec of sensible size", path
            )
        data = f.read(MAX_SPEC_BYTES + 1)
    if len(data) > MAX_SPEC_BYTES:
        raise FileFormatError("it is neither a ZIP-based .nnviz file nor a JSON spec of sensible size", path)
    if b"\x00" in data[:8192] or not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        raise FileFormatError("it is neither a .nnviz network file nor a JSON network spec", path)
    return load_json_spec(data, path)


def _load_archive(zf: zipfile.ZipFile, path: str | os.PathLike) -> LoadedNetwork:
    infos = check_directory(zf, set(lay.ALL_MEMBERS))
    if lay.MANIFEST not in infos:
        raise ArchiveError("it is a ZIP archive but not an nnviz network (no manifest.json)")
    if lay.NETWORK not in infos:
        raise ArchiveError("it lacks network.json")
    check_member_size(infos[lay.MANIFEST], lay.MAX_MANIFEST_BYTES)
    manifest = parse_json(read_member(zf, infos[lay.MANIFEST]), "manifest.json")
    version = lay.check_manifest(manifest, set(infos))
    check_member_size(infos[lay.NETWORK], lay.MAX_NETWORK_JSON_BYTES)
    network = lay.migrate(parse_json(read_member(zf, infos[lay.NETWORK]), "network.json"), version)
    plan = lay.parse_network(network)
    expected = plan.members()
    missing, extra = sorted(expected - set(infos)), sorted(set(infos) - expected)
    if missing:
        raise ArchiveError(f"it lacks {', '.join(missing)}, which network.json calls for")
    if extra:
        raise ArchiveError(f"it holds {', '.join(extra)}, which network.json does not call for")
    array_members = [m for m in lay.ARRAY_MEMBERS if m in expected]
    for m in array_members:  # every size is checked before any array is read
        check_member_size(infos[m], plan.size_bounds(m)[1])  # too small: the array checks say why
    arrays = {m: read_npz_member(zf, infos[m], plan.arrays(m)) for m in array_members}
    return _assemble(plan, arrays, path, manifest)


def _finite(a: np.ndarray, what: str, bound: float | None = None) -> np.ndarray:
    """``a`` if all its values are finite (and at most ``bound`` in magnitude), checked
    slice by slice so a large array needs no full-size temporary."""
    flat = a.reshape(-1)
    for at in range(0, flat.size, _CHECK_ITEMS):
        part = flat[at : at + _CHECK_ITEMS]
        if not np.isfinite(part).all():
            raise ArchiveError(f"{what} contain NaN or infinite values")
        if bound is not None and not (np.abs(part) <= bound).all():
            raise ArchiveError(f"{what} hold values beyond ±{bound:.0e}, the most nnviz accepts")
    return a


def _check_data_values(stored: dict[str, np.ndarray] | None, plan: lay.Plan) -> None:
    """Data inputs (and regression targets) are finite and at most MAX_DATA_MAGNITUDE."""
    if stored is None:
        return
    _finite(stored["X"], "the data inputs", lay.MAX_DATA_MAGNITUDE)
    if plan.data is not None and plan.data.task == "regression":
        _finite(stored["y"], "the targets", lay.MAX_DATA_MAGNITUDE)


def _check_history(h: dict[str, np.ndarray]) -> None:
    """Step and epoch columns hold whole numbers in 0..MAX_COUNTER (the plots and the
    evolution image keep them as int64)."""
    for table, columns in _COUNTER_COLUMNS.items():
        a = h[table]
        for c in columns:
            col = a[:, c]
            ok = np.isfinite(col) & (col >= 0) & (col <= lay.MAX_COUNTER) & (col == np.floor(col))
            if not ok.all():
                what = "step" if table == "evals" else ("step", "epoch")[c]
                raise ArchiveError(
                    f"the {table[:-1]} history's {what} column must hold whole numbers in "
                    f"0..{lay.MAX_COUNTER:,}"
                )


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _assemble(plan: lay.Plan, arrays: Arrays, path: str | os.PathLike, manifest: dict) -> LoadedNetwork:
    spec = plan.spec
    dtype = np.dtype(spec.dtype)
    weights = arrays[lay.WEIGHTS]
    params = []
    for i in range(len(spec.layer_shapes())):
        for key, what in ((f"W{i}", "weights"), (f"b{i}", "biases")):
            a = np.asarray(weights[key], dtype=dtype)
            params.append(_readonly(_finite(a, f"the {what} of layer {i + 1}")))
    try:
        Network(spec, params)
    except SpecError as exc:  # shapes were checked already; this is the core's final word
        raise ArchiveError(str(exc)) from exc

    pipeline = plan.pipeline
    if pipeline.method != "none":
        pa = arrays[lay.PIPELINE]
        pipeline = InputPipeline(
            pipeline.method, pipeline.features,
            _finite(pa["mean"], "the preprocessing mean values"),
            _finite(pa["matrix"], "the preprocessing matrix values"),
        )

    data = _data(plan, arrays.get(lay.DATA))
    if data is not None:
        problem = compatibility_problem(spec, pipeline.features, data)
        if problem:
            raise ArchiveError(f"its data set does not fit its network: {problem}")

    trainer_state = None
    if plan.trainer is not None:
        trainer_state = _trainer_state(plan, params, arrays)

    history = None
    if plan.history_rows is not None:
        h = arrays[lay.HISTORY]
        _check_history(h)
        history = history_from_arrays(h["steps"], h["evals"])

    return LoadedNetwork(
        path=os.fspath(path), kind="network", spec=spec, params=params, pipeline=pipeline,
        train_config=plan.train_config, data_config=plan.data_config, data=data,
        trainer_state=trainer_state, history=history, data_info=plan.data,
        format_version=manifest["format_version"], app_version=manifest["app_version"],
        created=manifest["created"],
    )


def _data(plan: lay.Plan, stored: dict[str, np.ndarray] | None) -> Dataset | None:
    info = plan.data
    if info is None:
        return None
    if stored is not None:
        _check_data_values(stored, plan)
        X, y = stored["X"], stored["y"]
        if info.task == "classification" and len(y) and (y.min() < 0 or y.max() >= 65_536):
            raise ArchiveError("the class labels must be in 0..65535")
    elif info.regenerable:
        try:
            made = regenerate(info.source)
        except DataError as exc:
            raise ArchiveError(f"its data set cannot be generated again: {exc}") from exc
        X, y = made.X, made.y
    else:
        return None
    try:
        return Dataset(X, y, info.task, info.name, info.feature_names, info.class_names, info.source)
    except DataError as exc:
        raise ArchiveError(f"its data set is invalid: {exc}") from exc


def _trainer_state(plan: lay.Plan, params: list[np.ndarray], arrays) -> dict[str, Any]:
    t = plan.trainer
    assert t is not None
    dtype = np.dtype(plan.spec.dtype)
    opt_arrays: dict[str, list[np.ndarray]] = {}
    for key in t.state_keys:
        group = []
        for i in range(len(params)):
            a = np.asarray(arrays[lay.OPTIMIZER][f"{key}_{i}"], dtype=dtype)
            _finite(a, f"the optimizer's {key} arrays")
            if key in _SQUARED_STATES and (a < 0).any():
                raise ArchiveError(f"the optimizer's {key} arrays hold negative values")
            group.append(_readonly(a))
        opt_arrays[key] = group
    perm = None
    if t.has_perm:
        perm = arrays[lay.TRAINER]["perm"].astype(np.int64)
        if not np.array_equal(np.sort(perm), np.arange(t.n_train)):
            raise ArchiveError("the saved shuffle order is not a permutation of the training set")
        _readonly(perm)
    return {
        "params": params,
        "optimizer_t": t.optimizer_t,
        "optimizer": opt_arrays,
        "step": t.step,
        "epoch": t.epoch,
        "rng": t.rng,
        "perm": perm,
        "pos": t.pos,
    }
