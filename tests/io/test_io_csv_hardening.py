"""CSV loading under hostile input: linear separator detection, streaming into one
preallocated table, regular files only, bounded magnitudes, and the text-label rule."""

from __future__ import annotations

import csv
import math
import os
import random
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from nnviz.io import CsvError, csv_data, load_csv, load_features_csv
from nnviz.io.csv_labels import MAX_TEXT_CLASSES, TEXT_RULE, text_rule_problem
from nnviz.io.csv_sniff import SAMPLE_CHARS, sample_records, sniff_delimiter


def put(tmp_path, content: str | bytes, name: str = "data.csv"):
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def refused(path, match: str, loader=load_csv, **kw) -> CsvError:
    with pytest.raises(CsvError) as info:
        loader(path, **kw)
    assert match in str(info.value), str(info.value)
    assert str(info.value).startswith(path.name)
    return info.value


# --- separator detection: linear, and right on the usual files ---------------------------
_rng = random.Random(7)
SOUPS = {
    "comma-quote": ',"' * 32_768,  # csv.Sniffer took 30 s on this
    "comma-space-quote": ', "' * 21_845,
    "quotes": '"' * 65_536,
    "mix": "".join(_rng.choice('"",a\n') for _ in range(65_536)),
    "mix-all": "".join(_rng.choice('"\',;|\t a1\n') for _ in range(65_536)),
    "mix-wide": ",".join(_rng.choice(['"a', '"', 'b"', '""', "1"]) for _ in range(200_000)),
}


@pytest.mark.parametrize("name", sorted(SOUPS))
def test_quote_soup_is_refused_quickly(tmp_path, name):
    path = put(tmp_path, SOUPS[name], "soup.csv")
    start = time.perf_counter()
    with pytest.raises(CsvError):
        load_csv(path)
    assert time.perf_counter() - start < 5.0  # about 0.1 s; csv.Sniffer needed 30 s


def test_separator_detection_time_grows_linearly():
    small, large = ',"' * 4_096, ',"' * 32_768  # 8 times the text
    sniff_delimiter(small)
    t_small = min(_timed(sniff_delimiter, small) for _ in range(3))
    t_large = min(_timed(sniff_delimiter, large) for _ in range(3))
    assert t_large < 40 * t_small + 0.05  # quadratic would be 64 times


def _timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


@pytest.mark.parametrize("text, delimiter", [
    ("a,b,y\n1,2,0\n3,4,1\n", ","),
    ("1,5;2,5;0,25\n3,5;4,5;1,5\n", ";"),  # decimal commas, no header: the semicolons split
    ("1,2,x;y\n3,4,z;w\n", ","),  # a semicolon in a text label, no header
    ('a,b,"kind; of, thing"\n1,2,"x; y, z"\n', ","),  # separators inside quotes do not count
    ("a\tb\tc,d\n1\t2\t3\n", "\t"),
    ("a|b|c\n1|2|3\n", "|"),
    ("a;b;y\n1,5;2;0,25\n3;4,75;1,5\n", ";"),
    ("justone\n1\n2\n", ","),
    ("", ","),
])
def test_separator_detection(text, delimiter):
    assert sniff_delimiter(text, at_end=True) == delimiter


def test_sample_records_keep_quoted_line_ends_and_drop_a_cut_record():
    assert sample_records('a,"b\nc"\n\n1,2\n3,', at_end=False) == ['a,"b\nc"', "1,2"]
    assert sample_records("1,2\r\n3,4\r5,6", at_end=True) == ["1,2", "3,4", "5,6"]
    assert sample_records("only part of a long first record", at_end=False) == [
        "only part of a long first record"]
    assert len(sample_records("1,2\n" * 1000, at_end=True)) == 20


def test_a_first_record_longer_than_the_sample_still_finds_its_separator(tmp_path):
    n = SAMPLE_CHARS // 4
    header = ";".join(f"f{i}" for i in range(n)) + ";y\n"
    row = ";".join("0,5" for _ in range(n)) + ";1\n"
    d = load_csv(put(tmp_path, header + row + row.replace(";1\n", ";0\n")))
    assert d.X.shape == (2, n) and d.X[0, 0] == 0.5 and d.class_names == ("0", "1")


# --- only regular files ------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_fifo_is_refused_before_it_is_opened(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # opening it for reading would block until a writer came
    refused(fifo, "named pipe (FIFO), not a regular file")
    refused(fifo, "not a regular file", load_features_csv, n_features=2)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_device_is_refused(tmp_path):
    with pytest.raises(CsvError, match="character device, not a regular file"):
        load_csv("/dev/zero")  # would stream zeros without end


def test_a_link_to_a_regular_file_is_read(tmp_path):
    target = put(tmp_path, "a,y\n1,0\n2,1\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert load_csv(link).X.tolist() == [[1.0], [2.0]]


# --- numbers beyond the bound ------------------------------------------------------------
@pytest.mark.parametrize("text, row, column", [
    ("a,b,y\n1,2,0\n3,1e308,1\n", 3, "b"),
    ("a,b,y\n-1e101,2,0\n3,4,1\n", 2, "a"),
    ("1,2,0\n3,4,1\n5,-1.7976931348623157e308,0\n", 3, "column 2"),  # no header
    ("a;b;y\n1,5;1e200;0\n3;4;1\n", 2, "b"),  # a decimal-comma row takes the slow path
])
def test_features_beyond_1e100_are_refused_naming_row_and_column(tmp_path, text, row, column):
    err = refused(put(tmp_path, text), "beyond ±1e100")
    assert (err.row, err.column) == (row, column)


def test_the_bound_itself_is_accepted(tmp_path):
    d = load_csv(put(tmp_path, "a,b,y\n1e100,-1e100,0\n1e-300,0,1\n"))
    assert d.X[0].tolist() == [1e100, -1e100]
    assert np.isfinite(np.square(d.X)).all() and np.isfinite(d.X.std(axis=0)).all()


def test_huge_targets_are_refused_but_huge_class_labels_are_only_names(tmp_path):
    err = refused(put(tmp_path, "a,y\n1,0.5\n2,3e200\n3,1.25\n"), "the target '3e200' is beyond ±1e100")
    assert (err.row, err.column) == (3, "y")
    d = load_csv(put(tmp_path, "a,y\n1,1e200\n2,0\n3,1e200\n", "c.csv"))
    assert d.task == "classification" and d.y.tolist() == [1, 0, 1]
    with pytest.raises(CsvError, match="row 2, column 'y': the target '-1e300' is beyond"):
        load_features_csv(put(tmp_path, "a,y\n1,-1e300\n", "p.csv"), 1)
    with pytest.raises(CsvError, match="row 3, column 'a': '1e150' is beyond"):
        load_features_csv(put(tmp_path, "a\n1\n1e150\n", "f.csv"), 1)


# --- errors come in file order, across blocks -----------------------------------------------
@pytest.mark.parametrize("check_cells", [1, 4, 32_768])
@pytest.mark.parametrize("text, row, match", [
    ("a,b,y\n1,2,0\n3,nan,1\n5,6\n", 3, "'nan' is not a finite number"),
    ("a,b,y\n1,2,0\n3,inf,1\n5,6,\n", 3, "'inf' is not a finite number"),
    ("a,b,y\n1,2e300,0\n3,x,1\n", 2, "'2e300' is beyond"),
    ("a,b,y\n1,2,0\n3,4,1\n5,inf,0\n", 4, "'inf' is not a finite number"),
    ('a,b,y\n1,2,0\n3,4e200,1\n5,"6,0\n', 3, "'4e200' is beyond"),
])
def test_the_first_problem_in_the_file_is_reported(tmp_path, monkeypatch, check_cells, text, row, match):
    monkeypatch.setattr(csv_data, "_CHECK_CELLS", check_cells)
    err = refused(put(tmp_path, text), match)
    assert err.row == row


# --- streaming gives the table a plain reading gives --------------------------------------
def _spellings(rng: np.random.Generator, n: int) -> list[str]:
    values = rng.normal(scale=10.0 ** rng.integers(-5, 6, n), size=n)
    forms = rng.integers(0, 5, n)
    out = []
    for v, form in zip(values.tolist(), forms.tolist(), strict=True):
        out.append([repr(v), f"{v:.3e}", f" {v:.6g} ", str(int(v)), f'"{v!r}"'][form])
    return out


@pytest.mark.parametrize("check_cells", [5, 32_768])
def test_streamed_load_equals_a_plain_reading(tmp_path, monkeypatch, check_cells):
    monkeypatch.setattr(csv_data, "_CHECK_CELLS", check_cells)
    rng = np.random.default_rng(3)
    n, d = 700, 4
    cells = np.array(_spellings(rng, n * d), dtype=object).reshape(n, d)
    labels = rng.choice(["setosa", "versicolor", "virginica"], n)
    body = [",".join(r) + f",{lab}" for r, lab in zip(cells.tolist(), labels, strict=True)]
    lines = ["w,x,y,z,species", *body]
    text = "\n".join(lines[:300]) + "\n\n\n" + "\r\n".join(lines[300:]) + "\r\n"
    path = put(tmp_path, text)
    plain = csv.reader(lines[1:], skipinitialspace=True)
    expected = np.array([[float(c) for c in row[:-1]] for row in plain])
    got = load_csv(path)
    assert got.X.shape == (n, d) and got.X.tobytes() == expected.tobytes()  # float() on the same cells
    assert got.class_names == ("setosa", "versicolor", "virginica")
    assert [got.class_names[k] for k in got.y.tolist()] == labels.tolist()
    assert got.X.flags.owndata or got.X.base is not None  # a real array, not a dangling view
    assert not np.shares_memory(got.X, got.y)


def test_the_label_can_be_any_column_and_rows_end_in_cr_only(tmp_path):
    d = load_csv(put(tmp_path, "y,a,b\r1,0.5,2\r0,1.5,3\r1,2.5,4\r"), label="y")
    assert d.X.tolist() == [[0.5, 2], [1.5, 3], [2.5, 4]] and d.y.tolist() == [1, 0, 1]
    d = load_csv(put(tmp_path, "a,y,b\n0.5,u,2\n1.5,v,3\n", "mid.csv"), label=1)
    assert d.X.tolist() == [[0.5, 2], [1.5, 3]] and d.class_names == ("u", "v")


def test_a_bound_too_small_still_reads_every_row(tmp_path, monkeypatch):
    """The preallocated table grows if the row bound was passed (a file that grew)."""
    monkeypatch.setattr(csv_data, "_capacity", lambda scan, table: 1)
    rows = "".join(f"{i},{i * 0.5},{'ab'[i % 2]}\n" for i in range(1000))
    d = load_csv(put(tmp_path, "p,q,k\n" + rows))
    assert d.X.shape == (1000, 2) and d.X[-1].tolist() == [999.0, 499.5] and d.y[-1] == 1
    t = load_features_csv(put(tmp_path, "p,q,k\n" + rows, "f.csv"), 2, class_names=["a", "b"])
    assert t.y.tolist() == [i % 2 for i in range(1000)]


def test_the_row_bound_covers_blank_lines_and_line_ends(tmp_path, monkeypatch):
    seen = []
    real = csv_data._capacity

    def spy(scan, table):
        seen.append(real(scan, table))
        return seen[-1]

    monkeypatch.setattr(csv_data, "_capacity", spy)
    assert len(load_csv(put(tmp_path, "a,y\n" + "\n" * 5000 + "1,0\n2,1\n"))) == 2
    assert 2 <= seen[-1] <= 5002  # bounded by the bytes and the lines, not unbounded
    assert len(load_csv(put(tmp_path, "1,0\r\n2,1\r\n3,0", "crlf.csv"))) == 3
    assert seen[-1] >= 3


def test_utf8_cut_at_the_end_reads_as_latin1(tmp_path):
    d = load_csv(put(tmp_path, b"a,y\n1,caf\xc3\xa9\n2,th\xc3"))
    assert d.class_names == ("cafÃ©", "thÃ")


def test_prediction_targets_and_classes_stream(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_data, "_CHECK_CELLS", 3)
    rows = "".join(f"{i},{i % 3},{i * 0.25}\n" for i in range(50))
    t = load_features_csv(put(tmp_path, "a,b,t\n" + rows), 2)
    assert t.y.ravel().tolist() == [i * 0.25 for i in range(50)] and t.X.shape == (50, 2)
    err = refused(put(tmp_path, "a,b,t\n1,2,3\n4,5,x\n6,7,8\n", "x.csv"), "the target 'x' is not a finite",
                  load_features_csv, n_features=2)
    assert err.row == 3
    err = refused(put(tmp_path, "a,k\n1,dog\n2,cat\n3,emu\n4,gnu\n", "k.csv"), "'emu' is not one of",
                  load_features_csv, n_features=1, class_names=["cat", "dog"])
    assert err.row == 4


# --- the text-label rule -------------------------------------------------------------------
def _labelled(n_rows: int, n_distinct: int) -> str:
    return "a,kind\n" + "".join(f"{i},k{i % n_distinct:04d}\n" for i in range(n_rows))


@pytest.mark.parametrize("n_rows, n_distinct, ok", [
    (200, 60, True),  # the README's promise: 60 text classes (refused as "too many" before)
    (60, 50, True),  # a few classes always are classes
    (60, 51, False),  # ... but 51 names on 60 rows are more like IDs
    (120, 60, True),  # half the rows
    (119, 60, False),
    (5000, MAX_TEXT_CLASSES, True),
    (5000, MAX_TEXT_CLASSES + 1, False),
])
def test_text_label_rule(tmp_path, n_rows, n_distinct, ok):
    path = put(tmp_path, _labelled(n_rows, n_distinct))
    if ok:
        d = load_csv(path)
        assert d.task == "classification" and d.n_classes == n_distinct
        assert d.class_names[:2] == ("k0000", "k0001") and d.y[:3].tolist() == [0, 1, 2]
    else:
        err = refused(path, "different text values")
        assert TEXT_RULE in str(err) and "choose another label column" in str(err)
        if n_distinct <= MAX_TEXT_CLASSES:
            assert f"holds {n_distinct:,} different text values in {n_rows:,} rows" in str(err)
        else:  # refused as soon as the count is passed
            assert f"holds more than {MAX_TEXT_CLASSES:,} different text values in the first" in str(err)


def test_text_rule_function_agrees_with_its_words():
    assert text_rule_problem(50, 1) is None and text_rule_problem(1000, 2000) is None
    assert text_rule_problem(51, 101) and text_rule_problem(None, 10**6) and text_rule_problem(1001, 10**6)
    assert "at most 50 different values" in TEXT_RULE and "no more than half the rows" in TEXT_RULE


def test_forced_classification_takes_many_text_classes(tmp_path):
    d = load_csv(put(tmp_path, _labelled(80, 80)), task="classification")
    assert d.n_classes == 80 and sorted(d.y.tolist()) == list(range(80))


def test_many_numeric_labels_stay_regression_without_a_big_dictionary(tmp_path):
    rows = "".join(f"{i},{i * 0.001}\n" for i in range(20_000))
    d = load_csv(put(tmp_path, "a,y\n" + rows))
    assert d.task == "regression" and d.y[-1, 0] == 19.999
    mixed = "a,y\n" + "".join(f"{i},{i}\n" for i in range(1500)) + "1500,cat\n"
    refused(put(tmp_path, mixed, "m.csv"), f"holds more than {MAX_TEXT_CLASSES:,} different text values")


def test_mixed_labels_are_text_classes_and_nan_is_a_name(tmp_path):
    d = load_csv(put(tmp_path, "a,y\n1,1\n2,1.0\n3,cat\n4,nan\n5,cat\n"))
    assert d.class_names == ("1", "1.0", "cat", "nan") and d.y.tolist() == [0, 1, 2, 3, 2]
    d = load_csv(put(tmp_path, "a,y\n1,-0.0\n2,0\n3,2\n", "z.csv"))
    assert d.class_names == ("0", "2")  # -0.0 and 0 are one class, named as a whole number
    assert d.y.tolist() == [0, 0, 1]


# --- memory: about the final table, never a Python float per cell ----------------------------
_MEASURE = textwrap.dedent("""
    import resource, sys
    import numpy as np
    from nnviz.io import load_csv
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    d = load_csv(sys.argv[1])
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(after - before, d.X.nbytes + d.y.nbytes, d.X.shape[0], d.X.shape[1])
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in KiB on Linux")
def test_peak_memory_is_about_the_final_table(tmp_path):
    rows, cols = 2500, 800  # 2 million numbers: 16 MB as float64, 64 MB as Python floats in lists
    rng = np.random.default_rng(0)
    values = rng.integers(0, 1000, (rows, cols))
    path = tmp_path / "wide.csv"
    with path.open("w") as f:
        f.write(",".join(f"f{i}" for i in range(cols)) + ",label\n")
        for r, k in zip(values.tolist(), rng.integers(0, 3, rows).tolist(), strict=True):
            f.write(",".join(map(str, r)) + f",c{k}\n")
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True,
                         timeout=600, check=True).stdout.split()
    growth, final, n, d = (int(v) for v in out)
    assert (n, d) == (rows, cols)
    assert final == rows * cols * 8 + rows * 8
    # the table, one block and the reader's buffers; the list-of-floats reader needed 7 times
    assert growth < 2 * final + 16 * 2**20, (growth, final)
    assert math.isfinite(growth)


def test_a_block_of_long_rows_is_checked_early(tmp_path, monkeypatch):
    """Rows of long cells end a block by their characters, not only by their count."""
    monkeypatch.setattr(csv_data, "_CHECK_CHARS", 500)
    flushes = []
    real = csv_data._TableReader._flush

    def spy(self):
        flushes.append(len(self.rows))
        real(self)

    monkeypatch.setattr(csv_data._TableReader, "_flush", spy)
    long_label = "x" * 200
    rows = "".join(f"{i},{long_label}{i % 2}\n" for i in range(20))
    d = load_csv(put(tmp_path, "a,y\n" + rows))
    assert d.n_classes == 2 and len(d) == 20
    assert max(flushes) <= 3 and sum(flushes) == 20


def test_a_column_of_ids_is_refused_without_reading_on(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_data, "_CHECK_CELLS", 200)
    ids = "a,id\n" + "".join(f"{i},user{i}\n" for i in range(3000)) + "oops,x\n"
    err = refused(put(tmp_path, ids), f"more than {MAX_TEXT_CLASSES:,} different text values in the first")
    assert err.row is None  # the rule, not the bad cell further down
    refused(put(tmp_path, ids, "forced.csv"), "row 3002, column 'a': 'oops' is not a number",
                  task="classification")  # within the 65,536 classes a task may have
    refused(put(tmp_path, ids, "reg.csv"), "row 3002, column 'a': 'oops' is not a number",
            task="regression")  # a target's problem comes after every feature cell was read
    refused(put(tmp_path, ids[:-7], "reg2.csv"), "row 2, column 'id': the target 'user0' is not a finite",
            task="regression")


def test_decimal_commas_read_as_cell_by_cell(tmp_path):
    rng = np.random.default_rng(5)
    values = rng.normal(scale=1000, size=(300, 3)).tolist()
    cells = [[(repr(v).replace(".", ",") if k % 2 else repr(v)) for k, v in enumerate(row)] for row in values]
    text = "a;b;c;y\n" + "".join(";".join(row) + f";{i % 2}\n" for i, row in enumerate(cells))
    d = load_csv(put(tmp_path, text))
    assert d.X.tolist() == values
    refused(put(tmp_path, "a;b;y\n1,5;2;0\n1,000.5;2;1\n", "both.csv"), "row 3, column 'a': '1,000.5' is not")
    refused(put(tmp_path, "a;b;y\n1,5;2;0\n1,2,3;2;1\n", "two.csv"), "row 3, column 'a': '1,2,3' is not a")
