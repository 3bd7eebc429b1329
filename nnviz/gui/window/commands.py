"""Undoable architecture edits (Edit > Undo / Redo).

A command holds the network settings before and after an edit and asks the control
panel to show one or the other; the panel then tells the window, which applies them
like any other edit. Repeated edits of one field (spinning a layer's units) merge into
one command, so one Undo takes the whole spin back.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtGui import QUndoCommand

from nnviz.app.run_settings import NetworkSettings

_MERGE_ID = 4711


class NetworkTarget(Protocol):
    def apply_network(self, settings: NetworkSettings) -> None: ...


class NetworkEdit(QUndoCommand):
    """One architecture edit: ``before`` -> ``after``; ``key`` groups edits that merge."""

    def __init__(
        self, target: NetworkTarget, before: NetworkSettings, after: NetworkSettings, text: str,
        key: str | None = None,
    ):
        super().__init__(text)
        self._target = target
        self.before = before
        self.after = after
        self.key = key

    def redo(self) -> None:
        self._target.apply_network(self.after)

    def undo(self) -> None:
        self._target.apply_network(self.before)

    def id(self) -> int:
        return _MERGE_ID if self.key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, NetworkEdit) or other.key != self.key or self.key is None:
            return False
        self.after = other.after
        if self.after == self.before:
            self.setObsolete(True)
        return True
