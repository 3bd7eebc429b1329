"""One CSV cell as a number, the bound on its size, and buffers that grow and shrink in place."""

from __future__ import annotations

import numpy as np

#: the largest magnitude a number in a CSV may have. Finite numbers near 1e308 break
#: everything downstream (a plot range of [-inf, inf], overflow when standardising or in a
#: squared loss); below 1e100 a square, or a sum of a few million of them, stays finite.
MAX_MAGNITUDE = 1e100


def number(cell: str, decimal_comma: bool) -> float | None:
    """The cell's value (``float`` syntax; ``1,5`` too with ``decimal_comma``), else None."""
    if decimal_comma and "," in cell and "." not in cell:
        cell = cell.replace(",", ".")
    try:
        return float(cell)
    except ValueError:
        return None


def short(cell: str) -> str:
    """A cell as shown in a message: at most 40 characters."""
    return cell if len(cell) <= 40 else cell[:37] + "..."


def too_large(cell: str) -> str:
    """The problem of a finite number beyond :data:`MAX_MAGNITUDE`."""
    return f"{short(cell)!r} is beyond ±1e100, the largest magnitude nnviz reads"


def resize_rows(a: np.ndarray, rows: int) -> np.ndarray:
    """``a`` with ``rows`` rows, resized in place (``realloc``: shrinking copies nothing,
    so trimming a preallocated table to its rows never needs twice its memory). ``a`` must
    own its data and have no views."""
    a.resize((rows, *a.shape[1:]), refcheck=False)
    return a


__all__ = ["MAX_MAGNITUDE", "number", "resize_rows", "short", "too_large"]
