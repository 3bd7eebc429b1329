"""Every setting of a run, declared once: its type, range, default, whether it applies
while training (live) or on Reset, its ``nnviz train`` flag and its label and tooltip.

The CLI builds its ``train`` options from :data:`SETTINGS`; the controls read labels,
tooltips and ranges from it; :data:`LIVE` is what the trainer takes while it runs
(:data:`nnviz.core.trainer.LIVE_FIELDS`, held equal by a test), and the limits the core enforces (the noise
range, the batch bound) are the core's constants, referenced here, not copied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nnviz.core.activations import ACTIVATION_NAMES
from nnviz.core.data import MAX_EXAMPLES, NOISE_RANGE
from nnviz.core.init import DEFAULT_INIT_STD, INIT_NAMES, INIT_STD_RANGE
from nnviz.core.losses import LOSS_NAMES
from nnviz.core.optim import OPTIMIZER_NAMES, SCHEDULE_NAMES
from nnviz.core.preprocess import PREPROCESS_NAMES
from nnviz.core.trainer import MAX_BATCH
from nnviz.io.sources import OFFERED, PARAM_RANGES

#: how the CLI reads a flag's value (the converters live in :mod:`nnviz.cli`)
CLI_KINDS = ("count", "whole", "number", "layers", "choice", "switch")


@dataclass(frozen=True)
class Setting:
    """One setting of a run."""

    name: str  # unique; the field of the group's settings (DataSettings...) where it has one
    group: str  # "data", "network" or "train"
    type: type
    default: Any  # the window's default (the CLI resolves an omitted flag the same way)
    live: bool = False  # applies while training; otherwise on Reset (a new network)
    range: tuple[float, float] | None = None  # the values offered, inclusive
    choices: tuple[str, ...] | None = None
    flag: str | None = None  # the ``nnviz train`` option, if the CLI has one
    cli: str | None = None  # one of CLI_KINDS
    help: str | None = None  # the CLI's help text
    label: str = ""  # the controls' row label
    tooltip: str = ""
    field: bool = True  # False: not a field of the run settings (CLI only)
    choice_labels: tuple[tuple[str, str], ...] = ()  # (choice, as the controls show it)

    def choice_label(self, choice: str) -> str:
        """How the controls show ``choice`` (the name itself unless a label is declared)."""
        return dict(self.choice_labels).get(choice, choice)

    @property
    def dest(self) -> str | None:
        """The argparse attribute the flag fills."""
        return None if self.flag is None else self.flag.lstrip("-").replace("-", "_")


_SEED_RANGE = (0, 2**63 - 1)

#: every setting, in the order the CLI lists its flags
SETTINGS: tuple[Setting, ...] = (
    Setting("source", "data", str, "spiral", choices=OFFERED, label="Data set",
            tooltip="The problem to learn; (regression) sets predict a number"),
    Setting("n", "data", int, 500, range=(4, MAX_EXAMPLES), flag="--examples", cli="count",
            help="built-in data: how many", label="Examples"),
    Setting("noise", "data", float, 0.1, range=NOISE_RANGE, flag="--noise", cli="number",
            help="built-in data: noise level", label="Noise",
            tooltip="How much the points scatter around the clean pattern"),
    Setting("arms", "data", int, 2, range=PARAM_RANGES["arms"], flag="--arms", cli="count",
            help="spiral: number of arms", label="Spiral arms",
            tooltip="Number of spiral arms, one class each"),
    Setting("layers", "network", tuple, (8, 8), flag="--layers", cli="layers",
            help="hidden widths, e.g. 8,8", label="Layers"),
    Setting("activations", "network", tuple, ("relu", "relu"), choices=ACTIVATION_NAMES,
            flag="--activation", cli="choice", label="Activation"),
    Setting("loss", "network", str, "softmax", choices=LOSS_NAMES, flag="--loss", cli="choice",
            label="Loss", choice_labels=(
                ("softmax", "Softmax cross-entropy"),
                ("svm", "Multiclass SVM (hinge)"),
                ("logistic", "Logistic (two classes)"),
                ("mse", "Mean squared error"),
            )),
    Setting("init", "network", str, "torch", choices=INIT_NAMES, flag="--init", cli="choice",
            label="Initialiser", tooltip="How the first weights are drawn"),
    Setting("init_std", "network", float, DEFAULT_INIT_STD, range=INIT_STD_RANGE, flag="--init-std",
            cli="number", help="--init normal: the weights' standard deviation (default 1)",
            label="Weight std",
            tooltip="The normal initialiser's standard deviation, whatever the layer width: try 5 "
                    "with sigmoid units to see them saturate and the network barely learn"),
    Setting("residual", "network", bool, False, flag="--residual", cli="switch",
            label="Residual links",
            tooltip="Each hidden layer adds its input to its output, between layers of equal width"),
    Setting("optimizer", "train", str, "adam", choices=OPTIMIZER_NAMES, flag="--optimizer",
            cli="choice", label="Optimiser"),
    Setting("lr", "train", float, 0.01, live=True, range=(1e-6, 10.0), flag="--lr", cli="number",
            label="Learning rate", tooltip="Step size of the optimiser; applies at once"),
    Setting("momentum", "train", float, None, flag="--momentum", cli="number", field=False,
            label="Momentum"),
    Setting("schedule", "train", str, "constant", live=True, choices=SCHEDULE_NAMES,
            flag="--schedule", cli="choice", label="Schedule",
            tooltip="How the learning rate changes with the step count"),
    Setting("batch_size", "train", int, 10, live=True, range=(1, MAX_BATCH), flag="--batch-size",
            cli="count", label="Batch size", tooltip="Examples per minibatch; applies at once"),
    Setting("l2", "train", float, 0.0, live=True, range=(0.0, 10.0), flag="--l2", cli="number",
            label="L2", tooltip="L2 penalty (weight decay) on the weights; applies at once"),
    Setting("l1", "train", float, 0.0, live=True, range=(0.0, 10.0), flag="--l1", cli="number",
            label="L1", tooltip="L1 penalty on the weights (pushes them to zero); applies at once"),
    Setting("dropout", "train", float, 0.0, live=True, range=(0.0, 0.95), flag="--dropout",
            cli="number", label="Dropout",
            tooltip="Share of hidden units dropped per minibatch; applies at once"),
    Setting("test_fraction", "data", float, 0.2, range=(0.0, 0.9), flag="--test-fraction",
            cli="number", label="Split",
            tooltip="Share of the examples held out to measure generalisation"),
    Setting("preprocess", "data", str, "none", choices=PREPROCESS_NAMES, flag="--preprocess",
            cli="choice", label="Preprocessing",
            tooltip="Fitted on the training split and saved with the network"),
    Setting("seed", "train", int, 0, range=_SEED_RANGE, flag="--seed", cli="whole", label="Seed",
            tooltip="Seeds the first weights, the shuffling and the split"),
    # the CLI lists float32 first (its error message names the choices in this order)
    Setting("dtype", "network", str, "float64", choices=("float32", "float64"), flag="--dtype",
            cli="choice", label="Precision"),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
#: the settings that apply while training
LIVE: tuple[str, ...] = tuple(s.name for s in SETTINGS if s.live)


def setting(name: str) -> Setting:
    """The declaration of ``name`` (KeyError for a name that is not a setting)."""
    return BY_NAME[name]


def cli_settings() -> tuple[Setting, ...]:
    """The settings the ``nnviz train`` command takes, in the order it lists them."""
    return tuple(s for s in SETTINGS if s.flag is not None)


__all__ = ["CLI_KINDS", "LIVE", "SETTINGS", "Setting", "cli_settings", "setting"]
