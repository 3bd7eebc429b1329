"""The topology view's geometry and hover text without Qt: columns, collapse, links, hits."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np

from nnviz.core.spec import LayerSpec, NetworkSpec
from nnviz.gui.views.topology_hover import describe_link
from nnviz.gui.views.topology_layout import (
    CELL,
    COLLAPSE_UNITS,
    LINK_BUCKETS,
    MAX_LINKS_PER_GAP,
    PITCH,
    column_for_layer,
    fans,
    layout_columns,
    link_near,
    strength_levels,
    strongest_links,
    unit_weights,
    view_extent,
)


def spec(*widths: int, activation: str = "relu") -> NetworkSpec:
    *hidden, out = widths[1:]
    return NetworkSpec(widths[0], out, tuple(LayerSpec(n, activation) for n in hidden))


def params_for(s: NetworkSpec, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for (fi, fo), (nb,) in s.layer_shapes():
        out += [rng.standard_normal((fi, fo)), rng.standard_normal(nb)]
    return out


def test_the_geometry_needs_no_qt():
    code = ("import sys, nnviz.gui.views.topology_layout, nnviz.gui.views.topology_hover; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_columns_left_to_right_centred_and_titled():
    cols = layout_columns(spec(2, 8, 8, 2))
    assert [c.kind for c in cols] == ["input", "hidden", "hidden", "output"]
    assert [c.layer for c in cols] == [None, 0, 1, -1]
    assert not any(c.collapsed for c in cols)
    assert all(a.x1 < b.x0 for a, b in itertools.pairwise(cols))
    for c in cols:  # unit 0 at the top, one pitch apart, centred on y = 0
        assert np.allclose(np.diff(c.ys), -PITCH) and abs(c.ys.mean()) < 1e-12
        assert abs(c.x1 - c.x0 - CELL) < 1e-9
    assert "8 relu" in cols[1].header_html and "24 params" in cols[1].header_html
    assert "2 features" in cols[0].header_html
    assert column_for_layer(cols, -1) is cols[-1] and column_for_layer(cols, 5) is None
    assert fans(cols) == []


def test_wide_layers_collapse_to_a_block_of_bounded_height():
    cols = layout_columns(spec(784, 256, COLLAPSE_UNITS, 10))
    assert [c.collapsed for c in cols] == [True, True, False, False]
    assert cols[1].top - cols[1].bottom <= 24 + 1e-9  # a block, not 256 rows of cells
    assert len(fans(cols)) == 1  # the band into the collapsed hidden layer
    # the strip is the hit area of a collapsed layer's units
    c = cols[1]
    assert c.unit_at(c.unit_x(), float(c.ys[17])) == 17
    assert c.unit_at(c.x0 + 0.01, float(c.ys[17])) is None
    assert c.block_cell_at(c.x0 + 1e-4, c.top - 1e-4, 784) == (0, 0)
    assert cols[0].block_cell_at(cols[0].x0, cols[0].top, 1) is None  # inputs have no weights


def test_hits_and_highlight_frame_fit_the_cells():
    cols = layout_columns(spec(2, 5, 3))
    c = cols[1]
    for u in range(c.units):
        assert c.unit_at(c.centre_x, float(c.ys[u])) == u
        x, y, w, h = c.highlight_rect(u)
        assert x < c.x0 and x + w > c.x1 and y < c.ys[u] < y + h
    assert c.unit_at(c.centre_x, float(c.ys[0]) + 0.45) is None  # the gap between cells
    left, bottom, width, height = view_extent(cols, True, True)
    assert left < cols[0].x0 and left + width > cols[-1].x1
    assert bottom < min(k.bottom for k in cols) and bottom + height > max(k.top for k in cols)


def test_links_are_the_strongest_of_each_drawn_gap():
    s = spec(40, 50, 10)
    cols = layout_columns(s)
    params = params_for(s)
    links = strongest_links(cols, params, lambda w: float(np.abs(w).max()))
    # the gap into the collapsed 50-unit layer is its weight image, not links
    assert set(links["gap"]) == {1}
    assert links["w"].size == 50 * 10 <= MAX_LINKS_PER_GAP
    W = params[2]
    assert np.array_equal(links["w"], W[links["i"], links["j"]])
    assert links["key"].max() < 2 * LINK_BUCKETS
    k = int(np.argmax(np.abs(links["w"])))
    assert links["key"][k] == int(links["w"][k] > 0) * LINK_BUCKETS + LINK_BUCKETS - 1


def test_links_are_capped_per_gap():
    s = spec(30, 30, 30, 2)
    cols = layout_columns(s)
    params = params_for(s)
    links = strongest_links(cols, params, lambda w: float(np.abs(w).max()))
    for g in (0, 1):
        sel = links["gap"] == g
        assert np.count_nonzero(sel) == min(900, MAX_LINKS_PER_GAP)
    assert strongest_links(layout_columns(spec(2, 64, 64)), params_for(spec(2, 64, 64)), max) == {}


def test_the_link_under_a_point_is_the_strongest_there():
    s = spec(2, 3, 2)
    cols = layout_columns(s)
    links = strongest_links(cols, params_for(s, seed=3), lambda w: float(np.abs(w).max()))
    k = 4
    mx = (links["x0"][k] + links["x1"][k]) / 2
    my = (links["y0"][k] + links["y1"][k]) / 2
    hit = link_near(links, mx, my, 1e-6)
    assert hit is not None and abs(links["w"][hit]) >= abs(links["w"][k])  # k, or a stronger crossing
    assert link_near(links, -100.0, -100.0, 0.1) is None
    assert link_near({}, 0.0, 0.0, 1.0) is None
    text = describe_link(cols, links, k)
    assert text.startswith("Link from") and "weight:" in text


def test_maxout_units_keep_their_strongest_piece_and_levels_have_sign():
    W = np.array([[1.0, -3.0, 0.5, 0.2]])  # one input, 2 units x 2 pieces
    assert np.array_equal(unit_weights(W, 2), [[-3.0, 0.5]])
    lv = strength_levels(np.array([-1.0, 0.0, 0.49, 1.0, np.nan, np.inf]), 1.0)
    assert list(lv) == [LINK_BUCKETS - 1, 0, LINK_BUCKETS + 3, 2 * LINK_BUCKETS - 1, 0, 2 * LINK_BUCKETS - 1]
