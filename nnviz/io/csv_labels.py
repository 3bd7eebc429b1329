"""The label column of a CSV, kept compactly while the rows stream past.

Each label cell is kept as a number (8 bytes a row, NaN when it is not one) and as the
code of its text among the distinct texts seen so far, never as a list of strings: a
million rows cost 12 MB, not the 60 MB of their cells. The distinct texts and numbers are
tracked only up to the most classes the task allows, so a regression column of a million
different values does not become a million-entry dictionary.

Problems with a label are recorded at their first row and raised when the table is read,
after every feature cell was checked (the order the messages had before streaming).

Text labels become classes by :func:`text_rule_problem`'s rule.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence

import numpy as np

from nnviz.core.spec import MAX_UNITS
from nnviz.io.csv_cells import MAX_MAGNITUDE, number, resize_rows, short, too_large
from nnviz.io.errors import CsvError

#: whole-number labels with at most this many distinct values are classes (else regression),
#: and text labels with at most this many distinct values are always classes
MAX_INFERRED_CLASSES = 50
#: text labels are never inferred to be more classes than this
MAX_TEXT_CLASSES = 1000
MAX_NAME_CHARS = 1000

TEXT_RULE = (
    f"text labels become classes when there are at most {MAX_INFERRED_CLASSES} different values, "
    f"or at most {MAX_TEXT_CLASSES:,} that are no more than half the rows (names or IDs are not classes)"
)


def text_rule_problem(n_distinct: int | None, n_rows: int, first: bool = False) -> str | None:
    """Why text labels with ``n_distinct`` values (None: more than the most counted) in
    ``n_rows`` rows (the ``first`` rows of more) are not classes, or None when they are. A
    column that differs on most rows (names, IDs, free text) is not a class label; a few
    classes always are."""
    if n_distinct is not None and (
        n_distinct <= MAX_INFERRED_CLASSES or (n_distinct <= MAX_TEXT_CLASSES and 2 * n_distinct <= n_rows)
    ):
        return None
    count = f"{n_distinct:,}" if n_distinct is not None else f"more than {MAX_TEXT_CLASSES:,}"
    rows = f"the first {n_rows:,} rows" if first else f"{n_rows:,} rows"
    return f"holds {count} different text values in {rows}: {TEXT_RULE}"


class _Column:
    """Shared by the label kinds: the row count, the first problem, in-place growth."""

    def __init__(self, path: str | os.PathLike, name: str, decimal_comma: bool):
        self.path, self.name, self.decimal_comma = path, name, decimal_comma
        self.n = 0
        self.problem: CsvError | None = None

    def _note(self, row_no: int, problem: str) -> None:
        if self.problem is None:
            self.problem = CsvError(problem, self.path, row=row_no, column=self.name)

    def _raise_problem(self) -> None:
        if self.problem is not None:
            raise self.problem

    def error(self, problem: str) -> CsvError:
        return CsvError(problem, self.path)


class Targets(_Column):
    """Regression targets: every label cell a number within ±:data:`MAX_MAGNITUDE`."""

    def __init__(self, capacity: int, path: str | os.PathLike, name: str, decimal_comma: bool):
        super().__init__(path, name, decimal_comma)
        self.values = np.empty(capacity, dtype=np.float64)

    def reserve(self, capacity: int) -> None:
        resize_rows(self.values, capacity)

    def add_block(self, rows: list[int], cells: list[str]) -> None:
        """The label cells (stripped) of consecutive rows with these row numbers."""
        self._store_numbers(rows, cells)
        self.n += len(cells)

    def _store_numbers(self, rows: list[int], cells: list[str]) -> bool:
        """Stores the cells' values from row ``n`` on (NaN where a cell is no number);
        notes the first that is no target. True if all are finite."""
        out = self.values[self.n : self.n + len(cells)]
        try:
            out[:] = list(map(float, cells))
        except ValueError:  # decimal commas, or text
            out[:] = [math.nan if v is None else v for v in (number(c, self.decimal_comma) for c in cells)]
        bad = ~(np.abs(out) <= MAX_MAGNITUDE)
        if not bad.any():
            return True
        finite = bool(np.isfinite(out).all())
        if self.problem is None:
            i = int(np.argmax(bad))
            cell = cells[i]
            self._note(rows[i], f"the target {short(cell)!r} is not a finite number"
                       if not math.isfinite(out[i]) else f"the target {too_large(cell)}")
        return finite

    def targets(self) -> np.ndarray:
        """The targets as a column (N, 1); the buffer is handed over, not copied."""
        self._raise_problem()
        return resize_rows(self.values, self.n).reshape(-1, 1)


class InferredLabels(Targets):
    """Labels whose task may still be open: numbers, text classes, or both kept until the
    end decides (``task`` None), within the class counts that task could accept."""

    def __init__(self, capacity: int, path: str | os.PathLike, name: str, decimal_comma: bool,
                 task: str | None):
        super().__init__(capacity, path, name, decimal_comma)
        self.task = task
        self.numeric = True  # every label so far a finite number
        limit = 0 if task == "regression" else MAX_UNITS if task == "classification" else None
        self.max_numbers = MAX_INFERRED_CLASSES if limit is None else limit
        self.max_texts = MAX_TEXT_CLASSES if limit is None else limit
        # None once there are more distinct values than the task allows
        self.spellings: dict[float, str] | None = {} if self.max_numbers else None
        self.texts: dict[str, int] | None = {} if self.max_texts else None
        self.codes = np.empty(capacity if self.texts is not None else 0, dtype=np.int32)

    def reserve(self, capacity: int) -> None:
        super().reserve(capacity)
        if self.texts is not None:
            resize_rows(self.codes, capacity)

    def add_block(self, rows: list[int], cells: list[str]) -> None:
        n = self.n
        self.numeric = self._store_numbers(rows, cells) and self.numeric
        if self.numeric and self.spellings is not None:
            self._spell(self.values[n : n + len(cells)].tolist(), cells)
        if self.texts is not None:
            self._code(n, cells)
        self.n = n + len(cells)
        if self.max_texts and self.texts is None and not self.numeric:  # refused whatever follows
            raise self._text_problem(first=True)

    def _spell(self, values: list[float], cells: list[str]) -> None:
        """The first spelling of each distinct number (a class's name)."""
        spellings = self.spellings
        assert spellings is not None
        new = set(values).difference(spellings)
        if not new:
            return
        if len(spellings) + len(new) > self.max_numbers:
            self.spellings = None
            return
        for v, cell in zip(values, cells, strict=True):
            if v in new:
                spellings.setdefault(v, cell)

    def _code(self, n: int, cells: list[str]) -> None:
        """Each cell's code among the distinct texts."""
        texts = self.texts
        assert texts is not None
        new = set(cells).difference(texts)
        if len(texts) + len(new) > self.max_texts:
            self.texts = None
            return
        for text in new:
            texts[text] = len(texts)
        self.codes[n : n + len(cells)] = list(map(texts.__getitem__, cells))

    def result(self) -> tuple[str, np.ndarray, tuple[str, ...]]:
        """(task, y, class names) once every row was added."""
        task = self.task or self._inferred_task()
        if task == "regression":
            return task, self.targets(), ()
        # the buffer the classes are not made from goes first: peak memory stays near the result
        if self.numeric:
            self.codes = np.empty(0, dtype=np.int32)
            y, names = self._numeric_classes()
        else:
            self.values = np.empty(0)
            y, names = self._text_classes()
        if len(names) < 2:
            raise self.error(f"the label column {self.name!r} holds a single class; classification needs two")
        if any(len(name) > MAX_NAME_CHARS for name in names):
            raise CsvError(f"a class name is longer than {MAX_NAME_CHARS} characters", self.path,
                           column=self.name)
        return task, y, names

    def _inferred_task(self) -> str:
        if self.numeric:
            values = self.values[: self.n]
            whole = bool(np.all(values == np.floor(values)))
            del values
            return "classification" if whole and self.spellings is not None else "regression"
        if text_rule_problem(len(self.texts) if self.texts is not None else None, self.n):
            raise self._text_problem()
        return "classification"

    def _text_problem(self, first: bool = False) -> CsvError:
        """The error for text labels that cannot be the classes of this task."""
        if self.task == "classification":
            return self._too_many()
        n_distinct = len(self.texts) if self.texts is not None else None
        problem = text_rule_problem(n_distinct, self.n, first)
        return self.error(f"the label column {self.name!r} {problem}; choose another label column")

    def _too_many(self) -> CsvError:
        return self.error(f"the label column has more than {MAX_UNITS:,} classes; at most {MAX_UNITS:,}")

    def _numeric_classes(self) -> tuple[np.ndarray, tuple[str, ...]]:
        """Classes in order of value ("1" and "1.0" are one class, 10 sorts after 9)."""
        if self.spellings is None:
            raise self._too_many()
        keys = np.array(sorted(self.spellings), dtype=np.float64)
        y = np.searchsorted(keys, resize_rows(self.values, self.n)).astype(np.int64, copy=False)
        return y, tuple(_class_name(self.spellings[k]) for k in keys.tolist())

    def _text_classes(self) -> tuple[np.ndarray, tuple[str, ...]]:
        """Classes in sorted order of their text."""
        if self.texts is None:
            raise self._too_many()
        order = sorted(self.texts)
        rank = np.empty(len(order), dtype=np.int64)
        rank[[self.texts[t] for t in order]] = np.arange(len(order))
        return rank[resize_rows(self.codes, self.n)], tuple(order)


def _class_name(cell: str) -> str:
    """A numeric class label's name: "1.0" reads as "1"."""
    v = number(cell, True)
    assert v is not None
    return str(int(v)) if v.is_integer() and abs(v) < 2**53 else cell


class KnownClasses(_Column):
    """Labels mapped through a network's class names (for prediction with accuracy)."""

    def __init__(self, capacity: int, path: str | os.PathLike, name: str, class_names: Sequence[str]):
        super().__init__(path, name, False)
        self.class_names = list(class_names)
        self.lookup = _class_lookup(self.class_names)
        self.y = np.empty(capacity, dtype=np.int64)

    def reserve(self, capacity: int) -> None:
        resize_rows(self.y, capacity)

    def add_block(self, rows: list[int], cells: list[str]) -> None:
        ys = list(map(self.lookup, cells))
        if None in ys:
            i = ys.index(None)
            names = self.class_names
            shown = ", ".join(names[:10]) + (" ..." if len(names) > 10 else "")
            problem = f"the label {short(cells[i])!r} is not one of the network's classes ({shown})"
            self._note(rows[i], problem)
            ys = [-1 if y is None else y for y in ys]
        self.y[self.n : self.n + len(cells)] = ys
        self.n += len(cells)

    def classes(self) -> np.ndarray:
        self._raise_problem()
        return resize_rows(self.y, self.n)


def _class_lookup(class_names: Sequence[str]) -> Callable[[str], int | None]:
    exact = {name: i for i, name in enumerate(class_names)}
    numeric: dict[float, int] = {}
    for i, name in enumerate(class_names):
        v = number(name, False)
        if v is not None:
            numeric.setdefault(v, i)

    def lookup(cell: str) -> int | None:
        if cell in exact:
            return exact[cell]
        v = number(cell, False)
        return numeric.get(v) if v is not None else None

    return lookup


LabelColumn = Targets | InferredLabels | KnownClasses

__all__ = [
    "MAX_INFERRED_CLASSES",
    "MAX_NAME_CHARS",
    "MAX_TEXT_CLASSES",
    "TEXT_RULE",
    "InferredLabels",
    "KnownClasses",
    "LabelColumn",
    "Targets",
    "text_rule_problem",
]
