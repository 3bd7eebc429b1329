"""CSV data in and out, with errors that point at a row and a column.

Reading streams the file through the ``csv`` module (no pandas) straight into a float64
table allocated once: a first pass over the bytes finds the encoding and bounds the rows,
so memory peaks near the final arrays (never a Python float per cell), and anything but a
regular file is refused before it is opened. The header is optional and detected, the
separator found in linear time (:mod:`nnviz.io.csv_sniff`), the label is the last column
unless named, text class labels become integer classes in sorted order
(:mod:`nnviz.io.csv_labels` has the rule), and every bad cell is reported as a
spreadsheet would show it (row 1 is the first line of the file). Numbers beyond
±:data:`~nnviz.io.csv_cells.MAX_MAGNITUDE` are refused. Writing goes through the atomic writer.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from nnviz.core.data import MAX_EXAMPLES, DataError, Dataset
from nnviz.core.history import COLUMNS, EVAL_COLUMNS, History
from nnviz.core.spec import MAX_UNITS
from nnviz.io.atomic import atomic_write_text, describe_os_error
from nnviz.io.csv_cells import MAX_MAGNITUDE, number, resize_rows, short, too_large
from nnviz.io.csv_labels import MAX_NAME_CHARS, InferredLabels, KnownClasses, LabelColumn, Targets
from nnviz.io.csv_sniff import SAMPLE_CHARS, FileScan, scan_file, sniff_delimiter
from nnviz.io.errors import CsvError, FileFormatError
from nnviz.io.regular_file import open_regular

MAX_LINE_CHARS = 4 * 1024**2
_BLOCK = 65_536
#: a block of rows ends after so many cells or characters (its rows stay at hand until it
#: is checked, so that a message can quote a cell; this bounds what they hold)
_CHECK_CELLS = 32_768
_CHECK_CHARS = 1 << 22


@dataclass(frozen=True)
class FeatureTable:
    """Inputs for prediction, and the labels if the file had them.

    ``y`` holds class indices (when class names were given) or target values (N, 1).
    """

    X: np.ndarray
    y: np.ndarray | None
    feature_names: tuple[str, ...]
    label_name: str | None


@dataclass
class _Table:
    """A CSV file read once: the feature columns as a float table, the labels compactly."""

    header: list[str] | None
    n_columns: int
    feature_cols: list[int]
    label_col: int | None
    delimiter: str
    X: np.ndarray | None = None
    labels: LabelColumn | None = None

    def name(self, i: int) -> str:
        return self.header[i] if self.header else f"column {i + 1}"

    def feature_names(self) -> tuple[str, ...]:
        """Header names, or x1, x2, ... (the app's names) for a file without a header."""
        if self.header is None:
            return tuple(f"x{k + 1}" for k in range(len(self.feature_cols)))
        return tuple(self.header[i] for i in self.feature_cols)

    @property
    def label_name(self) -> str | None:
        return None if self.label_col is None else self.name(self.label_col)

    @property
    def decimal_comma(self) -> bool:
        return self.delimiter != ","


#: makes the label column for a table about to be read, with room for so many rows
LabelMaker = Callable[[_Table, int], LabelColumn | None]


# --- reading -----------------------------------------------------------------------------
def _read_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "there is no such file"
    if isinstance(exc, IsADirectoryError):
        return "it is a folder"
    return describe_os_error(exc)


def _open(path: Path) -> BinaryIO:
    """The file opened for reading if it is a regular file (a FIFO or a device would hang
    ``open()``; a folder is no CSV)."""
    try:
        return open_regular(path)
    except FileFormatError as exc:
        problem = exc.problem
        reason = ("there is no such file" if problem == "no such file" else
                  f"it {problem}" if problem.startswith("is ") else problem)
        raise CsvError(f"cannot read the file: {reason}", path) from None


def _lines(f, path: Path, chars: list[int]) -> Iterator[str]:
    """Lines with a bounded length (a hostile file cannot make one huge string);
    ``chars[0]`` counts the characters read."""
    n = 0
    while True:
        line = f.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        n += 1
        chars[0] += len(line)
        if len(line) > MAX_LINE_CHARS:
            raise CsvError(f"the line is longer than {MAX_LINE_CHARS:,} characters", path, row=n)
        yield line


def _records(f, path: Path, delimiter: str, chars: list[int]) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row number, cells as written) for every non-blank record."""
    reader = csv.reader(_lines(f, path, chars), delimiter=delimiter, skipinitialspace=True, strict=True)
    row_no = 0
    try:
        for cells in reader:
            row_no = reader.line_num
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # a blank line
            yield row_no, cells
    except csv.Error as exc:
        raise CsvError(f"the CSV is malformed ({exc})", path, row=reader.line_num or row_no + 1) from exc


def _column_index(label: int | str | None, header: list[str] | None, n_columns: int, path: Path) -> int:
    if label is None:
        return n_columns - 1
    if isinstance(label, bool) or not isinstance(label, int | str):
        raise CsvError(f"the label column must be a name or an index, not {label!r}", path)
    if isinstance(label, int):
        if not -n_columns <= label < n_columns:
            raise CsvError(f"there is no column {label}; the file has {n_columns} columns", path)
        return label % n_columns
    if header is None:
        raise CsvError(f"no column is named {label!r}: the file has no header row", path)
    if label not in header:
        shown = ", ".join(header[:20]) + (" ..." if len(header) > 20 else "")
        raise CsvError(f"no column is named {label!r}; the columns are {shown}", path)
    if header.count(label) > 1:
        raise CsvError(f"more than one column is named {label!r}", path)
    return header.index(label)


_NO_LABEL = -1


def _read_table(
    path: Path,
    label: int | str | None,
    has_header: bool | None,
    label_guess: Callable[[int], int | None],
    make_labels: LabelMaker,
) -> _Table:
    """Read the whole file once. ``label_guess(n_columns)`` gives the label column before
    the header is known (None when ``label`` is a name; ``_NO_LABEL`` for none)."""
    with _open(path) as raw:
        scan = scan_file(raw, path)
        raw.seek(0)
        with io.TextIOWrapper(raw, encoding=scan.encoding, newline="") as f:
            sample = f.read(SAMPLE_CHARS)
            delimiter = sniff_delimiter(sample, at_end=len(sample) < SAMPLE_CHARS)
            f.seek(0)
            chars = [0]
            records = _records(f, path, delimiter, chars)
            first = next(records, None)
            if first is None:
                raise CsvError("the file holds no rows", path)
            table = _layout(path, first, label, has_header, label_guess, delimiter)
            data_rows = records if table.header else itertools.chain([first], records)
            capacity = _capacity(scan, table)
            table.labels = make_labels(table, capacity)
            table.X = _TableReader(table, path, capacity, chars).read(data_rows)
    if not len(table.X):
        raise CsvError("the file has a header but no data rows", path)
    return table


def _layout(path: Path, first: tuple[int, list[str]], label: int | str | None, has_header: bool | None,
            label_guess: Callable[[int], int | None], delimiter: str) -> _Table:
    """The columns, from the first record: header or not, the label, the features."""
    first_no, cells = first
    first_cells = [cell.strip() for cell in cells]
    c = len(first_cells)
    if c > MAX_UNITS + 1:
        raise CsvError(f"it has {c:,} columns; at most {MAX_UNITS + 1:,} are allowed", path, row=first_no)
    guess = label_guess(c)
    if has_header is None:
        skip = c - 1 if guess is None else guess
        has_header = any(number(cell, True) is None for i, cell in enumerate(first_cells) if i != skip)
    header = None
    if has_header:
        for i, name in enumerate(first_cells):
            if len(name) > MAX_NAME_CHARS:
                raise CsvError(f"the column name is longer than {MAX_NAME_CHARS} characters", path,
                               row=first_no, column=f"column {i + 1}")
        header = [name if name else f"column {i + 1}" for i, name in enumerate(first_cells)]
    if guess == _NO_LABEL:
        col = None
    else:
        col = _column_index(label, header, c, path) if label is not None or guess is None else guess
    return _Table(header, c, [i for i in range(c) if i != col], col, delimiter)


def _capacity(scan: FileScan, table: _Table) -> int:
    """An upper bound on the data rows, known before any is parsed: the file's lines, and
    its bytes (a kept row has a non-empty cell and a separator per column)."""
    lines = scan.max_lines - (1 if table.header else 0)
    by_bytes = scan.size // (2 * table.n_columns - 1) + 1
    return max(1, min(MAX_EXAMPLES, lines, by_bytes))


def _picker(n_columns: int, label_col: int | None) -> Callable[[list[str]], list[str]]:
    """The feature cells of a row, as one slice where the label is at an end."""
    if label_col is None:
        return lambda cells: cells
    if label_col == n_columns - 1:
        return lambda cells: cells[:-1]
    if label_col == 0:
        return lambda cells: cells[1:]
    return lambda cells: cells[:label_col] + cells[label_col + 1:]


def _comma_float(cell: str) -> float:
    return float(cell.replace(",", "."))


class _TableReader:
    """Rows into a preallocated float64 table, each cell parsed once by ``float``.

    Rows are gathered in a small block (at most about :data:`_CHECK_CELLS` numbers, kept
    in an ``array`` of C doubles, never as Python floats, and :data:`_CHECK_CHARS` characters
    of text); each block has its range checked
    by NumPy, is copied into the table, and hands its label cells over in one call. The
    block's rows stay at hand until then so a message can quote the cell. Every error is
    raised in file order: the rows before it are checked first.
    """

    def __init__(self, table: _Table, path: Path, capacity: int, chars: list[int]):
        self.table, self.path = table, path
        self.chars = chars  # characters read so far, counted by _lines
        self.block_start = 0  # chars[0] when the block began
        self.X = np.empty((capacity, len(table.feature_cols)), dtype=np.float64)
        self.n = 0  # rows in the table
        self.numbers = array("d")  # the block's feature values, row after row
        self.rows: list[int] = []  # the block's spreadsheet row numbers
        self.cells: list[list[str]] = []  # the block's cells as read
        self.label_cells: list[str] = []  # the block's label cells, stripped

    def read(self, records: Iterator[tuple[int, list[str]]]) -> np.ndarray:
        try:
            self._read_rows(records)
        except CsvError:
            if self.rows:
                self._check_block(len(self.rows))  # an earlier row's problem comes first
            raise
        self._flush()
        return resize_rows(self.X, self.n)

    def _read_rows(self, records: Iterator[tuple[int, list[str]]]) -> None:
        t, path = self.table, self.path
        c, lcol = t.n_columns, t.label_col
        pick = _picker(c, lcol)
        # with decimal commas every comma may be a point: a cell that reads only when its
        # one comma is a point is what ``number`` reads, and no other cell reads either way
        parse = _comma_float if t.decimal_comma else float
        numbers, rows, all_cells, label_cells = self.numbers, self.rows, self.cells, self.label_cells
        block_size = max(1, _CHECK_CELLS // c)
        for row_no, cells in records:
            if len(cells) != c:
                raise CsvError(f"the row has {len(cells)} cells but the first row has {c}", path, row=row_no)
            if self.n + len(rows) >= MAX_EXAMPLES:
                raise CsvError(f"it has more than {MAX_EXAMPLES:,} data rows, the most nnviz can use", path,
                               row=row_no)
            mark = len(numbers)
            try:
                numbers.extend(map(parse, pick(cells)))
            except ValueError:
                del numbers[mark:]
                numbers.extend(self._slow_row(row_no, cells))
            rows.append(row_no)
            all_cells.append(cells)
            if lcol is not None:
                cell = cells[lcol].strip()
                if not cell:
                    raise CsvError("the label cell is empty", path, row=row_no, column=t.name(lcol))
                label_cells.append(cell)
            if len(rows) >= block_size or self.chars[0] - self.block_start > _CHECK_CHARS:
                self._flush()

    def _slow_row(self, row_no: int, cells: list[str]) -> list[float]:
        """A row the fast path refused: decimal commas, or a cell to report."""
        values = []
        for i in self.table.feature_cols:
            cell = cells[i].strip()
            v = number(cell, self.table.decimal_comma) if cell else None
            if v is None or not math.isfinite(v) or abs(v) > MAX_MAGNITUDE:
                raise self._cell_error(row_no, i, cell, v)
            values.append(v)
        return values

    def _cell_error(self, row_no: int, col: int, cell: str, v: float | None) -> CsvError:
        problem = ("the cell is empty" if not cell else
                   f"{short(cell)!r} is not a number" if v is None else
                   f"{short(cell)!r} is not a finite number" if not math.isfinite(v) else
                   too_large(cell))
        return CsvError(problem, self.path, row=row_no, column=self.table.name(col))

    def _flush(self) -> None:
        """The block into the table, once its first non-finite or too large number (if
        any) is refused."""
        k = len(self.rows)
        if not k:
            return
        self._check_block(k)
        if self.n + k > len(self.X):
            self._grow(self.n + k)
        self.X[self.n : self.n + k] = np.frombuffer(self.numbers, dtype=np.float64).reshape(k, -1)
        if self.table.labels is not None:
            self.table.labels.add_block(self.rows, self.label_cells)
        self.n += k
        del self.numbers[:], self.rows[:], self.cells[:], self.label_cells[:]
        self.block_start = self.chars[0]

    def _check_block(self, k: int) -> None:
        block = np.frombuffer(self.numbers, dtype=np.float64).reshape(k, -1)
        bad = ~(np.abs(block) <= MAX_MAGNITUDE)
        if bad.any():
            i, j = (int(a) for a in np.argwhere(bad)[0])
            col = self.table.feature_cols[j]
            v = float(block[i, j])
            del block
            raise self._cell_error(self.rows[i], col, self.cells[i][col].strip(), v)

    def _grow(self, rows: int) -> None:
        """More room, should the bound have been passed (a file that grew while read)."""
        rows = min(MAX_EXAMPLES, max(rows, len(self.X) * 3 // 2))
        resize_rows(self.X, rows)
        if self.table.labels is not None:
            self.table.labels.reserve(rows)


def _read_safely(p: Path, label, has_header, guess, make_labels: LabelMaker) -> _Table:
    try:
        return _read_table(p, label, has_header, guess, make_labels)
    except OSError as exc:
        raise CsvError(f"cannot read the file: {_read_reason(exc)}", p) from exc
    except UnicodeDecodeError as exc:  # the file changed after its encoding was found
        raise CsvError("the file changed while it was read", p) from exc
    except MemoryError as exc:
        raise CsvError("there is not enough memory to read it", p) from exc


def load_csv(
    path: str | os.PathLike,
    label: int | str | None = None,
    task: str | None = None,
    has_header: bool | None = None,
) -> Dataset:
    """A data set from a CSV file: features in every column but the label.

    ``label``: column name or index (default: the last column). ``task``:
    "classification" or "regression" (default: inferred: whole-number labels with at most
    50 distinct values are classes, other numbers are regression; text labels are classes
    by :data:`~nnviz.io.csv_labels.TEXT_RULE`). ``has_header``: default detected (a first
    row with a non-numeric feature cell is a header). Raises :class:`CsvError` naming the
    row and column of any bad cell.
    """
    p = Path(os.fspath(path))
    if task not in (None, "classification", "regression"):
        raise CsvError(f"the task must be classification or regression, not {task!r}", p)
    if isinstance(label, str) and has_header is None:
        has_header = True

    def guess(c: int) -> int | None:
        if c < 2:
            raise CsvError("it has one column; nnviz needs feature columns and a label column", p)
        return None if isinstance(label, str) else _column_index(label, None, c, p)

    def labels(t: _Table, capacity: int) -> InferredLabels:
        return InferredLabels(capacity, p, t.label_name or "", t.decimal_comma, task)

    cols = _read_safely(p, label, has_header, guess, labels)
    assert isinstance(cols.labels, InferredLabels) and cols.X is not None
    try:
        task, y, class_names = cols.labels.result()
        return Dataset(cols.X, y, task, p.stem or "data", cols.feature_names(), class_names,
                       {"csv": p.name, "label": cols.label_name})
    except DataError as exc:
        raise CsvError(str(exc), p) from exc
    except MemoryError as exc:
        raise CsvError("there is not enough memory to read it", p) from exc


def load_features_csv(
    path: str | os.PathLike,
    n_features: int,
    label: int | str | None = None,
    *,
    class_names: Sequence[str] | None = None,
    has_header: bool | None = None,
) -> FeatureTable:
    """Inputs for a network with ``n_features`` inputs, for prediction.

    With ``label`` (name or index) that column is the label; without it, a file with
    exactly one column more than ``n_features`` has its last column taken as the label.
    Labels are mapped to class indices through ``class_names`` (classification) or read
    as numbers (``class_names`` None). Raises :class:`CsvError`.
    """
    p = Path(os.fspath(path))
    if isinstance(label, str) and has_header is None:
        has_header = True

    def guess(c: int) -> int | None:
        if label is None:
            if c == n_features:
                return _NO_LABEL
            if c == n_features + 1:
                return c - 1
            raise CsvError(
                f"it has {c} columns; the network takes {n_features} features "
                "(plus an optional label column)", p
            )
        if c != n_features + 1:
            raise CsvError(f"it has {c} columns; the network takes {n_features} features plus the label", p)
        return None if isinstance(label, str) else _column_index(label, None, c, p)

    def labels(t: _Table, capacity: int) -> Targets | KnownClasses | None:
        if t.label_col is None:
            return None
        name = t.label_name or ""
        if class_names is None:
            return Targets(capacity, p, name, t.decimal_comma)
        return KnownClasses(capacity, p, name, class_names)

    cols = _read_safely(p, label, has_header, guess, labels)
    assert cols.X is not None
    names = cols.feature_names()
    if cols.labels is None:
        return FeatureTable(cols.X, None, names, None)
    y = cols.labels.classes() if isinstance(cols.labels, KnownClasses) else cols.labels.targets()
    return FeatureTable(cols.X, y, names, cols.label_name)


# --- writing -----------------------------------------------------------------------------
def _cell(v: Any) -> Any:
    """Floats as their shortest exact form; NaN (a missing value) as an empty cell."""
    if isinstance(v, float):
        return "" if math.isnan(v) else repr(v)
    return v


def _write_rows(path: str | os.PathLike, header: list[str], rows: Iterator[list[Any]]) -> None:
    with atomic_write_text(path) as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for row in rows:
            w.writerow([_cell(v) for v in row])


def _label_header(taken: Sequence[str], count: int) -> list[str]:
    base = next(n for n in ("label", "target", "y", "_label") if n not in taken)
    return [base] if count == 1 else [f"{base}{i + 1}" for i in range(count)]


def write_dataset_csv(dataset: Dataset, path: str | os.PathLike) -> None:
    """The data set as CSV: feature columns, then the label (class names for
    classification) or target column(s). :func:`load_csv` reads it back."""
    features = list(dataset.feature_names)
    header = features + _label_header(features, dataset.target_dim)
    names = dataset.class_names

    def rows() -> Iterator[list[Any]]:
        for start in range(0, len(dataset), _BLOCK):
            X = dataset.X[start : start + _BLOCK].tolist()
            y = dataset.y[start : start + _BLOCK]
            if dataset.task == "classification":
                labels = [[names[c] if c < len(names) else str(c)] for c in y.tolist()]
            else:
                labels = y.tolist()
            for x, lab in zip(X, labels, strict=True):
                yield x + lab

    _write_rows(path, header, rows())


def write_predictions_csv(
    path: str | os.PathLike,
    X: np.ndarray,
    predictions: np.ndarray,
    probabilities: np.ndarray | None = None,
    feature_names: Sequence[str] | None = None,
) -> None:
    """Inputs with the network's answers: feature columns, ``prediction`` (one column per
    output for multi-output regression), then ``p0``, ``p1``, ... class probabilities."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError("X must be a table (rows, features)")
    n = len(X)
    pred = np.asarray(predictions)
    if pred.ndim == 0 or len(pred) != n:
        raise ValueError(f"{n} input rows but {pred.shape[0] if pred.ndim else 1} predictions")
    pred = pred.reshape(n, -1) if n else pred.reshape(0, pred.shape[1] if pred.ndim > 1 else 1)
    names = list(feature_names) if feature_names is not None else [f"x{i + 1}" for i in range(X.shape[1])]
    if len(names) != X.shape[1]:
        raise ValueError(f"{len(names)} feature names for {X.shape[1]} columns")
    outputs = pred.shape[1]
    header = names + (["prediction"] if outputs == 1 else [f"prediction{i + 1}" for i in range(outputs)])
    probs = None
    if probabilities is not None:
        probs = np.asarray(probabilities, dtype=np.float64)
        if probs.ndim != 2 or len(probs) != n:
            raise ValueError(f"probabilities must be a table of {n} rows, not of shape {probs.shape}")
        header += [f"p{i}" for i in range(probs.shape[1])]

    def rows() -> Iterator[list[Any]]:
        for start in range(0, n, _BLOCK):
            xs = X[start : start + _BLOCK].tolist()
            ps = pred[start : start + _BLOCK].tolist()
            qs = probs[start : start + _BLOCK].tolist() if probs is not None else None
            for k, (x, p) in enumerate(zip(xs, ps, strict=True)):
                yield x + p + (qs[k] if qs is not None else [])

    _write_rows(path, header, rows())


def write_history_csv(history: History, path: str | os.PathLike) -> None:
    """The loss history, one row per step; evaluation columns are filled on the steps
    where an evaluation was made (empty elsewhere)."""
    steps = history.steps.array()
    evals = history.evals.array()
    eval_cols = list(EVAL_COLUMNS[1:])
    header = list(COLUMNS) + eval_cols
    rows: list[list[Any]] = [list(r) + [math.nan] * len(eval_cols) for r in steps.tolist()]
    at: dict[float, int] = {r[0]: i for i, r in enumerate(rows)}
    for e in evals.tolist():
        i = at.get(e[0])
        if i is None:
            rows.append([e[0]] + [math.nan] * (len(COLUMNS) - 1) + e[1:])
        else:
            rows[i][len(COLUMNS):] = e[1:]
    rows.sort(key=lambda r: (math.isnan(r[0]), r[0]))
    for r in rows:  # counters are whole numbers
        for j in (0, 1):
            if not math.isnan(r[j]) and float(r[j]).is_integer():
                r[j] = int(r[j])
    _write_rows(path, header, iter(rows))
