"""Help > Quick guide and About: what a first-time user needs to read the screen."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

import nnviz

GUIDE = """
<h2>Watching a network learn</h2>
<p><b>Press Space</b> to start or pause training. <b>Ctrl+Right</b> trains one minibatch,
<b>Ctrl+R</b> (Reset) starts again from the first weights the seed gives, so runs with
different settings start alike; the seed's <i>New</i> button draws other weights. The
speed slider in the toolbar sets how many minibatches (steps) run per second.</p>
<h3>What you see</h3>
<ul>
<li><b>Network</b> (centre): inputs on the left, hidden layers, outputs on the right. With
two inputs every neuron shows what it computes over the input plane. Links are blue for
positive and orange for negative weights, thicker when larger. Dead ReLU units are
greyed and crossed out, saturated units are ringed. Click a neuron to see its map large.</li>
<li><b>Output</b>: the data (train points filled, test points hollow) over the network's
prediction. Click to add a point of the chosen class, Ctrl+click to remove one.</li>
<li><b>Loss</b>: training loss per minibatch (smoothed) and test loss; earlier runs stay
as faded curves so you can compare settings.</li>
<li><b>Histograms</b>: per layer, the distribution of activations, gradients or weights
and how it changes over time. Collapsing gradient histograms mean vanishing gradients.</li>
</ul>
<h3>Things to try</h3>
<ul>
<li>Set all activations to <i>sigmoid</i>, press Reset and Space: the gradient histograms
of the first layers shrink (saturation).</li>
<li>Raise the learning rate to 3 or 10: ReLU units die, the loss jumps, and training may
diverge; nnviz pauses and keeps the last good weights.</li>
<li>Add L2 regularisation or dropout and compare the test loss with the previous run.</li>
</ul>
<p>The learning rate, schedule, batch size, L1/L2 and dropout apply at once. Changes to the
data or the network wait for Reset (a hint says so); Edit &gt; Undo takes network edits back.</p>
"""

SHORTCUTS = """
<h3>Keyboard</h3>
<table>
<tr><td>Space</td><td>play / pause</td></tr>
<tr><td>Ctrl+Right</td><td>one step</td></tr>
<tr><td>Ctrl+R</td><td>reset (apply the settings shown)</td></tr>
<tr><td>Ctrl+N / Ctrl+O</td><td>new / open</td></tr>
<tr><td>Ctrl+S / Ctrl+Shift+S</td><td>save / save as</td></tr>
<tr><td>Ctrl+Z / Ctrl+Shift+Z</td><td>undo / redo a network edit</td></tr>
<tr><td>F1</td><td>this guide</td></tr>
</table>
"""


def _show(parent: QWidget, title: str, html: str, size: tuple[int, int]) -> QDialog:
    dlg = QDialog(parent)
    dlg.setWindowTitle(title)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    lay = QVBoxLayout(dlg)
    text = QTextBrowser()
    text.setOpenExternalLinks(True)
    text.setHtml(html)
    lay.addWidget(text)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dlg.close)
    lay.addWidget(buttons)
    dlg.resize(*size)
    dlg.show()  # not modal: the window stays usable beside it
    return dlg


def show_guide(parent: QWidget) -> QDialog:
    return _show(parent, "nnviz quick guide", GUIDE + SHORTCUTS, (620, 640))


def show_about(parent: QWidget) -> QDialog:
    html = (
        f"<h2>nnviz {nnviz.__version__}</h2>"
        "<p>Watch a neural network learn: a desktop app over a pure-NumPy training engine.</p>"
        "<p>MIT licence.</p>"
    )
    return _show(parent, "About nnviz", html, (420, 220))
