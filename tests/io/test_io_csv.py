"""CSV import and export: sniffing, labels, tasks, and errors that name row and column."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from test_io_support import make_session, train

from nnviz.core.data import Dataset, generate
from nnviz.io import (
    CsvError,
    FileFormatError,
    csv_data,
    load_csv,
    load_features_csv,
    write_dataset_csv,
    write_history_csv,
    write_predictions_csv,
)


def put(tmp_path, text: str, name: str = "data.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def bad(path, match: str, **kw) -> CsvError:
    with pytest.raises(CsvError) as info:
        load_csv(path, **kw)
    assert isinstance(info.value, FileFormatError)
    assert match in str(info.value), str(info.value)
    assert str(info.value).startswith(path.name)
    return info.value


# --- reading -------------------------------------------------------------------------------
def test_header_text_labels_become_sorted_classes(tmp_path):
    d = load_csv(put(tmp_path, "x1,x2,label\n0.1,0.2,dog\n0.3,0.4,cat\n0.5,0.6,dog\n0.7,0.8,emu\n"))
    assert d.task == "classification"
    assert d.feature_names == ("x1", "x2")
    assert d.class_names == ("cat", "dog", "emu")
    assert d.y.tolist() == [1, 0, 1, 2]
    assert d.X.tolist() == [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.8]]
    assert d.name == "data" and d.source == {"csv": "data.csv", "label": "label"}


def test_no_header_is_sniffed(tmp_path):
    d = load_csv(put(tmp_path, "1,2,0\n3,4,1\n5,6,1\n"))
    assert len(d) == 3 and d.feature_names == ("x1", "x2") and d.y.tolist() == [0, 1, 1]


def test_header_sniffing_ignores_a_text_label(tmp_path):
    d = load_csv(put(tmp_path, "1,2,cat\n3,4,dog\n"))
    assert len(d) == 2 and d.class_names == ("cat", "dog")


def test_has_header_can_be_forced(tmp_path):
    path = put(tmp_path, "1,2,3\n4,5,6\n7,8,9\n")
    assert len(load_csv(path, has_header=True)) == 2
    assert len(load_csv(path, has_header=False)) == 3


def test_label_by_name_and_by_index(tmp_path):
    path = put(tmp_path, "y,a,b\n1,0.5,0.25\n0,1.5,2.5\n")
    by_name = load_csv(path, label="y")
    assert by_name.feature_names == ("a", "b") and by_name.y.tolist() == [1, 0]
    assert load_csv(path, label=0).y.tolist() == [1, 0]
    assert load_csv(path, label=-3).y.tolist() == [1, 0]
    bad(path, "no column is named 'z'; the columns are y, a, b", label="z")
    bad(path, "there is no column 5", label=5)
    bad(put(tmp_path, "1,2,3\n4,5,6\n", "nohead.csv"), "the file has no header row", label="y",
        has_header=False)


def test_numeric_classes_sort_by_value_and_merge_spellings(tmp_path):
    rows = "".join(f"{i},{i % 11}\n" for i in range(30)) + "30,1.0\n"
    d = load_csv(put(tmp_path, "a,k\n" + rows))
    assert d.task == "classification"
    assert d.class_names == tuple(str(i) for i in range(11))
    assert d.y[-1] == 1 and d.y[10] == 10


def test_signed_integer_labels_map_to_indices(tmp_path):
    d = load_csv(put(tmp_path, "a,y\n0.5,-1\n0.7,1\n0.1,-1\n"))
    assert d.class_names == ("-1", "1") and d.y.tolist() == [0, 1, 0]


def test_task_inference(tmp_path):
    floats = load_csv(put(tmp_path, "a,y\n1,0.5\n2,1.25\n3,2\n", "f.csv"))
    assert floats.task == "regression" and floats.y.shape == (3, 1)
    many = "a,y\n" + "".join(f"{i},{i}\n" for i in range(80))
    assert load_csv(put(tmp_path, many, "m.csv")).task == "regression"
    assert load_csv(put(tmp_path, many, "m.csv"), task="classification").n_classes == 80
    ints = load_csv(put(tmp_path, "a,y\n1,3\n2,4\n", "i.csv"), task="regression")
    assert ints.task == "regression" and ints.y.ravel().tolist() == [3.0, 4.0]
    words = "a,y\n" + "".join(f"{i},w{i}\n" for i in range(80))
    bad(put(tmp_path, words, "w.csv"), "80 different text values")
    bad(put(tmp_path, "a,y\n1,cat\n2,4\n", "r.csv"),
        "row 2, column 'y': the target 'cat' is not a finite number", task="regression")
    bad(put(tmp_path, "a,y\n1,1\n2,1\n", "one.csv"), "a single class")


@pytest.mark.parametrize("text, row, column, match", [
    ("x1,x2,y\n1,2,0\n3,,1\n", 3, "x2", "the cell is empty"),
    ("x1,x2,y\n1,2,0\n3,abc,1\n", 3, "x2", "'abc' is not a number"),
    ("x1,x2,y\n1,nan,0\n3,4,1\n", 2, "x2", "'nan' is not a finite number"),
    ("x1,x2,y\n1,2,0\n3,-inf,1\n", 3, "x2", "not a finite number"),
    ("x1,x2,y\n1,2,0\n3,4,\n", 3, "y", "the label cell is empty"),
    ("1,2,0\n3,x,1\n", 2, "column 2", "'x' is not a number"),
    ("x1,x2,y\n1,2,0\n\n\n3,4,1,9\n", 5, None, "the row has 4 cells but the first row has 3"),
    ("x1,x2,y\n1,2,0\n3,4\n", 3, None, "the row has 2 cells"),
])
def test_bad_cells_are_named_by_row_and_column(tmp_path, text, row, column, match):
    err = bad(put(tmp_path, text), match)
    assert err.row == row and err.column == column
    assert f"row {row}" in str(err)
    if column:
        assert f"column '{column}'" in str(err)


@pytest.mark.parametrize("content, match", [
    (b"", "the file is empty"),
    (b"  \n\n \n", "the file is empty"),
    (b"x1,x2,y\n", "a header but no data rows"),
    (b"x\n1\n2\n", "it has one column"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary file"),
    (b"1,2,3\n" * 10 + b"4,5\x00,6\n", "binary file"),
    (b'x1,x2,y\n1,"2,3\n', "malformed"),
])
def test_unusable_files(tmp_path, content, match):
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    bad(path, match)


def test_missing_file(tmp_path):
    bad(tmp_path / "absent.csv", "there is no such file")
    with pytest.raises(CsvError, match="folder"):
        load_csv(tmp_path)


def test_row_and_line_caps(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_data, "MAX_EXAMPLES", 10)
    path = put(tmp_path, "a,y\n" + "1,0\n2,1\n" * 6)
    err = bad(path, "more than 10 data rows")
    assert err.row == 12
    monkeypatch.setattr(csv_data, "MAX_LINE_CHARS", 100)
    bad(put(tmp_path, "a,y\n1," + "0" * 500 + "\n", "long.csv"), "longer than 100 characters")


def test_encodings_delimiters_quotes(tmp_path):
    latin = load_csv(put(tmp_path, "a;b;espèce\n1;2;café\n3;4;thé\n", "l.csv", encoding="latin-1"))
    assert latin.class_names == ("café", "thé") and latin.feature_names == ("a", "b")
    bom = load_csv(put(tmp_path, "\ufeffx1,x2,y\n1,2,a\n3,4,b\n", "bom.csv"))
    assert bom.feature_names == ("x1", "x2")
    comma = load_csv(put(tmp_path, "a;b;y\n1,5;2;0,25\n3;4,75;1,5\n", "eu.csv"))
    assert comma.X.tolist() == [[1.5, 2.0], [3.0, 4.75]] and comma.y.ravel().tolist() == [0.25, 1.5]
    tabs = load_csv(put(tmp_path, "a\tb\ty\n1\t2\tx\n3\t4\tz\n", "t.tsv"))
    assert tabs.X.shape == (2, 2)
    quoted = load_csv(put(tmp_path, 'a,b,"kind, long"\n1, 2,"one, two"\n3,4,"three"\n', "q.csv"))
    assert quoted.class_names == ("one, two", "three") and quoted.X.tolist() == [[1, 2], [3, 4]]


# --- prediction input ------------------------------------------------------------------------
def test_features_without_and_with_labels(tmp_path):
    t = load_features_csv(put(tmp_path, "a,b\n1,2\n3,4\n"), 2)
    assert t.y is None and t.X.tolist() == [[1, 2], [3, 4]] and t.feature_names == ("a", "b")
    t = load_features_csv(put(tmp_path, "a,b,kind\n1,2,dog\n3,4,cat\n", "l.csv"), 2,
                          class_names=["cat", "dog"])
    assert t.y.tolist() == [1, 0] and t.label_name == "kind"
    t = load_features_csv(put(tmp_path, "1,2,1.0\n3,4,0\n", "n.csv"), 2, class_names=["0", "1"])
    assert t.y.tolist() == [1, 0]
    t = load_features_csv(put(tmp_path, "y,a,b\n0.5,1,2\n", "r.csv"), 2, label="y")
    assert t.y.tolist() == [[0.5]] and t.X.tolist() == [[1, 2]]


def test_feature_errors(tmp_path):
    with pytest.raises(CsvError, match="it has 4 columns; the network takes 2 features"):
        load_features_csv(put(tmp_path, "1,2,3,4\n"), 2)
    with pytest.raises(CsvError, match="row 3, column 'kind': the label 'emu' is not one of the network's"):
        load_features_csv(put(tmp_path, "a,b,kind\n1,2,dog\n3,4,emu\n", "e.csv"), 2,
                          class_names=["cat", "dog"])
    with pytest.raises(CsvError, match="row 2, column 'b': 'x' is not a number"):
        load_features_csv(put(tmp_path, "a,b\n1,x\n", "x.csv"), 2)


# --- writing ---------------------------------------------------------------------------------
def test_dataset_round_trip_is_exact(tmp_path):
    data = generate("spiral", n=90, noise=0.3, seed=5, arms=3)
    path = tmp_path / "spiral.csv"
    write_dataset_csv(data, path)
    back = load_csv(path)
    assert back.X.tobytes() == data.X.tobytes()
    assert np.array_equal(back.y, data.y) and back.class_names == data.class_names
    assert back.feature_names == data.feature_names
    header = path.read_text().splitlines()[0]
    assert header == "x1,x2,label"


def test_regression_and_named_classes_round_trip(tmp_path):
    reg = generate("plane", n=40, seed=1)
    write_dataset_csv(reg, tmp_path / "p.csv")
    back = load_csv(tmp_path / "p.csv")
    assert back.task == "regression" and back.y.tobytes() == reg.y.tobytes()
    named = Dataset(np.arange(8.0).reshape(4, 2), np.array([0, 1, 2, 1]), "classification", "n",
                    ("label", "b"), ("ant", "bee", "cow"))
    write_dataset_csv(named, tmp_path / "n.csv")
    assert (tmp_path / "n.csv").read_text().splitlines()[:2] == ["label,b,target", "0.0,1.0,ant"]
    back = load_csv(tmp_path / "n.csv")
    assert back.class_names == ("ant", "bee", "cow") and back.y.tolist() == [0, 1, 2, 1]


def test_predictions_csv(tmp_path):
    X = np.array([[0.1, 0.2], [0.3, 0.4]])
    write_predictions_csv(tmp_path / "p.csv", X, np.array([1, 0]), np.array([[0.25, 0.75], [0.9, 0.1]]),
                          feature_names=("a", "b"))
    rows = list(csv.reader((tmp_path / "p.csv").open()))
    assert rows == [["a", "b", "prediction", "p0", "p1"], ["0.1", "0.2", "1", "0.25", "0.75"],
                    ["0.3", "0.4", "0", "0.9", "0.1"]]
    write_predictions_csv(tmp_path / "r.csv", X, np.array([[1.5, 2.5], [3.5, 4.5]]))
    rows = list(csv.reader((tmp_path / "r.csv").open()))
    assert rows[0] == ["x1", "x2", "prediction1", "prediction2"] and rows[2] == ["0.3", "0.4", "3.5", "4.5"]
    with pytest.raises(ValueError, match="2 input rows but 3 predictions"):
        write_predictions_csv(tmp_path / "bad.csv", X, np.array([1, 0, 1]))
    assert not (tmp_path / "bad.csv").exists()


def test_history_csv_merges_evaluations(tmp_path):
    s = make_session()
    train(s, 25)  # evaluations at steps 10 and 20
    s.history.add_eval(0, 1.0, 0.5, 1.1, None)  # an evaluation before any step
    write_history_csv(s.history, tmp_path / "h.csv")
    rows = list(csv.DictReader((tmp_path / "h.csv").open()))
    assert list(rows[0]) == ["step", "epoch", "loss", "accuracy", "train_loss", "train_accuracy",
                             "test_loss", "test_accuracy"]
    assert len(rows) == 26
    assert rows[0]["step"] == "0" and rows[0]["loss"] == "" and rows[0]["test_loss"] == "1.1"
    assert rows[0]["test_accuracy"] == ""
    tenth = rows[10]
    assert tenth["step"] == "10" and tenth["train_loss"] == tenth["loss"] != ""
    assert rows[11]["train_loss"] == ""
    assert math.isclose(float(rows[25]["loss"]), s.history.steps.column("loss")[-1], rel_tol=0, abs_tol=0)
