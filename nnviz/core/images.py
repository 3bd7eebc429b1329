"""Images in a network's inputs: which input columns form a picture, the first layer's
weights as pictures, and the examples a gallery shows (pure NumPy, no Qt).

A student learning on images sees more in "what each hidden unit looks for" (its incoming
weights drawn as an image) and "which pictures does it get wrong" than in any histogram.
The views draw these arrays; the rules for them live here so they are tested without a
display and the trainer can compute the predictions the gallery needs.

Input layout, as :mod:`nnviz.io.images` writes it: pixels row-major, channels last, the
columns named ``pixel r,c`` (grey) or ``pixel r,c R`` / ``G`` / ``B`` (colour; any other
channel token is accepted the same way).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the network module imports nothing of this one; typing only
    from nnviz.core.spec import NetworkSpec

__all__ = [
    "EXAMPLE_COUNT",
    "EXAMPLE_SEED",
    "GALLERY_SIZE",
    "MAX_MOSAIC_SIDE",
    "MAX_TILES",
    "MAX_UNIT_EXAMPLES",
    "MIN_SQUARE_SIDE",
    "ExamplePredictions",
    "TileGeometry",
    "UnitExamples",
    "display_range",
    "example_subset",
    "exciting_examples",
    "gallery_order",
    "image_shape",
    "incoming_weights",
    "mean_image",
    "picture_bytes",
    "predict_examples",
    "tile_at",
    "tile_geometry",
    "tile_grid",
    "top_exciting",
    "unit_activations",
    "weight_tiles",
]

#: a mosaic handed to a view has at most this many pixels a side (the views' image bound)
MAX_MOSAIC_SIDE = 1024
#: the most first-layer units drawn as tiles (a 4,096-wide layer would be 4,096 specks)
MAX_TILES = 256
#: generic input names form a square image only from this side up (16 inputs: 4x4); below
#: it a table of a few columns is not a picture
MIN_SQUARE_SIDE = 4
#: examples the gallery shows unlabelled before any predictions (:func:`example_subset`),
#: and what a trainer without an evaluation sample of its own would predict (enough that
#: most cells of a confusion matrix have a few examples to show); the seed choosing them
EXAMPLE_COUNT = 512
EXAMPLE_SEED = 0
#: examples the gallery shows at most
GALLERY_SIZE = 48
#: examples a unit's "most exciting" search runs the network on at most (the first of the
#: snapshot's examples): a forward pass of a few hundred rows costs milliseconds
MAX_UNIT_EXAMPLES = 1024

_PIXEL = re.compile(r"pixel (\d+),(\d+)(?: (\S+))?")
_NUMBERED = re.compile(r"(.*?)(\d+)")


def image_shape(input_names: Sequence[str]) -> tuple[int, int, int] | None:
    """``(height, width, channels)`` when the inputs are the pixels of one image, else None.

    The rule, first match wins:

    * pixel names: every name is ``pixel r,c`` or ``pixel r,c X`` (X a channel token), in
      exactly the order :mod:`nnviz.io.images` writes them (row-major, channels last), the
      same channel tokens at every pixel;
    * generic names: a square count of inputs, ``s * s`` with ``s >= MIN_SQUARE_SIDE``,
      whose names are all empty or a numbered sequence with one common prefix (``x1`` ..
      ``x64`` as :class:`~nnviz.core.data.Dataset` names unnamed columns, ``pixel0`` ..
      ``pixel783`` as the Kaggle MNIST CSV does, ``0`` .. ``63``), read as ``(s, s, 1)``.

    Anything else (named measurements, 2-D plane features, a count that is not a square)
    is not an image.
    """
    names = tuple(input_names)
    n = len(names)
    if n == 0:
        return None
    first = _PIXEL.fullmatch(names[0])
    if first is not None:
        return _pixel_shape(names)
    side = math.isqrt(n)
    if side * side != n or side < MIN_SQUARE_SIDE or not _generic(names):
        return None
    return side, side, 1


def _pixel_shape(names: tuple[str, ...]) -> tuple[int, int, int] | None:
    last = _PIXEL.fullmatch(names[-1])
    if last is None:
        return None
    h, w = int(last.group(1)) + 1, int(last.group(2)) + 1
    if h * w == 0 or len(names) % (h * w):
        return None
    c = len(names) // (h * w)
    tokens = [_PIXEL.fullmatch(names[k]) for k in range(c)]
    if any(t is None for t in tokens):
        return None
    letters = [t.group(3) for t in tokens]  # type: ignore[union-attr]
    if c == 1 and letters[0] is None:
        expected = (f"pixel {r},{q}" for r in range(h) for q in range(w))
    elif c >= 1 and all(x is not None for x in letters) and len(set(letters)) == c:
        expected = (f"pixel {r},{q} {x}" for r in range(h) for q in range(w) for x in letters)
    else:
        return None
    if not all(a == b for a, b in zip(names, expected, strict=True)):
        return None
    return h, w, c


def _generic(names: tuple[str, ...]) -> bool:
    """True when ``names`` say nothing but "column k": all empty, or one prefix and the
    numbers 0..n-1 or 1..n in order."""
    if all(not s for s in names):
        return True
    m0 = _NUMBERED.fullmatch(names[0])
    if m0 is None:
        return False
    prefix, start = m0.group(1), int(m0.group(2))
    if start not in (0, 1):
        return False
    return all(s == f"{prefix}{k + start}" for k, s in enumerate(names))


def _finite_scale(a: np.ndarray, axis: tuple[int, ...]) -> np.ndarray:
    """The largest finite |value| along ``axis`` (1 where there is none or it is 0)."""
    with np.errstate(over="ignore", invalid="ignore"):
        m = np.where(np.isfinite(a), np.abs(a), 0.0).max(axis=axis, keepdims=True, initial=0.0)
    return np.where(np.isfinite(m) & (m > 0), m, 1.0)


def weight_tiles(W: np.ndarray, shape: tuple[int, int, int], max_units: int = MAX_TILES,
                 input_matrix: np.ndarray | None = None) -> np.ndarray:
    """First-layer weights ``W`` (inputs, units) as one image per unit, (units, h, w, c)
    float32, each scaled by its own largest finite |w| to -1..1: a unit's pattern shows
    whatever its overall size (a weak unit is as readable as a strong one).

    At most ``max_units`` tiles (the first units). ``input_matrix`` (pixels, inputs), when
    the network's inputs are a rotation of the pixels (PCA), maps the weights back onto
    the pixels first: a unit's pre-activation is ``(x - mean) @ input_matrix @ W``.
    NaN stays NaN (a diverged weight shows as "no value"), +-inf becomes +-1.
    """
    W = np.asarray(W)
    if W.ndim != 2:
        raise ValueError(f"weights must be (inputs, units), not {W.ndim}-D")
    h, w, c = (int(v) for v in shape)
    units = min(W.shape[1], max(int(max_units), 0))
    W = W[:, :units]
    if input_matrix is not None:
        with np.errstate(over="ignore", invalid="ignore"):
            W = np.asarray(input_matrix, dtype=np.float64) @ W
    if W.shape[0] != h * w * c:
        raise ValueError(f"{W.shape[0]} inputs are not the pixels of a {h}x{w}x{c} image")
    # scaled in float64 (weights near its limit), then float32 for the colour map
    tiles = np.ascontiguousarray(W.T, dtype=np.float64).reshape(units, h, w, c)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        tiles = tiles / _finite_scale(tiles, (1, 2, 3))
        np.clip(tiles, -1.0, 1.0, out=tiles)  # +-inf (and nothing else) lands on the ends
        return tiles.astype(np.float32)


@dataclass(frozen=True)
class TileGeometry:
    """Where the tiles of a mosaic lie: ``rows`` x ``cols`` tiles of ``tile_h`` x
    ``tile_w`` pixels (each image shrunk ``factor`` times), ``gap`` pixels between them."""

    count: int
    rows: int
    cols: int
    factor: int
    tile_h: int
    tile_w: int
    gap: int = 1

    @property
    def shape(self) -> tuple[int, int]:
        """The mosaic's (height, width) in pixels."""
        g = self.gap
        return (max(self.rows * (self.tile_h + g) - g, 0), max(self.cols * (self.tile_w + g) - g, 0))

    def origin(self, k: int) -> tuple[int, int]:
        """Top-left (row, column) pixel of tile ``k``."""
        r, q = divmod(int(k), self.cols)
        return r * (self.tile_h + self.gap), q * (self.tile_w + self.gap)


def tile_geometry(count: int, h: int, w: int, cols: int, gap: int = 1,
                  most: int = MAX_MOSAIC_SIDE) -> TileGeometry:
    """The layout :func:`tile_grid` uses: ``cols`` columns (at most ``count``), each image
    shrunk by the smallest whole factor that keeps the mosaic within ``most`` pixels a
    side. Tiles that do not fit even at one pixel each are left out (``count`` says how
    many are drawn)."""
    count, h, w, gap = max(int(count), 0), max(int(h), 1), max(int(w), 1), max(int(gap), 0)
    if count == 0:
        return TileGeometry(0, 0, 0, 1, h, w, gap)
    fit = max((most + gap) // (1 + gap), 1)  # tiles a side at one pixel each
    cols = min(max(int(cols), 1), count, fit)
    rows = min(-(-count // cols), fit)
    count = min(count, rows * cols)
    factor = 1
    while True:
        th, tw = -(-h // factor), -(-w // factor)
        if cols * (tw + gap) - gap <= most and rows * (th + gap) - gap <= most:
            return TileGeometry(count, rows, cols, factor, th, tw, gap)
        factor += 1


def _coarsen(tiles: np.ndarray, factor: int) -> np.ndarray:
    """(n, h, w, c) images shrunk ``factor`` times by block means (NaN ignored; a block
    of NaN stays NaN), the last partial blocks included."""
    if factor == 1:
        return tiles
    n, h, w, c = tiles.shape
    th, tw = -(-h // factor), -(-w // factor)
    padded = np.full((n, th * factor, tw * factor, c), np.nan, np.float64)
    padded[:, :h, :w] = tiles
    blocks = padded.reshape(n, th, factor, tw, factor, c)
    with np.errstate(invalid="ignore", over="ignore"):
        ok = np.isfinite(blocks)
        total = np.where(ok, blocks, 0.0).sum(axis=(2, 4))
        count = ok.sum(axis=(2, 4))
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def tile_grid(tiles: np.ndarray, cols: int, gap: int = 1, fill: float | Sequence[float] = np.nan,
              most: int = MAX_MOSAIC_SIDE) -> np.ndarray:
    """Images (n, h, w, c) as one mosaic (H, W, c), ``cols`` to a row, ``gap`` pixels of
    ``fill`` between them: one image for a view to draw instead of n items. Bounded to
    ``most`` pixels a side by shrinking every tile by a whole factor (block means), then
    by leaving out tiles that do not fit at one pixel each (see :func:`tile_geometry`).
    Keeps the tiles' dtype (integers are rounded after shrinking)."""
    tiles = np.asarray(tiles)
    if not (np.issubdtype(tiles.dtype, np.floating) or np.issubdtype(tiles.dtype, np.integer)):
        tiles = tiles.astype(np.float64)
    if tiles.ndim == 3:
        tiles = tiles[..., None]
    if tiles.ndim != 4:
        raise ValueError(f"tiles must be (n, h, w, c), not {tiles.ndim}-D")
    n, h, w, c = tiles.shape
    geo = tile_geometry(n, h, w, cols, gap, most)
    H, Wd = geo.shape
    dtype = tiles.dtype
    integer = np.issubdtype(dtype, np.integer)
    if geo.factor == 1 and geo.count:
        return _mosaic(tiles[:geo.count], geo, fill)
    out = np.empty((H, Wd, c), dtype=np.float64 if integer else dtype)
    out[...] = np.broadcast_to(np.asarray(fill, dtype=np.float64), (c,))
    small = _coarsen(tiles[:geo.count], geo.factor) if geo.factor > 1 else tiles[:geo.count]
    for k in range(geo.count):
        r0, c0 = geo.origin(k)
        out[r0:r0 + geo.tile_h, c0:c0 + geo.tile_w] = small[k]
    if integer:
        info = np.iinfo(dtype)
        return np.clip(np.rint(np.nan_to_num(out)), info.min, info.max).astype(dtype)
    return out


def _mosaic(tiles: np.ndarray, geo: TileGeometry, fill) -> np.ndarray:
    """:func:`tile_grid` of tiles drawn at full size, in a few whole-array copies instead
    of one per tile (a 100-unit layer's tiles every frame of the weight view)."""
    n, h, w, c = tiles.shape
    g = geo.gap
    dtype = tiles.dtype
    fill = np.broadcast_to(np.asarray(fill, dtype=np.float64), (c,))
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        fill = np.clip(np.rint(np.nan_to_num(fill)), info.min, info.max)
    grid = np.empty((geo.rows, geo.cols, h + g, w + g, c), dtype)
    grid[...] = fill.astype(dtype)
    cells = grid.reshape(geo.rows * geo.cols, h + g, w + g, c)
    cells[:n, :h, :w] = tiles
    out = grid.transpose(0, 2, 1, 3, 4).reshape(geo.rows * (h + g), geo.cols * (w + g), c)
    H, W = geo.shape
    return np.ascontiguousarray(out[:H, :W])


def tile_at(geo: TileGeometry, row: float, col: float) -> int | None:
    """The tile under mosaic pixel (row, col), None on a gap or outside: what a click hits."""
    if not (math.isfinite(row) and math.isfinite(col)) or row < 0 or col < 0 or geo.count == 0:
        return None
    r, dr = divmod(int(row), geo.tile_h + geo.gap)
    q, dq = divmod(int(col), geo.tile_w + geo.gap)
    if dr >= geo.tile_h or dq >= geo.tile_w or q >= geo.cols:
        return None
    k = r * geo.cols + q
    return k if k < geo.count else None


@dataclass(frozen=True)
class ExamplePredictions:
    """The network's answers on a fixed subset of examples, for the gallery.

    The trainer's snapshot has them for free: the examples behind its confusion matrix
    (the seeded sample of the test split it evaluates, or its training sample) with the scores it
    already computed, so the gallery's "true 3, predicted 5" is that matrix cell exactly.
    ``indices`` are rows of the split named by ``split`` ("test", or "train" for a run
    without a test split) as :class:`~nnviz.app.runinfo.RunInfo` holds it; ``predicted``
    is the class (-1: no answer, the outputs were not finite), ``confidence`` the
    probability of that class (NaN with -1). Arrays are read-only.
    """

    indices: np.ndarray  # (k,) int64
    predicted: np.ndarray  # (k,) int64
    confidence: np.ndarray  # (k,) float32
    split: str = "test"


def _frozen(a: np.ndarray, dtype) -> np.ndarray:
    a = np.array(a, dtype=dtype, copy=True)
    a.flags.writeable = False
    return a


def example_subset(n: int, k: int = EXAMPLE_COUNT, seed: int = EXAMPLE_SEED) -> np.ndarray:
    """Sorted indices of a seeded sample of ``k`` of ``n`` examples (all of them when
    ``n <= k``): the same rows every snapshot of a run. The gallery shows these before any
    predictions arrive; a trainer that evaluates no fixed sample of its own may predict
    them (``predict_examples(probabilities of X[subset], subset)``)."""
    n, k = max(int(n), 0), max(int(k), 0)
    if n <= k:
        return np.arange(n, dtype=np.int64)
    return np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False)).astype(np.int64)


def predict_examples(probabilities: np.ndarray, indices: np.ndarray,
                     split: str = "test") -> ExamplePredictions:
    """The gallery's predictions from class ``probabilities`` (k, C) of the examples at
    ``indices`` (k,) of the split (the trainer: ``loss.probabilities(scores)`` of the
    scores behind its confusion matrix, ``indices`` the rows they came from). A row that
    is not finite (a diverged run) gets class -1 and confidence NaN."""
    p = np.asarray(probabilities, dtype=np.float64)
    idx = np.asarray(indices, dtype=np.int64).ravel()
    if p.ndim != 2 or len(p) != len(idx):
        raise ValueError(f"probabilities must be ({len(idx)}, classes), not {p.shape}")
    if p.shape[1] == 0:
        predicted = np.full(len(idx), -1, np.int64)
        confidence = np.full(len(idx), np.nan)
    else:
        ok = np.isfinite(p).all(axis=1)
        predicted = np.where(ok, np.nan_to_num(p, nan=-1.0).argmax(axis=1), -1)
        confidence = np.where(ok, p.max(axis=1, initial=-np.inf), np.nan)
    return ExamplePredictions(_frozen(idx, np.int64), _frozen(predicted, np.int64),
                              _frozen(confidence, np.float32), split)


def gallery_order(true: np.ndarray, predicted: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """Positions into the arrays in the order a gallery shows them: the mistakes first,
    the most confident mistake first (the one to look at), then the correct answers, the
    least confident first (the ones nearly got wrong). NaN confidence counts as 0; ties
    keep their order."""
    t = np.asarray(true).ravel()
    p = np.asarray(predicted).ravel()
    conf = np.nan_to_num(np.asarray(confidence, dtype=np.float64).ravel(), nan=0.0)
    if not len(t) == len(p) == len(conf):
        raise ValueError("true, predicted and confidence must be of one length")
    wrong = p != t
    key = np.where(wrong, -conf, conf)  # lexsort: the last key is the primary one
    return np.lexsort((np.arange(len(t)), key, ~wrong)).astype(np.int64)


def top_exciting(activations_of_unit: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` examples with the largest activation of one unit, largest
    first (NaN never counts as exciting): the pictures a unit "fires for"."""
    a = np.asarray(activations_of_unit, dtype=np.float64).ravel()
    k = min(max(int(k), 0), a.size)
    if k == 0:
        return np.zeros(0, np.int64)
    a = np.where(np.isnan(a), -np.inf, a)
    part = np.argpartition(-a, k - 1)[:k] if k < a.size else np.arange(a.size)
    return part[np.lexsort((part, -a[part]))].astype(np.int64)


def display_range(X: np.ndarray) -> tuple[float, float]:
    """The value range drawn black to white: 0..1 for pixels as the image loaders give
    them, else the examples' own finite range (digits from 0..16, standardised values)."""
    X = np.asarray(X, np.float64)
    finite = X[np.isfinite(X)]
    if not finite.size:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if lo >= 0.0 and hi <= 1.0:
        return 0.0, 1.0
    if lo >= 0.0:
        lo = 0.0
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def picture_bytes(x: np.ndarray, shape: tuple[int, int, int], lo: float, hi: float) -> np.ndarray:
    """One example's inputs ``x`` (h*w*c,) as bytes (h, w, 1) grey or (h, w, 3) colour,
    ``lo`` black and ``hi`` white (NaN black): what a view turns into an image."""
    h, w, c = (int(v) for v in shape)
    a = np.asarray(x, np.float64).reshape(h, w, c)
    span = hi - lo if hi > lo else 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        t = (a - lo) * (255.0 / span)
    t = np.clip(np.nan_to_num(t, nan=0.0), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(t[..., :3] if c >= 3 else t[..., :1])


def mean_image(X: np.ndarray) -> np.ndarray:
    """The mean of each input over the examples (h*w*c,), non-finite values left out: the
    picture a network is shown when no example is chosen ("the average digit")."""
    X = np.asarray(X)
    if X.ndim != 2 or not len(X):
        return np.zeros(X.shape[-1] if X.ndim == 2 else 0)
    with np.errstate(over="ignore", invalid="ignore"):
        ok = np.isfinite(X)
        total = np.where(ok, X, 0.0).sum(axis=0, dtype=np.float64)
        count = ok.sum(axis=0)
        return np.where(count > 0, total / np.maximum(count, 1), 0.0)


def _layer_index(spec: NetworkSpec, layer: int) -> int:
    """Dense layer ``layer`` (hidden from 0, -1 the outputs) as an index into the layers."""
    n_hidden = len(spec.hidden)
    if layer == -1:
        return n_hidden
    if not 0 <= layer < n_hidden:
        raise ValueError(f"there is no layer {layer} (hidden layers 0..{n_hidden - 1}, output -1)")
    return layer


def _units(spec: NetworkSpec, k: int) -> int:
    return spec.hidden[k].units if k < len(spec.hidden) else spec.output_dim


def incoming_weights(spec: NetworkSpec, params: Sequence[np.ndarray], layer: int, unit: int) -> np.ndarray:
    """The weights into ``unit`` of ``layer`` (fan_in,) float64: a column of the layer's
    weight matrix (for maxout, each input's strongest piece, as the topology draws it)."""
    k = _layer_index(spec, layer)
    units = _units(spec, k)
    if not 0 <= unit < units:
        raise ValueError(f"layer {layer} has no unit {unit}")
    W = np.asarray(params[2 * k])
    if W.shape[1] == units:
        return W[:, unit].astype(np.float64)
    pieces = W[:, unit * (W.shape[1] // units):(unit + 1) * (W.shape[1] // units)]
    pick = np.abs(pieces).argmax(axis=1)
    return pieces[np.arange(len(pieces)), pick].astype(np.float64)


def unit_activations(spec: NetworkSpec, params: Sequence[np.ndarray], X: np.ndarray,
                     layer: int) -> np.ndarray:
    """Every unit's activation (n, units) of ``layer`` (hidden from 0; -1: the output
    scores) on network inputs ``X`` (n, inputs, after the input pipeline), by the
    engine's own forward pass (skip connections, maxout and every activation as trained;
    no dropout). ``params`` are a snapshot's: read, never written."""
    from nnviz.core.network import Network  # the engine; imported here, it imports the spec

    k = _layer_index(spec, layer)
    net = Network(spec, list(params))
    X = np.asarray(X, dtype=net.dtype)
    if X.ndim != 2 or X.shape[1] != spec.input_dim:
        raise ValueError(f"inputs must be (examples, {spec.input_dim}), not {X.shape}")
    with np.errstate(all="ignore"):  # a diverged run: NaN activations, ranked last
        cache = net.forward(X)
    return cache.scores if k == len(spec.hidden) else cache.post[k]


@dataclass(frozen=True)
class UnitExamples:
    """The examples that excite one unit most: ``indices`` into the split the examples
    came from, each one's ``activation``, largest first; ``searched`` how many examples
    the search ran over. Arrays are read-only."""

    layer: int
    unit: int
    indices: np.ndarray  # (k,) int64
    activation: np.ndarray  # (k,) float64
    searched: int


def exciting_examples(spec: NetworkSpec, params: Sequence[np.ndarray], X: np.ndarray,
                      indices: np.ndarray, layer: int, unit: int, k: int) -> UnitExamples:
    """The ``k`` examples of ``X`` (network inputs of the examples at ``indices``, at most
    :data:`MAX_UNIT_EXAMPLES` of them searched) with the largest activation of ``unit``
    of ``layer``: the pictures the unit fires for, by :func:`top_exciting`."""
    idx = np.asarray(indices, np.int64).ravel()
    X = np.asarray(X)
    if len(X) != len(idx):
        raise ValueError(f"{len(X)} examples for {len(idx)} indices")
    idx, X = idx[:MAX_UNIT_EXAMPLES], X[:MAX_UNIT_EXAMPLES]
    k_layer = _layer_index(spec, layer)
    if not 0 <= unit < _units(spec, k_layer):
        raise ValueError(f"layer {layer} has no unit {unit}")
    acts = unit_activations(spec, params, X, layer)[:, unit].astype(np.float64)
    top = top_exciting(acts, k)
    return UnitExamples(int(layer), int(unit), _frozen(idx[top], np.int64), _frozen(acts[top], np.float64),
                        len(idx))
