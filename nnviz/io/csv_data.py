"""CSV data in and out, with errors that point at a row and a column.

Reading streams the file through the ``csv`` module (no pandas): the header is optional
and sniffed, the label is the last column unless named, text class labels become integer
classes in sorted order, and every bad cell is reported as a spreadsheet would show it
(row 1 is the first line of the file). Writing goes through the atomic writer.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import math
import os
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nnviz.core.data import MAX_EXAMPLES, DataError, Dataset
from nnviz.core.history import COLUMNS, EVAL_COLUMNS, History
from nnviz.core.spec import MAX_UNITS
from nnviz.io.atomic import atomic_write_text, describe_os_error
from nnviz.io.errors import CsvError

#: at most this many distinct label values make an inferred classification task
MAX_INFERRED_CLASSES = 50
MAX_LINE_CHARS = 4 * 1024**2
MAX_NAME_CHARS = 1000
_BLOCK = 65_536
_DELIMITERS = ",;\t|"


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
class _Columns:
    """One pass over a CSV file: the feature columns as numbers, the label cells as text."""

    header: list[str] | None
    n_columns: int
    feature_cols: list[int]
    label_col: int | None
    X: np.ndarray
    labels: list[str]
    rows: array  # spreadsheet row number of each data row
    delimiter: str

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


# --- reading -----------------------------------------------------------------------------
def _read_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "there is no such file"
    if isinstance(exc, IsADirectoryError):
        return "it is a folder"
    return describe_os_error(exc)


def _encoding(path: Path) -> str:
    """UTF-8 if the whole file decodes as UTF-8, else Latin-1; refuses binary files."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    seen = False
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            if b"\x00" in chunk:
                raise CsvError("it is a binary file, not CSV text", path)
            seen = seen or bool(chunk.strip())
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
    if not seen:
        raise CsvError("the file is empty", path)
    return "utf-8-sig" if utf8 else "latin-1"


def _lines(f, path: Path) -> Iterator[str]:
    """Lines with a bounded length (a hostile file cannot make one huge string)."""
    n = 0
    while True:
        line = f.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        n += 1
        if len(line) > MAX_LINE_CHARS:
            raise CsvError(f"the line is longer than {MAX_LINE_CHARS:,} characters", path, row=n)
        yield line


def _sniff_delimiter(sample: str) -> str:
    lines = [ln for ln in sample.splitlines() if ln.strip()][:20]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=_DELIMITERS).delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _records(f, path: Path, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row number, stripped cells) for every non-blank record."""
    reader = csv.reader(_lines(f, path), delimiter=delimiter, skipinitialspace=True, strict=True)
    row_no = 0
    try:
        for cells in reader:
            row_no = reader.line_num
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # a blank line
            yield row_no, [c.strip() for c in cells]
    except csv.Error as exc:
        raise CsvError(f"the CSV is malformed ({exc})", path, row=reader.line_num or row_no + 1) from exc


def _number(cell: str, decimal_comma: bool) -> float | None:
    if decimal_comma and "," in cell and "." not in cell:
        cell = cell.replace(",", ".")
    try:
        return float(cell)
    except ValueError:
        return None


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


def _short(cell: str) -> str:
    return cell if len(cell) <= 40 else cell[:37] + "..."


_NO_LABEL = -1


def _read_columns(
    path: Path,
    label: int | str | None,
    has_header: bool | None,
    label_guess: Callable[[int], int | None],
) -> _Columns:
    """Read the whole file once. ``label_guess(n_columns)`` gives the label column before
    the header is known (None when ``label`` is a name; ``_NO_LABEL`` for none)."""
    encoding = _encoding(path)
    with open(path, encoding=encoding, newline="") as f:
        delimiter = _sniff_delimiter(f.read(65_536))
        f.seek(0)
        records = _records(f, path, delimiter)
        first = next(records, None)
        if first is None:
            raise CsvError("the file holds no rows", path)
        first_no, first_cells = first
        c = len(first_cells)
        if c > MAX_UNITS + 1:
            raise CsvError(f"it has {c:,} columns; at most {MAX_UNITS + 1:,} are allowed", path, row=first_no)
        guess = label_guess(c)
        if has_header is None:
            skip = c - 1 if guess is None else guess
            has_header = any(_number(cell, True) is None for i, cell in enumerate(first_cells) if i != skip)
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
        feature_cols = [i for i in range(c) if i != col]
        cols = _Columns(header, c, feature_cols, col, np.empty((0, len(feature_cols))), [], array("q"),
                        delimiter)
        data_rows = records if header else itertools.chain([first], records)
        cols.X = _convert(cols, data_rows, path)
    if not len(cols.X):
        raise CsvError("the file has a header but no data rows", path)
    return cols


def _convert(cols: _Columns, records: Iterator[tuple[int, list[str]]], path: Path) -> np.ndarray:
    """Feature cells to float64 in blocks (memory stays flat); label cells kept as text."""
    decimal_comma = cols.delimiter != ","
    fcols, lcol, c = cols.feature_cols, cols.label_col, cols.n_columns
    blocks = []
    block: list[list[float]] = []
    for n, (row_no, cells) in enumerate(records, 1):
        if len(cells) != c:
            raise CsvError(f"the row has {len(cells)} cells but the first row has {c}", path, row=row_no)
        if n > MAX_EXAMPLES:
            raise CsvError(f"it has more than {MAX_EXAMPLES:,} data rows, the most nnviz can use", path,
                           row=row_no)
        values = []
        for i in fcols:
            cell = cells[i]
            v = _number(cell, decimal_comma) if cell else None
            if v is None or not math.isfinite(v):
                problem = ("the cell is empty" if not cell else
                           f"{_short(cell)!r} is not a number" if v is None else
                           f"{_short(cell)!r} is not a finite number")
                raise CsvError(problem, path, row=row_no, column=cols.name(i))
            values.append(v)
        if lcol is not None:
            cell = cells[lcol]
            if not cell:
                raise CsvError("the label cell is empty", path, row=row_no, column=cols.name(lcol))
            cols.labels.append(cell)
        cols.rows.append(row_no)
        block.append(values)
        if len(block) == _BLOCK:
            blocks.append(np.array(block, dtype=np.float64))
            block = []
    blocks.append(np.array(block, dtype=np.float64).reshape(len(block), len(fcols)))
    return np.concatenate(blocks)


def load_csv(
    path: str | os.PathLike,
    label: int | str | None = None,
    task: str | None = None,
    has_header: bool | None = None,
) -> Dataset:
    """A data set from a CSV file: features in every column but the label.

    ``label``: column name or index (default: the last column). ``task``:
    "classification" or "regression" (default: inferred; whole-number or text labels with
    at most 50 distinct values are classes, other numbers are regression). ``has_header``:
    default sniffed (a first row with a non-numeric feature cell is a header). Raises
    :class:`CsvError` naming the row and column of any bad cell.
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

    cols = _read_safely(p, label, has_header, guess)
    assert cols.label_col is not None
    label_name = cols.label_name
    raw = cols.labels
    decimal_comma = cols.delimiter != ","
    numbers = [_number(v, decimal_comma) for v in raw]
    numeric = all(v is not None and math.isfinite(v) for v in numbers)
    if task is None:
        if numeric:
            whole = all(float(v).is_integer() for v in numbers)  # type: ignore[arg-type]
            task = "classification" if whole and len(set(numbers)) <= MAX_INFERRED_CLASSES else "regression"
        else:
            n_distinct = len(set(raw))
            if n_distinct > MAX_INFERRED_CLASSES:
                raise CsvError(
                    f"the label column {label_name!r} holds {n_distinct:,} different text values: too many "
                    "for classes, and not numbers for regression; choose another label column", p
                )
            task = "classification"
    class_names: tuple[str, ...] = ()
    if task == "regression":
        for row_no, v, cell in zip(cols.rows, numbers, raw, strict=True):
            if v is None or not math.isfinite(v):
                raise CsvError(f"the target {_short(cell)!r} is not a finite number", p, row=row_no,
                               column=label_name)
        y = np.array(numbers, dtype=np.float64).reshape(-1, 1)
    else:
        y, class_names = _classes(raw, numbers if numeric else None)
        if len(class_names) > MAX_UNITS:
            raise CsvError(f"the label column has {len(class_names):,} classes; at most {MAX_UNITS:,}", p)
        if len(class_names) < 2:
            raise CsvError(f"the label column {label_name!r} holds a single class; classification needs two",
                           p)
        if any(len(name) > MAX_NAME_CHARS for name in class_names):
            raise CsvError(f"a class name is longer than {MAX_NAME_CHARS} characters", p, column=label_name)
    names = cols.feature_names()
    try:
        return Dataset(cols.X, y, task, p.stem or "data", names, class_names,
                       {"csv": p.name, "label": label_name})
    except DataError as exc:
        raise CsvError(str(exc), p) from exc


def _read_safely(p: Path, label, has_header, guess) -> _Columns:
    try:
        return _read_columns(p, label, has_header, guess)
    except OSError as exc:
        raise CsvError(f"cannot read the file: {_read_reason(exc)}", p) from exc
    except MemoryError as exc:
        raise CsvError("there is not enough memory to read it", p) from exc


def _classes(raw: list[str], numbers: list[float | None] | None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class indices in sorted order of the labels (by value when they are numbers, so
    "1" and "1.0" are one class and 10 sorts after 9)."""
    if numbers is not None:
        first_spelling: dict[float, str] = {}
        for v, cell in zip(numbers, raw, strict=True):
            first_spelling.setdefault(v, cell)  # type: ignore[arg-type]
        order = sorted(first_spelling)
        index = {v: i for i, v in enumerate(order)}
        names = tuple(_class_name(first_spelling[v]) for v in order)
        return np.array([index[v] for v in numbers], dtype=np.int64), names
    order_s = sorted(set(raw))
    index_s = {v: i for i, v in enumerate(order_s)}
    return np.array([index_s[v] for v in raw], dtype=np.int64), tuple(order_s)


def _class_name(cell: str) -> str:
    """A numeric class label's name: "1.0" reads as "1"."""
    v = float(cell.replace(",", ".")) if _number(cell, False) is None else float(cell)
    return str(int(v)) if v.is_integer() and abs(v) < 2**53 else cell


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

    cols = _read_safely(p, label, has_header, guess)
    names = cols.feature_names()
    if cols.label_col is None:
        return FeatureTable(cols.X, None, names, None)
    label_name = cols.label_name
    decimal_comma = cols.delimiter != ","
    if class_names is None:
        values = []
        for row_no, cell in zip(cols.rows, cols.labels, strict=True):
            v = _number(cell, decimal_comma)
            if v is None or not math.isfinite(v):
                raise CsvError(f"the target {_short(cell)!r} is not a finite number", p, row=row_no,
                               column=label_name)
            values.append(v)
        return FeatureTable(cols.X, np.array(values, dtype=np.float64).reshape(-1, 1), names, label_name)
    lookup = _class_lookup(class_names)
    y = np.empty(len(cols.labels), dtype=np.int64)
    for k, (row_no, cell) in enumerate(zip(cols.rows, cols.labels, strict=True)):
        idx = lookup(cell)
        if idx is None:
            shown = ", ".join(list(class_names)[:10]) + (" ..." if len(class_names) > 10 else "")
            raise CsvError(f"the label {_short(cell)!r} is not one of the network's classes ({shown})", p,
                           row=row_no, column=label_name)
        y[k] = idx
    return FeatureTable(cols.X, y, names, label_name)


def _class_lookup(class_names: Sequence[str]):
    exact = {name: i for i, name in enumerate(class_names)}
    numeric: dict[float, int] = {}
    for i, name in enumerate(class_names):
        v = _number(name, False)
        if v is not None:
            numeric.setdefault(v, i)

    def lookup(cell: str) -> int | None:
        if cell in exact:
            return exact[cell]
        v = _number(cell, False)
        return numeric.get(v) if v is not None else None

    return lookup


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
