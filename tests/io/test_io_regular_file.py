"""Only regular files are opened: a FIFO or a device would block ``open()`` or stream
without end, a folder gives a raw OSError; each is one FileFormatError instead."""

from __future__ import annotations

import os
import threading

import pytest

from nnviz.io import FileFormatError
from nnviz.io.regular_file import open_regular, read_regular, require_regular_file


def _within(seconds: float, fn):
    """Run ``fn`` on a thread; fail if it blocks (a FIFO opened for reading would)."""
    out: dict = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as e:  # the refusal under test
            out["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "blocked"
    return out


@pytest.mark.parametrize("reader", [require_regular_file, open_regular, lambda p: read_regular(p, 100)])
def test_a_fifo_is_refused_without_blocking(tmp_path, reader):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    out = _within(30, lambda: reader(fifo))
    assert isinstance(out.get("error"), FileFormatError)
    assert "named pipe (FIFO)" in str(out["error"]) and str(out["error"]).startswith("pipe: ")


@pytest.mark.parametrize(("make", "words"), [
    (lambda p: p.mkdir(), "is a folder"),
    (lambda p: None, "no such file"),
])
def test_folders_and_missing_paths(tmp_path, make, words):
    path = tmp_path / "x"
    make(path)
    with pytest.raises(FileFormatError, match=words):
        open_regular(path)


def test_a_device_is_refused():
    with pytest.raises(FileFormatError, match="character device"):
        open_regular("/dev/zero")


def test_a_link_to_a_regular_file_is_read_and_size_is_bounded(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"12345")
    link = tmp_path / "link.bin"
    link.symlink_to(target)
    with open_regular(link) as f:
        assert f.read() == b"12345"
    assert read_regular(link, 5) == b"12345"
    with pytest.raises(FileFormatError, match="at most 4 are read"):
        read_regular(link, 4)
