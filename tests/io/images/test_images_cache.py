"""The published-set cache: downloads served from 127.0.0.1 (never the network), digests,
cut and cancelled transfers, no server, the offline message, the data folder, CIFAR's
archive."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import re
import socket
import sys
import tarfile
import threading
from dataclasses import replace
from itertools import pairwise
from typing import ClassVar

import numpy as np
import pytest
from imgdata_fixtures import cifar_records, idx_bytes, images, labels

from nnviz.io.errors import FileFormatError
from nnviz.io.images import (
    ENV_VAR,
    PUBLISHED,
    DataUnavailableError,
    DownloadCancelledError,
    DownloadError,
    PublishedSet,
    RemoteFile,
    data_dir,
    fetch_published,
    load_published,
    missing_files,
    offline_message,
)


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, bytes, str]]] = {}
    hits: ClassVar[list[str]] = []

    def do_GET(self):
        self.hits.append(self.path)
        status, body, mode = self.routes.get(self.path, (404, b"not here", "ok"))
        self.send_response(status)
        if mode != "nolength":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "short":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.routes = {}
    _Handler.hits = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def _idx_files(n_train=3000, n_test=20):
    """The four gzipped IDX files of a small set (the training images span chunks)."""
    out = {}
    for part, n, seed in (("train", n_train, 1), ("t10k", n_test, 2)):
        out[f"{part}-images-idx3-ubyte.gz"] = gzip.compress(idx_bytes(images(n, seed=seed)), mtime=0)
        out[f"{part}-labels-idx1-ubyte.gz"] = gzip.compress(idx_bytes(labels(n)), mtime=0)
    return out


def _table(base, files, name="tiny", kind="idx", digests=None, urls=None):
    remote = tuple(
        RemoteFile(fname, tuple(urls(fname)) if urls else (f"{base}/{fname}",),
                   (digests or {}).get(fname, hashlib.sha256(body).hexdigest()), len(body))
        for fname, body in files.items())
    return {name: PublishedSet(name, "Tiny set", name, kind, remote, ("a", "b", "c"), base, (4, 4, 1),
                               sum(1 for _ in files), 100)}


def _serve(files, mode="ok", prefix=""):
    for fname, body in files.items():
        _Handler.routes[f"{prefix}/{fname}"] = (200, body, mode)


def _leftovers(folder):
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


def test_download_then_load(server, tmp_path):
    _, base = server
    files = _idx_files()
    _serve(files)
    table = _table(base, files)
    seen = []
    folder = fetch_published("tiny", root=tmp_path, table=table, progress=lambda d, t: seen.append((d, t)))
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)
    total = sum(len(b) for b in files.values())
    assert seen[-1] == (total, total)
    assert all(a[0] <= b[0] for a, b in pairwise(seen))
    got = load_published("tiny", root=tmp_path, table=table, max_examples=30)
    assert got.shape == (4, 4, 1) and len(got.dataset) == 30
    assert got.dataset.class_names == ("a", "b", "c")
    assert missing_files("tiny", root=tmp_path, table=table) == []
    hits = len(_Handler.hits)
    fetch_published("tiny", root=tmp_path, table=table)  # nothing missing: no request
    assert len(_Handler.hits) == hits


def test_wrong_digest_leaves_no_file(server, tmp_path):
    _, base = server
    files = _idx_files()
    _serve(files)
    table = _table(base, files, digests={"train-labels-idx1-ubyte.gz": "0" * 64})
    with pytest.raises(DownloadError, match="SHA-256"):
        fetch_published("tiny", root=tmp_path, table=table)
    assert "train-labels-idx1-ubyte.gz" not in _leftovers(tmp_path / "tiny")
    assert not [n for n in _leftovers(tmp_path / "tiny") if ".tmp." in n]


def test_truncated_transfer_leaves_no_file(server, tmp_path):
    _, base = server
    files = _idx_files()
    _serve(files, mode="short")
    with pytest.raises(DownloadError, match=r"broke off|ended after"):
        fetch_published("tiny", root=tmp_path, table=_table(base, files))
    assert _leftovers(tmp_path / "tiny") == []


def test_more_bytes_than_published(server, tmp_path):
    _, base = server
    files = _idx_files()
    table = _table(base, files)
    _serve({k: v + b"extra" for k, v in files.items()}, mode="nolength")
    with pytest.raises(DownloadError, match="more than"):
        fetch_published("tiny", root=tmp_path, table=table)
    assert _leftovers(tmp_path / "tiny") == []


def test_wrong_content_length_refused(server, tmp_path):
    _, base = server
    files = _idx_files()
    table = _table(base, files)
    _serve({k: v + b"x" for k, v in files.items()})
    with pytest.raises(DownloadError, match="offers"):
        fetch_published("tiny", root=tmp_path, table=table)


def test_cancel_leaves_no_file(server, tmp_path):
    _, base = server
    files = _idx_files(n_train=20000)
    _serve(files)
    table = _table(base, files)
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(DownloadCancelledError):
        fetch_published("tiny", root=tmp_path, table=table, cancel=cancel)
    assert _leftovers(tmp_path / "tiny") == []


def _refused_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_no_server_says_which_files_to_put_where(tmp_path):
    base = f"http://127.0.0.1:{_refused_port()}"
    files = _idx_files(n_train=5)
    with pytest.raises(DataUnavailableError) as info:
        fetch_published("tiny", root=tmp_path, table=_table(base, files), timeout=5)
    message = str(info.value)
    assert str(tmp_path / "tiny") in message
    for name in files:
        assert name in message
    assert "could not be downloaded" in message and ENV_VAR in message
    assert _leftovers(tmp_path / "tiny") == []


def test_mirror_fallback(server, tmp_path):
    _, base = server
    files = _idx_files(n_train=5)
    _serve(files, prefix="/second")
    table = _table(base, files, urls=lambda f: (f"{base}/first/{f}", f"{base}/second/{f}"))
    fetch_published("tiny", root=tmp_path, table=table)
    assert len(load_published("tiny", root=tmp_path, table=table).dataset) == 25


def test_http_error_is_a_download_error(server, tmp_path):
    _, base = server
    files = _idx_files(n_train=5)
    with pytest.raises(DownloadError, match="404"):
        fetch_published("tiny", root=tmp_path, table=_table(base, files))


def test_unknown_digest_is_never_downloaded(server, tmp_path):
    _, base = server
    files = _idx_files(n_train=5)
    _serve(files)
    table = _table(base, files)
    entry = table["tiny"]
    table["tiny"] = replace(entry, files=(replace(entry.files[0], sha256=None), *entry.files[1:]))
    with pytest.raises(DownloadError, match="knows no SHA-256"):
        fetch_published("tiny", root=tmp_path, table=table)
    assert _Handler.hits == []


def test_loading_never_downloads(tmp_path):
    with pytest.raises(DataUnavailableError) as info:
        load_published("mnist", root=tmp_path)
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert str(tmp_path / "mnist") in message
    assert isinstance(info.value, FileFormatError)


def test_files_put_by_hand_ungzipped(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for part, n in (("train", 10), ("t10k", 4)):
        (folder / f"{part}-images-idx3-ubyte").write_bytes(idx_bytes(images(n, 28, 28)))
        (folder / f"{part}-labels-idx1-ubyte").write_bytes(idx_bytes(labels(n, 10)))
    got = load_published("mnist", root=tmp_path)
    assert got.shape == (28, 28, 1) and got.n_train == 10
    assert got.dataset.class_names == tuple("0123456789")


def test_offline_message_for_cifar_mentions_the_folder(tmp_path):
    message = offline_message("cifar10", root=tmp_path)
    assert "cifar-10-binary.tar.gz" in message and "cifar-10-batches-bin" in message
    assert str(tmp_path / "cifar10") in message


# --- CIFAR's archive -----------------------------------------------------------------------
def _cifar_archive(extra=()):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for k in range(1, 6):
            add(f"cifar-10-batches-bin/data_batch_{k}.bin", cifar_records(2, seed=k)[0])
        add("cifar-10-batches-bin/test_batch.bin", cifar_records(2, seed=9)[0])
        add("cifar-10-batches-bin/batches.meta.txt", "\n".join("abcdefghij").encode())
        for name, data in extra:
            add(name, data)
    return buf.getvalue()


def test_cifar_archive_download_extract_load(server, tmp_path):
    _, base = server
    archive = _cifar_archive(extra=[("../evil.txt", b"no"), ("cifar-10-batches-bin/readme.html", b"x")])
    files = {"cifar-10-binary.tar.gz": archive}
    _serve(files)
    table = _table(base, files, name="c10", kind="cifar10")
    fetch_published("c10", root=tmp_path, table=table)
    got = load_published("c10", root=tmp_path, table=table)
    assert got.shape == (32, 32, 3) and got.n_train == 10 and got.n_test == 2
    assert got.dataset.class_names == tuple("abcdefghij")
    assert not (tmp_path / "evil.txt").exists()
    assert not (tmp_path / "c10" / "cifar-10-batches-bin" / "readme.html").exists()


def test_cifar_archive_with_wrong_digest_is_refused(tmp_path):
    table = {"c10": replace(PUBLISHED["cifar10"], folder="c10")}
    (tmp_path / "c10").mkdir()
    (tmp_path / "c10" / "cifar-10-binary.tar.gz").write_bytes(_cifar_archive())
    with pytest.raises(FileFormatError, match="SHA-256 differs"):
        load_published("c10", root=tmp_path, table=table)


# --- the table and the folder ---------------------------------------------------------------
def test_published_table_is_complete():
    assert set(PUBLISHED) == {"mnist", "fashion-mnist", "cifar10"}
    for s in PUBLISHED.values():
        for f in s.files:
            assert re.fullmatch(r"[0-9a-f]{64}", f.sha256 or "")
            assert f.size and f.size > 0 and f.urls
            assert all(u.startswith(("https://", "http://")) and u.endswith(f.name) for u in f.urls)
        assert len(s.class_names) == 10


def test_data_dir(monkeypatch, tmp_path):
    env = {"HOME": str(tmp_path)}
    assert data_dir({**env, ENV_VAR: str(tmp_path / "mine")}) == tmp_path / "mine"
    monkeypatch.setattr(sys, "platform", "linux")
    assert data_dir(env) == tmp_path / ".cache" / "nnviz"
    assert data_dir({**env, "XDG_CACHE_HOME": "/x/cache"}).as_posix() == "/x/cache/nnviz"
    assert data_dir({**env, "XDG_CACHE_HOME": "relative"}) == tmp_path / ".cache" / "nnviz"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert data_dir(env) == tmp_path / "Library" / "Caches" / "nnviz"
    monkeypatch.setattr(sys, "platform", "win32")
    assert data_dir({**env, "LOCALAPPDATA": str(tmp_path / "L")}) == tmp_path / "L" / "nnviz" / "Cache"


def test_default_sizes_fit_the_budget():
    from nnviz.io.images import max_fitting_examples

    for s in PUBLISHED.values():
        h, w, c = s.shape
        raw = s.n_examples * h * w * c  # more than any loader holds at once
        assert s.default_n <= max_fitting_examples(h * w * c, raw)


def test_unknown_name():
    with pytest.raises(ValueError, match="not a published image set"):
        load_published("imagenet")


def test_fixture_sanity():
    assert np.frombuffer(gzip.decompress(_idx_files(5)["train-labels-idx1-ubyte.gz"])[8:], np.uint8).size == 5


def test_load_images_resolves_names_downloads_and_notes_the_sample(server, tmp_path):
    from nnviz.io.images import load_images

    _, base = server
    files = _idx_files()
    _serve(files)
    table = _table(base, files)
    with pytest.raises(DataUnavailableError):
        load_images("tiny", root=tmp_path, table=table)
    got = load_images("tiny", root=tmp_path, table=table, download=True)
    assert len(got.dataset) == 100  # the set's default_n
    assert got.notes == ("using 100 of the 3,020 images (a seeded sample, each class keeping its share)",)
    assert len(load_images("tiny", root=tmp_path, table=table, max_examples=3020).dataset) == 3020
    assert load_images(tmp_path / "tiny").shape == (4, 4, 1)  # a path: the folder itself


def test_the_folder_above_cifar_10_batches_bin(tmp_path):
    from nnviz.io.images import load_images

    inner = tmp_path / "cifar10" / "cifar-10-batches-bin"
    inner.mkdir(parents=True)
    (inner / "data_batch_1.bin").write_bytes(cifar_records(3)[0])
    (tmp_path / "cifar10" / "cifar-10-binary.tar.gz").write_bytes(b"never read")
    assert len(load_images(tmp_path / "cifar10").dataset) == 3


def test_only_http_addresses(tmp_path):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"local file")
    remote = RemoteFile("x.gz", (secret.as_uri(),), hashlib.sha256(b"local file").hexdigest(), 10)
    table = {"t": PublishedSet("t", "T", "t", "idx", (remote,), ("a", "b"), "", (1, 1, 1), 1, 1)}
    with pytest.raises(DownloadError, match="only http and https"):
        fetch_published("t", root=tmp_path, table=table)
    assert not (tmp_path / "t" / "x.gz").exists()
