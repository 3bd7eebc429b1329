"""The run document: what the window has open, without Qt.

One object says which settings and data the run being trained has, where it was read
from or saved to, what it is called, whether it has changes that are not saved, and which
run (generation) the worker's emissions must belong to. The window shows it (title,
modified mark, controls); only this module decides how it changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from nnviz.app.run_settings import CUSTOM, RunSettings
from nnviz.core.data import Dataset

DEMO_NAME = "Spiral demo"
EDITED = " (edited)"


@dataclass
class RunDocument:
    """The window's open document. ``settings`` are those of the run being trained (the
    controls may show others while an edit waits for Reset); ``custom_data`` is the data
    of a run that is not one of the built-in generators (an import, a file, edited points)."""

    name: str = DEMO_NAME
    path: Path | None = None
    modified: bool = False
    settings: RunSettings = field(default_factory=RunSettings)
    custom_data: Dataset | None = None
    generation: int = 0  # the worker's emissions carry it; older ones are dropped
    run_number: int = 0  # the n of "run n" in the loss plot's labels

    @property
    def title(self) -> str:
        """The window title, ``[*]`` where Qt puts the modified mark."""
        return f"{self.name}[*] — nnviz"

    @property
    def custom_name(self) -> str | None:
        return self.custom_data.name if self.custom_data is not None else None

    @property
    def custom_kind(self) -> tuple[str, int] | None:
        """The custom data's task and class count (which losses can train it), if any."""
        if self.custom_data is None:
            return None
        return self.custom_data.task, self.custom_data.n_classes

    @property
    def is_2d(self) -> bool:
        """Whether the run's data has two inputs (built-in sets are all 2-D or digits)."""
        if self.custom_data is not None:
            return self.custom_data.n_features == 2
        return True

    def begin_run(self, settings: RunSettings, custom: Dataset | None) -> int:
        """A new run with these settings becomes the one trained; its generation."""
        self.generation += 1
        self.run_number += 1
        self.settings = settings
        self.custom_data = custom
        return self.generation

    def changed(self) -> None:
        """The run moved on (trained, reset, edited): there is something to save."""
        self.modified = True

    def train_settings_applied(self, live: dict) -> RunSettings:
        """Settings that apply live (learning rate, L2, ...) now hold for the running run."""
        self.settings = replace(self.settings, train=replace(self.settings.train, **live))
        self.modified = True
        return self.settings

    def data_edited(self, X: np.ndarray, y: np.ndarray, task: str,
                    class_names: tuple[str, ...] | None) -> Dataset:
        """Points were added or removed by clicks: the edited set becomes the run's custom
        data, named after what it was ("spiral (edited)")."""
        base = self.custom_data.name if self.custom_data is not None else self.settings.data.source
        name = base if base.endswith(EDITED) else base + EDITED
        self.custom_data = Dataset(X, y, task, name, class_names=class_names)
        data = replace(self.settings.data, source=CUSTOM, n=len(X), custom_name=name)
        self.settings = replace(self.settings, data=data)
        self.modified = True
        return self.custom_data

    def saved_as(self, path: Path) -> None:
        """Written to (or read from) ``path``: named after it, nothing left to save."""
        self.path = path
        self.name = path.name
        self.modified = False

    opened = saved_as

    def untitled(self, name: str = DEMO_NAME) -> None:
        """A fresh run not yet saved anywhere, with nothing to lose."""
        self.path = None
        self.name = name or "Untitled"
        self.modified = False

    def imported(self, name: str) -> None:
        """A new network on imported data: unsaved, and worth saving."""
        self.path = None
        self.name = name
        self.modified = True
