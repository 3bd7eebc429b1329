"""What the controls edit: a plain, immutable description of a run, and how to turn it
into a :class:`~nnviz.core.session.Session` (and back, for files that were opened).

The window keeps two of these: the settings of the run being trained, and the settings
the controls show. They differ while an edit waits for Reset.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from nnviz.core.compat import TOO_MANY_CLASSES, WRONG_TASK, default_loss, loss_mismatch
from nnviz.core.data import BUILTIN_SETS, DataError, Dataset, generate
from nnviz.core.init import DEFAULT_INIT_STD, SCALED_INIT
from nnviz.core.optim import DEFAULTS, OptimizerConfig, Schedule
from nnviz.core.session import DataConfig, Session, build_spec
from nnviz.core.spec import NetworkSpec, SpecError
from nnviz.core.trainer import LIVE_FIELDS as TRAINER_LIVE_FIELDS
from nnviz.core.trainer import TrainConfig
from nnviz.io.sources import HANDWRITTEN, OFFERED, SOURCES
from nnviz.io.uci_digits import uci_digits

#: data sources besides the 2-D generators (the registry is :data:`nnviz.io.sources.SOURCES`)
DIGITS = HANDWRITTEN
CUSTOM = "custom"  # imported CSV, data from an opened file, or data edited by clicks
DATA_SOURCES = OFFERED


class SettingsError(ValueError):
    """Settings that do not make a run; the message says what to change."""


@dataclass(frozen=True)
class DataSettings:
    source: str = "spiral"
    n: int = 500
    noise: float = 0.1
    arms: int = 2
    seed: int = 1
    test_fraction: float = 0.2
    preprocess: str = "none"
    features: tuple[str, ...] = ()
    custom_name: str = ""  # shown for CUSTOM data

    @property
    def task(self) -> str | None:
        """The task the source produces (None for custom data: it depends on the file)."""
        if self.source == CUSTOM:
            return None
        info = SOURCES.get(self.source)
        return info.task if info else "classification"  # an unknown name fails when built

    @property
    def is_2d(self) -> bool | None:
        if self.source == CUSTOM:
            return None
        info = SOURCES.get(self.source)
        return info.is_2d if info else True

    @property
    def n_classes(self) -> int | None:
        """The classes the source makes (0 for regression; None for custom data)."""
        if self.source == CUSTOM:
            return None
        info = SOURCES.get(self.source)
        return info.classes({"arms": self.arms}) if info else None


@dataclass(frozen=True)
class NetworkSettings:
    layers: tuple[int, ...] = (8, 8)
    activations: tuple[str, ...] = ("relu", "relu")
    loss: str = "softmax"
    init: str = "torch"
    residual: bool = False
    dtype: str = "float64"
    init_std: float = DEFAULT_INIT_STD  # the normal initialiser's; kept while another is chosen

    def __post_init__(self) -> None:
        if len(self.layers) != len(self.activations):
            raise SettingsError("one activation per hidden layer")

    @property
    def effective_init_std(self) -> float | None:
        """The standard deviation the network gets: None unless the initialiser is normal
        (the box keeps its value meanwhile; it changes nothing then)."""
        return self.init_std if self.init == SCALED_INIT else None

    def with_layer(self, index: int, units: int | None = None, activation: str | None = None):
        layers, acts = list(self.layers), list(self.activations)
        if units is not None:
            layers[index] = units
        if activation is not None:
            acts[index] = activation
        return replace(self, layers=tuple(layers), activations=tuple(acts))

    def added_layer(self, units: int = 4, activation: str | None = None) -> NetworkSettings:
        act = activation or (self.activations[-1] if self.activations else "relu")
        return replace(self, layers=(*self.layers, units), activations=(*self.activations, act))

    def removed_layer(self, index: int = -1) -> NetworkSettings:
        layers, acts = list(self.layers), list(self.activations)
        del layers[index], acts[index]
        return replace(self, layers=tuple(layers), activations=tuple(acts))


@dataclass(frozen=True)
class TrainSettings:
    optimizer: str = "adam"
    lr: float = 0.01
    schedule: Schedule = field(default_factory=Schedule)
    batch_size: int = 10
    l1: float = 0.0
    l2: float = 0.0
    dropout: float = 0.0
    seed: int = 0
    hyper: tuple[tuple[str, float], ...] = ()  # other optimiser settings (from opened files)

    def optimizer_config(self) -> OptimizerConfig:
        return OptimizerConfig(self.optimizer, {**dict(self.hyper), "lr": self.lr})


#: the settings of the run that can change while training, without a reset (the trainer's)
LIVE_FIELDS = TRAINER_LIVE_FIELDS


@dataclass(frozen=True)
class RunSettings:
    data: DataSettings = field(default_factory=DataSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    train: TrainSettings = field(default_factory=TrainSettings)

    def needs_reset(self, other: RunSettings) -> bool:
        """Whether going from ``other`` to these settings needs a new network."""
        return bool(self.pending_fields(other))

    def pending_fields(self, running: RunSettings) -> frozenset[str]:
        """The settings that differ from the ``running`` network's and wait for Reset, as
        ``"group.field"`` names (``"network.layers"``, ``"data.source"``, ``"train.seed"``):
        the live ones (learning rate, batch size...) never wait, and the weight std counts
        only while the normal initialiser is chosen. The controls mark these."""
        out = []
        for group in ("data", "network", "train"):
            mine, theirs = getattr(self, group), getattr(running, group)
            for f in fields(mine):
                name = f.name
                if group == "train" and name in LIVE_FIELDS:
                    continue
                if group == "network" and name == "init_std":
                    differs = mine.effective_init_std is not None and (
                        mine.effective_init_std != theirs.effective_init_std
                    )
                else:
                    differs = getattr(mine, name) != getattr(theirs, name)
                if differs:
                    out.append(f"{group}.{name}")
        return frozenset(out)

    def live_changes(self, other: RunSettings) -> dict[str, object]:
        """The live settings (learning rate, batch size...) that differ from ``other``."""
        return {
            k: getattr(self.train, k)
            for k in LIVE_FIELDS
            if getattr(self.train, k) != getattr(other.train, k)
        }


#: how a notice or a tooltip names each loss
LOSS_NAMES_SHORT = {
    "softmax": "softmax cross-entropy",
    "svm": "multiclass SVM loss",
    "logistic": "logistic loss",
    "mse": "mean squared error",
}
#: how a notice says what a preprocessing does
_PREPROCESS_DONE = {"standardize": "inputs standardized", "none": "inputs as they are"}


def loss_problem(loss: str, task: str, n_classes: int) -> str | None:
    """Why ``loss`` cannot train ``task`` data of ``n_classes`` classes, phrased for the
    controls' tooltip ("logistic loss needs exactly two classes; this data has 3"); None
    when it fits. The rule is :func:`nnviz.core.compat.loss_mismatch`."""
    problem = loss_mismatch(loss, task, n_classes)
    name = LOSS_NAMES_SHORT.get(loss, loss)
    if problem == WRONG_TASK:
        if task == "regression":
            return f"{name} is for classification; this data is a regression set"
        return f"{name} is for regression; this data has {n_classes} classes"
    if problem == TOO_MANY_CLASSES:
        return f"{name} needs exactly two classes; this data has {n_classes}"
    return None


def fit_loss(settings: RunSettings) -> tuple[RunSettings, str]:
    """``settings`` with a loss that fits their data (the task's default loss when the
    chosen one does not), and what changed, or "" (custom data: unknown here, unchanged)."""
    d, n = settings.data, settings.network
    if d.task is None or d.n_classes is None:
        return settings, ""
    problem = loss_problem(n.loss, d.task, d.n_classes)
    if problem is None:
        return settings, ""
    loss = default_loss(d.task)
    after = replace(settings, network=replace(n, loss=loss))
    return after, f"loss set to {LOSS_NAMES_SHORT.get(loss, loss)} ({problem})"


def source_label(source: str) -> str:
    """The data set's name, short, for a notice ("Digits")."""
    info = SOURCES.get(source)
    return info.label.split(" (")[0] if info else source


def with_source(settings: RunSettings, source: str) -> tuple[RunSettings, str]:
    """The settings after a user picks the data set ``source``: its sensible defaults
    (:attr:`nnviz.io.sources.DataSource.suggested`: for digits, standardized inputs and
    one hidden layer of 64 units; at least its default number of examples) and a loss
    that fits; and one line saying what changed ("" when nothing did). Only for a user's
    pick: settings opened from a file are shown as they are."""
    before = settings
    info = SOURCES.get(source)
    d = replace(settings.data, source=source)
    n = settings.network
    changes: list[str] = []
    why = ""
    if info is not None and before.data.source != source:
        sug = info.suggested
        if sug is not None:
            if sug.preprocess is not None and d.preprocess != sug.preprocess:
                d = replace(d, preprocess=sug.preprocess)
                changes.append(_PREPROCESS_DONE.get(sug.preprocess, f"preprocessing {sug.preprocess}"))
            if sug.layers is not None and n.layers != sug.layers:
                act = n.activations[0] if n.activations else "relu"
                n = replace(n, layers=sug.layers, activations=(act,) * len(sug.layers))
                if len(sug.layers) == 1:
                    changes.append(f"one hidden layer of {sug.layers[0]} units")
                else:
                    changes.append(f"hidden layers of {'-'.join(map(str, sug.layers))} units")
        if source == DIGITS and d.n != info.default_n:
            d = replace(d, n=info.default_n)
            changes.append(f"all {info.default_n:,} examples")
        if sug is not None and changes:
            why = f" ({sug.why})"
    after, loss_note = fit_loss(replace(settings, data=d, network=n))
    parts = [f"{', '.join(changes)}{why}"] if changes else []
    parts += [loss_note] if loss_note else []
    return after, f"{source_label(source)}: {'; '.join(parts)}" if parts else ""


def make_dataset(settings: DataSettings, custom: Dataset | None) -> Dataset:
    """The raw data the settings describe (``custom`` for imported or edited data)."""
    s = settings
    if s.source == CUSTOM:
        if custom is None:
            raise SettingsError("no imported data: choose a built-in data set or import a CSV file")
        return custom
    if s.source == DIGITS:
        return uci_digits(n=s.n, seed=s.seed)  # real images: the 2-D sets' noise is not theirs
    kw = {"arms": s.arms} if s.source == "spiral" else {}
    return generate(s.source, n=s.n, noise=s.noise, seed=s.seed, **kw)


def build_session(
    settings: RunSettings, custom: Dataset | None = None, grid_size: int | None = None
) -> Session:
    """A fresh session from settings; :class:`SettingsError` says why one cannot be made."""
    try:
        data = make_dataset(settings.data, custom)
        d = settings.data
        features = d.features if data.n_features == 2 else ()
        data_config = DataConfig(d.test_fraction, d.preprocess, features)
        n = settings.network
        spec = build_spec(
            data, data_config, layers=n.layers, activation=list(n.activations), loss=n.loss,
            init=n.init, residual=n.residual, dtype=n.dtype, init_std=n.effective_init_std,
        )
        t = settings.train
        config = TrainConfig(
            optimizer=t.optimizer_config(), schedule=t.schedule, batch_size=t.batch_size,
            l2=t.l2, l1=t.l1, dropout=t.dropout, seed=t.seed,
        )
        kw = {} if grid_size is None else {"grid_size": grid_size}
        return Session(data, data_config, spec, config, **kw)
    except (DataError, SpecError, ValueError) as exc:
        raise SettingsError(str(exc)) from exc


def settings_from_session(session: Session) -> tuple[RunSettings, Dataset | None]:
    """The settings that describe an existing session, and its data when no generator
    can make it again (returned so the window can keep it as custom data)."""
    src = dict(session.data.source or {})
    gen = src.get("generator")
    custom: Dataset | None = None
    dc = session.data_config
    # the drawn digits ("glyphs") and the older random-prototype ones ("digits_like") are
    # kept as they are: as custom data
    if gen in BUILTIN_SETS or gen == DIGITS:
        data = DataSettings(
            source=gen,
            n=int(src.get("n", len(session.data))),
            noise=float(src.get("noise", 0.1)) if gen != DIGITS else DataSettings.noise,
            arms=int(src.get("arms", 3 if gen == "spiral" else 2)),
            seed=int(src.get("seed", 0)),
            test_fraction=dc.test_fraction,
            preprocess=dc.preprocess,
            features=dc.features,
        )
        if data.n != len(session.data):  # points were added or removed after generation
            data = None
    else:
        data = None
    if data is None:
        custom = session.data
        data = DataSettings(
            source=CUSTOM, n=len(session.data), test_fraction=dc.test_fraction,
            preprocess=dc.preprocess, features=dc.features, custom_name=session.data.name,
        )
    spec = session.spec
    network = NetworkSettings(
        layers=tuple(h.units for h in spec.hidden),
        activations=tuple(h.activation for h in spec.hidden),
        loss=spec.loss, init=spec.init, residual=spec.residual, dtype=spec.dtype,
        init_std=DEFAULT_INIT_STD if spec.init_std is None else spec.init_std,
    )
    cfg = session.trainer.config if getattr(session, "trainer", None) else session.train_config
    defaults = DEFAULTS[cfg.optimizer.name]
    hyper = tuple(sorted(
        (k, v) for k, v in cfg.optimizer.hyper.items() if k != "lr" and v != defaults.get(k)
    ))
    train = TrainSettings(
        optimizer=cfg.optimizer.name, lr=cfg.optimizer.lr, schedule=cfg.schedule,
        batch_size=cfg.batch_size, l1=cfg.l1, l2=cfg.l2, dropout=cfg.dropout, seed=cfg.seed,
        hyper=hyper,
    )
    return RunSettings(data, network, train), custom


def spec_label(spec: NetworkSpec) -> str:
    """Widths and activations, short: "2-8-8-2 relu"."""
    widths = "-".join(str(w) for w in spec.widths)
    acts = sorted({h.activation for h in spec.hidden}, key=[h.activation for h in spec.hidden].index)
    return f"{widths} {'/'.join(acts)}" if acts else widths


def run_label(number: int, session: Session) -> str:
    """The legend entry of a run in the loss plot."""
    cfg = session.trainer.config
    parts = [f"run {number}: {spec_label(session.spec)}", f"{cfg.optimizer.name} lr={cfg.optimizer.lr:g}"]
    if cfg.l2:
        parts.append(f"L2={cfg.l2:g}")
    if cfg.l1:
        parts.append(f"L1={cfg.l1:g}")
    if cfg.dropout:
        parts.append(f"dropout={cfg.dropout:g}")
    return ", ".join(parts)

