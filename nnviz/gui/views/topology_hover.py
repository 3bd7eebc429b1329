"""What the topology view's tooltip says about a neuron, a weight image pixel or a link.

Qt-free: plain text from the run, the latest snapshot and the columns' geometry
(:mod:`nnviz.gui.views.topology_layout`), so it is tested without a window.
"""

from __future__ import annotations

import numpy as np

from nnviz.app.runinfo import RunInfo
from nnviz.core.trainer import Snapshot
from nnviz.gui.views.topology_layout import ColumnGeometry, unit_biases, unit_weights


def describe_neuron(col: ColumnGeometry, unit: int, info: RunInfo, snap: Snapshot | None) -> str:
    """A unit's name, and with a snapshot its bias, mean activation and state."""
    if col.kind == "input":
        names = info.input_names
        name = names[unit] if unit < len(names) else f"x{unit + 1}"
        return f"Input {unit + 1}: {name}"
    lay_i = col.index - 1
    if col.kind == "output":
        names = info.class_names if info.task == "classification" else ()
        label = f"Output {unit}" + (f" (class {names[unit]})" if unit < len(names) else "")
    else:
        label = f"Hidden layer {col.index}, unit {unit} ({col.activation})"
    if snap is None:
        return label
    lay = snap.layers[lay_i]
    b = unit_biases(snap.params[2 * lay_i + 1], col.units)[unit]
    lines = [label, f"bias: {b:+.4g}", f"mean activation: {lay.mean_activation[unit]:.4g}"]
    if lay.dead_units is not None:
        lines.append("dead: " + ("yes (outputs 0 for every input)" if lay.dead_units[unit] else "no"))
    if lay.saturated_units is not None:
        lines.append("saturated: " + ("yes (stuck on a flat tail)" if lay.saturated_units[unit]
                                      else "no"))
    return "\n".join(lines)


def describe_block(cols: list[ColumnGeometry], x: float, y: float, snap: Snapshot | None) -> str:
    """The weight under (x, y) in a collapsed layer's weight image ('' where none is)."""
    if snap is None:
        return ""
    for col in cols:
        if col.kind == "input" or not col.collapsed:
            continue
        W = unit_weights(snap.params[2 * (col.index - 1)], col.units)
        cell = col.block_cell_at(x, y, W.shape[0])
        if cell is None:
            continue
        i, j = cell
        src = cols[col.index - 1]
        return (f"Weights into {col.title.lower()} ({W.shape[0]} x {W.shape[1]})\n"
                f"from {src.title.lower()} unit {i} to unit {j}: w = {W[i, j]:+.4g}")
    return ""


def describe_link(cols: list[ColumnGeometry], links: dict[str, np.ndarray], k: int) -> str:
    """Link ``k`` of a table from :func:`~topology_layout.strongest_links`."""
    src = cols[int(links["gap"][k])]
    dst = cols[int(links["gap"][k]) + 1]
    return (f"Link from {src.title.lower()} unit {int(links['i'][k])} "
            f"to {dst.title.lower()} unit {int(links['j'][k])}\nweight: {links['w'][k]:+.4g}")
