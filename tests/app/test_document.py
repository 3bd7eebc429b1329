"""The run document: how what the window has open changes, without a window."""

from pathlib import Path

import numpy as np

from nnviz.app.document import DEMO_NAME, RunDocument
from nnviz.app.run_settings import CUSTOM, RunSettings


def test_a_new_document_is_the_unmodified_demo():
    doc = RunDocument()
    assert doc.name == DEMO_NAME and doc.path is None and not doc.modified
    assert doc.title == f"{DEMO_NAME}[*] — nnviz"
    assert doc.generation == 0 and doc.is_2d


def test_each_run_gets_the_next_generation_and_number():
    doc = RunDocument()
    s = RunSettings()
    assert doc.begin_run(s, None) == 1
    assert doc.begin_run(s, None) == 2
    assert doc.run_number == 2 and doc.settings is s


def test_saving_names_the_document_and_clears_the_mark(tmp_path):
    doc = RunDocument()
    doc.changed()
    assert doc.modified
    doc.saved_as(tmp_path / "net.nnviz")
    assert doc.name == "net.nnviz" and doc.path == Path(tmp_path / "net.nnviz") and not doc.modified
    doc.imported("table")
    assert doc.path is None and doc.name == "table" and doc.modified
    doc.untitled()
    assert doc.name == DEMO_NAME and not doc.modified


def test_live_settings_change_the_running_settings_and_mark_it():
    doc = RunDocument()
    doc.begin_run(RunSettings(), None)
    settings = doc.train_settings_applied({"lr": 0.5})
    assert settings.train.lr == 0.5 and doc.settings.train.lr == 0.5 and doc.modified


def test_edited_points_become_the_runs_custom_data_named_once():
    doc = RunDocument()
    doc.begin_run(RunSettings(), None)
    X = np.zeros((5, 2))
    y = np.array([0, 1, 0, 1, 1])
    data = doc.data_edited(X, y, "classification", ("a", "b"))
    assert data.name == "spiral (edited)" and doc.custom_data is data
    assert doc.settings.data.source == CUSTOM and doc.settings.data.n == 5 and doc.modified
    again = doc.data_edited(X[:4], y[:4], "classification", ("a", "b"))
    assert again.name == "spiral (edited)" and doc.settings.data.n == 4
    assert not doc.is_2d or doc.custom_data.n_features == 2
