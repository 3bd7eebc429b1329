"""Loading never trusts the file: each kind of damage gives a FileFormatError that names
the file and the problem, checked before anything large is allocated."""

from __future__ import annotations

import io
import json
import os
import struct
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_io_support import edited, make_session, members, npz_arrays, npz_bytes, train, write_zip

from nnviz.io import FileFormatError, load_file, save_session
from nnviz.io import network_file_contents as lay


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    """A file with every member: weights, Adam state, pipeline, shuffle order, history, data.
    Architecture 2 -> 8 -> 8 -> 3."""
    s = make_session(preprocess="standardize")
    train(s, 15)
    path = tmp_path_factory.mktemp("good") / "net.nnviz"
    save_session(s, path)
    return path


def refused(path, match: str) -> FileFormatError:
    with pytest.raises(FileFormatError) as info:
        load_file(path)
    assert Path(path).name in str(info.value)
    assert match in str(info.value), str(info.value)
    return info.value


def test_good_file_loads(good):
    assert load_file(good).trainer_state["step"] == 15


def test_wrong_weight_shape_is_named(good, tmp_path):
    def bad(a):
        a["W1"] = np.zeros((3, 4))

    err = refused(edited(good, tmp_path / "net.nnviz", arrays={"weights.npz": bad}),
                  "weights of layer 2 have shape (3, 4), expected (8, 8)")
    assert str(err).startswith("net.nnviz: ")
    assert err.path == str(tmp_path / "net.nnviz")


@pytest.mark.parametrize("dtype", [np.int64, np.float16, np.complex128, np.bool_])
def test_weights_must_be_float32_or_float64(good, tmp_path, dtype):
    def bad(a):
        a["b0"] = a["b0"].astype(dtype)

    refused(edited(good, tmp_path / "x.nnviz", arrays={"weights.npz": bad}),
            "biases of layer 1 have dtype")


def test_big_endian_and_fortran_arrays_are_fine(good, tmp_path):
    def other_layout(a):
        a["W0"] = a["W0"].astype(">f8")
        a["W1"] = np.asfortranarray(a["W1"])

    loaded = load_file(edited(good, tmp_path / "x.nnviz", arrays={"weights.npz": other_layout}))
    ref = load_file(good)
    for p, q in zip(loaded.params, ref.params, strict=True):
        assert p.tobytes() == q.tobytes()


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_refused(good, tmp_path, value):
    def bad(a):
        a["W2"] = a["W2"].copy()
        a["W2"][0, 0] = value

    refused(edited(good, tmp_path / "x.nnviz", arrays={"weights.npz": bad}),
            "the weights of layer 3 contain NaN or infinite values")


def test_negative_adam_second_moment_is_refused(good, tmp_path):
    def bad(a):
        a["exp_avg_sq_0"] = -np.abs(a["exp_avg_sq_0"]) - 1

    refused(edited(good, tmp_path / "x.nnviz", arrays={"optimizer.npz": bad}), "negative values")


def test_shuffle_order_must_be_a_permutation(good, tmp_path):
    def bad(a):
        a["perm"] = np.zeros_like(a["perm"])

    refused(edited(good, tmp_path / "x.nnviz", arrays={"trainer.npz": bad}), "not a permutation")

    def int32(a):
        a["perm"] = a["perm"].astype(np.int32)

    refused(edited(good, tmp_path / "y.nnviz", arrays={"trainer.npz": int32}),
            "the shuffle order has dtype int32, expected int64")


def test_pickled_objects_are_never_unpickled(good, tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    weights = npz_arrays(members(good)["weights.npz"])
    weights["W0"] = np.array([Payload()], dtype=object)
    buf = io.BytesIO()
    np.savez(buf, **weights)  # object arrays are pickled
    path = edited(good, tmp_path / "x.nnviz", replace={"weights.npz": buf.getvalue()})
    refused(path, "not a plain number type")
    assert not marker.exists()


@pytest.mark.parametrize("member", ["weights.npz", "optimizer.npz", "trainer.npz", "pipeline.npz",
                                    "history.npz", "data.npz", "network.json"])
def test_missing_members_are_named(good, tmp_path, member):
    contents = members(good)
    contents.pop(member)
    man = json.loads(contents["manifest.json"])
    man["members"].remove(member)
    contents["manifest.json"] = json.dumps(man).encode()
    write_zip(tmp_path / "x.nnviz", contents)
    refused(tmp_path / "x.nnviz", f"lacks {member}")


def test_manifest_must_match_the_archive(good, tmp_path):
    refused(edited(good, tmp_path / "x.nnviz", drop=("history.npz",)),
            "the manifest lists")


def test_unknown_and_duplicate_members(good, tmp_path):
    contents = members(good)
    write_zip(tmp_path / "a.nnviz", {**contents, "evil.py": b"import os"})
    refused(tmp_path / "a.nnviz", "unknown member 'evil.py'")
    with zipfile.ZipFile(tmp_path / "b.nnviz", "w") as zf:
        for name, data in contents.items():
            zf.writestr(name, data)
        with pytest.warns(UserWarning):
            zf.writestr("weights.npz", contents["weights.npz"])
    refused(tmp_path / "b.nnviz", "appears twice")


def test_newer_format_version_is_refused_naming_both(good, tmp_path):
    def newer(m):
        m["format_version"] = 7

    refused(edited(good, tmp_path / "x.nnviz", manifest=newer),
            "format version 7, newer than the version 2")


def test_not_an_nnviz_archive(good, tmp_path):
    write_zip(tmp_path / "other.zip", {"readme.txt": b"hello"})
    refused(tmp_path / "other.zip", "unknown member")
    write_zip(tmp_path / "keras.zip", {"manifest.json": b'{"format": "keras"}', "network.json": b"{}"})
    refused(tmp_path / "keras.zip", "not an nnviz network")


def test_migration_hook_upgrades_older_versions(good, tmp_path, monkeypatch):
    seen = []

    def v2_to_v3(network):
        seen.append(network["trainer"]["step"])
        network["trainer"]["step"] += 1000
        return network

    monkeypatch.setattr(lay, "FORMAT_VERSION", 3)
    monkeypatch.setattr(lay, "MIGRATIONS", {**lay.MIGRATIONS, 2: v2_to_v3})
    assert load_file(good).trainer_state["step"] == 1015 and seen == [15]
    monkeypatch.setattr(lay, "MIGRATIONS", {1: lay.MIGRATIONS[1]})
    refused(good, "format version 2 cannot be upgraded")


@pytest.mark.parametrize("edit, match", [
    (lambda d: d["training"].__setitem__("batch_size", "10"), "training.batch_size must be an integer"),
    (lambda d: d["training"].__setitem__("batch_size", True), "training.batch_size must be an integer"),
    (lambda d: d["training"].__setitem__("dropout", 1.5), "dropout must be in [0, 1)"),
    (lambda d: d["training"]["optimizer"].__setitem__("lr", "fast"), "optimizer.lr must be a finite number"),
    (lambda d: d["training"]["optimizer"].__setitem__("name", "adagrad"), "unknown optimizer 'adagrad'"),
    (lambda d: d["architecture"]["hidden"][0].__setitem__("units", -1), "architecture is invalid"),
    (lambda d: d["architecture"].__setitem__("loss", 3), "architecture is invalid"),
    (lambda d: d["architecture"].__setitem__("dtype", "float16"), "dtype must be one of"),
    (lambda d: d["trainer"].__setitem__("step", -5), "trainer.step must be in"),
    (lambda d: d["trainer"]["rng"].__setitem__("bit_generator", "MT19937"), "PCG64"),
    (lambda d: d["trainer"]["rng"]["state"].__setitem__("state", 2**200), "trainer.rng.state.state"),
    (lambda d: d["trainer"]["optimizer"].__setitem__("name", "sgd"), "optimizer state is for 'sgd'"),
    (lambda d: d["trainer"].__setitem__("n_train", 150), "trainer.n_train is 150"),
    (lambda d: d.__setitem__("extra", 1), "unknown field(s) 'extra'"),
    (lambda d: d.pop("trainer"), "lacks 'trainer'"),
    (lambda d: d["data"].__setitem__("n_examples", 10**12), "data.n_examples must be in"),
    (lambda d: d["data"].__setitem__("feature_names", ["a"]), "1 names for 2 features"),
    (lambda d: d["data"].__setitem__("task", "ranking"), "data.task must be"),
    (lambda d: d["history"].__setitem__("steps", 10**9), "more than the 2,147,483,648"),
    (lambda d: d["history"].__setitem__("steps", 99), "the step history has shape (15, 4), expected (99, 4)"),
    (lambda d: d["pipeline"].__setitem__("method", "pca"), "disagree"),
])
def test_bad_network_json_fields(good, tmp_path, edit, match):
    refused(edited(good, tmp_path / "x.nnviz", network=edit), match)


def test_huge_architecture_is_refused_before_allocating(good, tmp_path):
    def huge(d):
        d["architecture"]["hidden"] = [{"units": 3_000, "activation": "relu"}] * 2

    tracemalloc.start()
    try:
        refused(edited(good, tmp_path / "x.nnviz", network=huge), "have shape (2, 8), expected (2, 3000)")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024**2

    def past_the_cap(d):
        d["architecture"]["hidden"] = [{"units": 15_000, "activation": "relu"}] * 2

    refused(edited(good, tmp_path / "y.nnviz", network=past_the_cap), "more than the")


def _declare_size(path: Path, member: str, size: int) -> None:
    """Patch the uncompressed size of ``member`` in the central directory (a lying ZIP)."""
    raw = bytearray(path.read_bytes())
    name = member.encode()
    pos = raw.find(b"PK\x01\x02")
    while pos != -1:
        n_len = struct.unpack_from("<H", raw, pos + 28)[0]
        if raw[pos + 46: pos + 46 + n_len] == name:
            struct.pack_into("<I", raw, pos + 24, size)
            path.write_bytes(bytes(raw))
            return
        pos = raw.find(b"PK\x01\x02", pos + 4)
    raise AssertionError(member)


@pytest.mark.parametrize("member", ["weights.npz", "network.json", "data.npz", "manifest.json"])
def test_zip_bomb_declared_sizes_are_refused_unread(good, tmp_path, member):
    path = tmp_path / "bomb.nnviz"
    path.write_bytes(good.read_bytes())
    _declare_size(path, member, 0xFFFFFFF0)
    assert _traced_peak(lambda: refused(path, member)) < 10 * 1024**2


def _traced_peak(fn) -> int:
    """Peak bytes Python allocated while ``fn`` ran."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_understated_size_is_caught_by_the_checksum(good, tmp_path):
    path = tmp_path / "lie.nnviz"
    path.write_bytes(good.read_bytes())
    info = zipfile.ZipFile(good).getinfo("data.npz")
    _declare_size(path, "data.npz", info.file_size - 100)
    refused(path, "")


def _zero_member(path: Path, name: str, size: int, others: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, d in others.items():
            zf.writestr(n, d)
        with zf.open(name, "w", force_zip64=True) as f:
            chunk = bytes(1 << 20)
            for _ in range(size >> 20):
                f.write(chunk)


@pytest.mark.parametrize("member", ["weights.npz", "data.npz", "network.json"])
def test_genuinely_compressible_large_member_is_refused_unread(good, tmp_path, member):
    others = {k: v for k, v in members(good).items() if k != member}
    path = tmp_path / "zeros.nnviz"
    _zero_member(path, member, 32 << 20, others)  # 32 MiB of zeros, about 32 KiB on disk
    assert path.stat().st_size < 1 << 20
    assert _traced_peak(lambda: refused(path, member)) < 10 * 1024**2


def test_nested_npz_bomb_is_refused(good, tmp_path):
    """An .npz whose inner array member claims a huge size."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as inner, \
            inner.open("W0.npy", "w", force_zip64=True) as f:
        for _ in range(32):
            f.write(bytes(1 << 20))
    refused(edited(good, tmp_path / "x.nnviz", replace={"weights.npz": buf.getvalue()}), "weights.npz")


def test_encrypted_and_exotic_compression_refused(good, tmp_path):
    contents = members(good)
    write_zip(tmp_path / "bz.nnviz", contents, compression=zipfile.ZIP_BZIP2)
    refused(tmp_path / "bz.nnviz", "unsupported compression")
    raw = bytearray((good).read_bytes())
    pos = raw.find(b"PK\x01\x02")
    raw[pos + 8] |= 1  # the central directory's "encrypted" flag
    (tmp_path / "enc.nnviz").write_bytes(bytes(raw))
    refused(tmp_path / "enc.nnviz", "encrypted")


@pytest.mark.parametrize("content, match", [
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "neither"),
    (b"PK\x03\x04garbage", "damaged"),
    (b"hello world", "neither"),
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "neither"),
    (b'{"architecture": {"input_dim": NaN}}', "not a number JSON allows"),
    (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nests deeper"),
    (b'{"architecture": {"input_dim": ' + b"9" * 5000 + b"}}", "cannot be read"),
    (b"\xff\xfe{\x00", "neither"),
])
def test_junk_files(tmp_path, content, match):
    path = tmp_path / "junk.nnviz"
    path.write_bytes(content)
    refused(path, match)


def test_missing_file_and_folder(tmp_path):
    refused(tmp_path / "absent.nnviz", "no such file")
    with pytest.raises(FileFormatError, match="folder"):
        load_file(tmp_path)


def test_content_decides_not_the_extension(good, tmp_path):
    disguised = tmp_path / "net.json"
    disguised.write_bytes(good.read_bytes())
    assert load_file(disguised).kind == "network"
    spec = tmp_path / "spec.nnviz"
    spec.write_text(json.dumps({"architecture": {"input_dim": 2, "output_dim": 2}}))
    assert load_file(spec).kind == "spec"


def test_saving_refuses_what_loading_would_refuse(tmp_path):
    from nnviz.io import SaveError

    s = make_session()
    s.network.params[0][0, 0] = np.nan
    with pytest.raises(SaveError, match="NaN"):
        save_session(s, tmp_path / "nan.nnviz")
    assert not (tmp_path / "nan.nnviz").exists()


def test_npz_members_round_trip_helpers(good):
    a = npz_arrays(members(good)["weights.npz"])
    assert npz_arrays(npz_bytes(**a)).keys() == a.keys()


def test_thousands_of_entries_are_refused_before_parsing(tmp_path):
    path = tmp_path / "many.nnviz"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(5000):
            zf.writestr(f"m{i}", b"")
    tracemalloc.start()
    try:
        refused(path, "its ZIP directory lists 5,000 entries")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024**2
