"""The exceptions of the file layer.

Loading raises exactly one kind of exception, :class:`FileFormatError`, whatever is wrong
with the file, so a caller (the command line, the window) needs one ``except`` to turn any
bad file into a message. Saving raises :class:`SaveError`, an ``OSError``, because what
goes wrong there is the disk or the folder, not the file's contents.
"""

from __future__ import annotations

import os
from pathlib import Path


def _name(path: str | os.PathLike | None) -> str | None:
    if path is None:
        return None
    return Path(os.fspath(path)).name or os.fspath(path)


class FileFormatError(ValueError):
    """A file that cannot be loaded; the message names the file and the problem.

    ``problem`` is the message without the file name; ``path`` is the path as given.
    """

    def __init__(self, problem: str, path: str | os.PathLike | None = None):
        self.problem = problem
        self.path = None if path is None else os.fspath(path)
        name = _name(path)
        super().__init__(problem if name is None else f"{name}: {problem}")


class CsvError(FileFormatError):
    """A CSV file that cannot be used; names the row (1-based, as a spreadsheet shows it)
    and the column where the problem is."""

    def __init__(
        self,
        problem: str,
        path: str | os.PathLike | None = None,
        row: int | None = None,
        column: str | None = None,
    ):
        self.row = row
        self.column = column
        where = []
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        text = f"{', '.join(where)}: {problem}" if where else problem
        super().__init__(text, path)
        self.problem = problem


class SaveError(OSError):
    """Saving failed; the previous file (if any) is untouched and no temporary file is
    left behind. The message names the path and the reason."""

    def __init__(self, message: str, path: str | os.PathLike | None = None, errno: int | None = None):
        super().__init__(message)
        # set after construction: passing them to OSError would change str(self)
        self.errno = errno
        self.path = None if path is None else os.fspath(path)
