"""Saving never loses data: a failed or killed save leaves the previous file intact."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
import unittest.mock as mock
import zipfile
from pathlib import Path

import pytest
from test_io_support import make_session, train

from nnviz.io import SaveError, load_file, save_session, write_dataset_csv
from nnviz.io.atomic import _host_tag, atomic_write, remove_stale_temps, temp_prefix, write_bytes_atomic

ROOT = Path(__file__).resolve().parents[2]


def _saved(tmp_path: Path, steps: int = 5) -> tuple[Path, bytes]:
    s = make_session()
    train(s, steps)
    path = tmp_path / "net.nnviz"
    save_session(s, path)
    return path, path.read_bytes()


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".tmp" in p.name]


@pytest.mark.parametrize("err, reason", [(errno.EROFS, "read-only"), (errno.EACCES, "permission denied")])
def test_failed_rename_keeps_the_old_file(tmp_path, monkeypatch, err, reason):
    path, before = _saved(tmp_path)

    def refuse(src, dst):
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(os, "replace", refuse)
    s = make_session(seed=3)
    with pytest.raises(SaveError) as info:
        save_session(s, path)
    assert str(path) in str(info.value) and reason in str(info.value)
    assert info.value.errno == err and isinstance(info.value, OSError)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []
    load_file(path)


def test_disk_full_during_write_keeps_the_old_file(tmp_path, monkeypatch):
    path, before = _saved(tmp_path)
    real = zipfile.ZipFile.writestr
    calls = []

    def fill_up(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", fill_up)
    with pytest.raises(SaveError, match="the disk is full") as info:
        save_session(make_session(seed=4), path)
    assert info.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_failed_fsync_keeps_the_old_file(tmp_path, monkeypatch):
    path, before = _saved(tmp_path)

    def broken(fd):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(SaveError, match="Input/output error"):
        save_session(make_session(seed=5), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_missing_folder_and_folder_path_are_clear(tmp_path):
    s = make_session()
    with pytest.raises(SaveError, match="the folder does not exist"):
        save_session(s, tmp_path / "nope" / "x.nnviz")
    with pytest.raises(SaveError, match="the path is a folder"):
        save_session(s, tmp_path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_real_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(SaveError, match="permission denied"):
            save_session(make_session(), folder / "x.nnviz")
    finally:
        folder.chmod(0o755)


def test_other_exceptions_pass_through_and_clean_up(tmp_path):
    target = tmp_path / "x.bin"
    target.write_bytes(b"old")
    with pytest.raises(KeyError), atomic_write(target) as f:
        f.write(b"new, partial")
        raise KeyError("a bug in the caller")
    assert target.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_modes_new_files_follow_umask_old_files_keep_theirs(tmp_path):
    new = tmp_path / "new.bin"
    with atomic_write(new) as f:
        f.write(b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~umask
    new.chmod(0o600)
    with atomic_write(new) as f:
        f.write(b"y")
    assert stat.S_IMODE(new.stat().st_mode) == 0o600 and new.read_bytes() == b"y"


def test_csv_export_is_atomic_too(tmp_path, monkeypatch):
    s = make_session()
    path = tmp_path / "d.csv"
    write_dataset_csv(s.data, path)
    before = path.read_bytes()
    monkeypatch.setattr(os, "replace", lambda a, b: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full")))
    with pytest.raises(SaveError, match="disk is full"):
        write_dataset_csv(s.data, path)
    assert path.read_bytes() == before and _leftovers(tmp_path) == []


_KILLED_SAVER = textwrap.dedent("""
    import sys, time, zipfile
    sys.path.insert(0, sys.argv[2])
    from test_io_support import make_session, train
    from nnviz.io import save_session
    real = zipfile.ZipFile.writestr
    def slow(self, *args, **kwargs):
        real(self, *args, **kwargs)
        self.fp.flush()
        print("writing", flush=True)
        time.sleep(60)
    zipfile.ZipFile.writestr = slow
    s = make_session(seed=11)
    train(s, 3)
    save_session(s, sys.argv[1])
""")


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_kill_during_save_keeps_the_old_file(tmp_path):
    path, before = _saved(tmp_path, steps=7)
    old = load_file(path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_SAVER, str(path), str(Path(__file__).parent)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        line = proc.stdout.readline()
        assert line.strip() == "writing", proc.stderr.read()
        assert _leftovers(tmp_path), "the save should be under way in a temporary file"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    again = load_file(path)
    assert again.trainer_state["step"] == old.trainer_state["step"] == 7
    # the stale partial file is hidden, names its dead writer, and the next save removes it
    stale = _leftovers(tmp_path)
    assert len(stale) == 1 and stale[0].startswith(f".net.nnviz.tmp.{_host_tag()}.{proc.pid}.")
    save_session(make_session(), path)
    assert load_file(path).trainer_state["step"] == 0
    assert _leftovers(tmp_path) == []


def _temp(folder: Path, name: str, age_s: float = 0.0) -> Path:
    p = folder / name
    p.write_bytes(b"partial")
    if age_s:
        t = time.time() - age_s
        os.utime(p, (t, t))
    return p


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid  # reaped: no such process now (reuse within the test is unlikely)


@pytest.mark.skipif(os.name != "posix", reason="process ids")
def test_stale_temporary_files_are_removed_and_nothing_else(tmp_path):
    host, dead = _host_tag(), _dead_pid()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        gone = [
            _temp(tmp_path, f".net.nnviz.tmp.{host}.{dead}.abcd_123"),  # its writer is dead
            _temp(tmp_path, f".net.nnviz.tmp.{host}.{sleeper.pid}.zzzzzzzz", age_s=3600),  # pid reused?
            _temp(tmp_path, f".net.nnviz.tmp.0badc0.{sleeper.pid}.aaaaaaaa", age_s=3600),  # other host
            _temp(tmp_path, ".net.nnviz.tmpk3j4h2l1", age_s=3600),  # an older nnviz's
        ]
        kept = [
            _temp(tmp_path, f".net.nnviz.tmp.{host}.{sleeper.pid}.livewrit"),  # a save under way
            _temp(tmp_path, f".net.nnviz.tmp.{host}.{os.getpid()}.thisproc", age_s=3600),  # ours
            _temp(tmp_path, f".net.nnviz.tmp.0badc0.{dead}.otherhst"),  # another host's, recent
            _temp(tmp_path, ".net.nnviz.tmpfreshone"),  # an older nnviz's, recent
            _temp(tmp_path, f".other.nnviz.tmp.{host}.{dead}.abcdefgh"),  # another target's
            _temp(tmp_path, f".net.nnviz.tmp.{host}.{dead}.abcdefghi"),  # not the exact pattern
            _temp(tmp_path, f"net.nnviz.tmp.{host}.{dead}.abcdefgh"),  # not hidden: not ours
            _temp(tmp_path, "notes.txt", age_s=3600),
        ]
        folder = tmp_path / f".net.nnviz.tmp.{host}.{dead}.folder00"
        folder.mkdir()
        link = tmp_path / f".net.nnviz.tmp.{host}.{dead}.link0000"
        link.symlink_to(tmp_path / "notes.txt")
        save_session(make_session(), tmp_path / "net.nnviz")
        assert not any(p.exists() for p in gone), [p.name for p in gone if p.exists()]
        assert all(p.exists() for p in kept), [p.name for p in kept if not p.exists()]
        assert folder.is_dir() and link.is_symlink()
        assert remove_stale_temps(tmp_path / "net.nnviz") == []  # the rest stays
    finally:
        sleeper.kill()
        sleeper.wait()
    # once the live writer is gone, its file is a leftover too
    assert remove_stale_temps(tmp_path / "net.nnviz") == [kept[0].name]


def test_temporary_name_carries_host_and_pid(tmp_path):
    seen = []
    real = os.replace

    def spy(src, dst):
        seen.append(Path(src).name)
        real(src, dst)

    target = tmp_path / ("n" * 250)
    with mock.patch.object(os, "replace", spy):
        write_bytes_atomic(target, b"x")
    assert target.read_bytes() == b"x"
    assert seen[0].startswith(temp_prefix(target)) and len(seen[0]) <= 255
    assert seen[0].startswith(f".{'n' * 200}.tmp.{_host_tag()}.{os.getpid()}.")
