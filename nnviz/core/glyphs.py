"""Handwriting-like digit images: the ten digits drawn as strokes, each example bent by
its own random pen.

The older :func:`nnviz.core.data.digits_like` set (random class prototypes plus noise) is
separable at a glance, so a network reaches 100% within seconds and its curves teach
nothing. Here every example is a digit's strokes under a random rotation, shear, scale,
shift and pen width, rendered at 8x8 like sklearn's digits (values 0..16), plus pixel
noise. Classes overlap the way real digits do (a slanted 1 and a 7, a 3 and an 8, a 5
and a 6), so a linear model stops near 75%, a hidden layer does better, and the gap
between train and test accuracy is there to see.
"""

from __future__ import annotations

import itertools

import numpy as np

SIDE = 8
N_CLASSES = 10
#: pen widths and distortions, in units of the image's side
PEN = (0.07, 0.13)
ROTATE = 0.22  # radians either way
SHEAR = 0.25
SCALE = (0.8, 1.08)
SHIFT = 0.09
#: the distortions above times this make ``noise=1``: measured on 2,000 examples, a linear
#: model then reaches about 75% test accuracy, 32 ReLU units about 92% (100% on the
#: training split: overfitting to see) and 256-128 about 95%
HANDWRITING = 1.5


def _ring(cx: float, cy: float, rx: float, ry: float, k: int = 10) -> list[tuple[float, float]]:
    t = np.linspace(0, 2 * np.pi, k + 1)
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in t]


# polylines in a unit box, y downwards (0 = top)
_STROKES: tuple[tuple[list[tuple[float, float]], ...], ...] = (
    (_ring(0.5, 0.5, 0.26, 0.38),),
    ([(0.33, 0.27), (0.52, 0.1), (0.52, 0.9)],),
    ([(0.25, 0.3), (0.35, 0.13), (0.62, 0.12), (0.74, 0.3), (0.25, 0.88), (0.78, 0.88)],),
    ([(0.25, 0.15), (0.72, 0.15), (0.48, 0.45), (0.74, 0.62), (0.62, 0.87), (0.25, 0.84)],),
    ([(0.66, 0.9), (0.66, 0.1), (0.2, 0.64), (0.82, 0.64)],),
    ([(0.75, 0.12), (0.32, 0.12), (0.28, 0.46), (0.64, 0.44), (0.76, 0.68), (0.6, 0.88),
      (0.25, 0.84)],),
    ([(0.7, 0.1), (0.38, 0.35), (0.26, 0.68), (0.42, 0.9), (0.7, 0.82), (0.72, 0.58),
      (0.3, 0.56)],),
    ([(0.22, 0.12), (0.78, 0.12), (0.42, 0.9)],),
    (_ring(0.5, 0.3, 0.2, 0.19), _ring(0.5, 0.7, 0.25, 0.2)),
    ([(0.72, 0.45), (0.3, 0.45), (0.28, 0.14), (0.72, 0.14), (0.72, 0.45), (0.62, 0.9)],),
)


def _segments(digit: int) -> np.ndarray:
    """(K, 2, 2): the digit's strokes as line segments (start, end)."""
    segs = [(a, b) for line in _STROKES[digit] for a, b in itertools.pairwise(line)]
    return np.asarray(segs, dtype=np.float64)


_PIXELS = (np.stack(np.meshgrid(np.arange(SIDE), np.arange(SIDE)), -1).reshape(-1, 2) + 0.5) / SIDE


def _render(segs: np.ndarray, pen: np.ndarray) -> np.ndarray:
    """Ink (0..1) per pixel for ``segs`` (m, K, 2, 2) with pen widths ``pen`` (m,)."""
    a, b = segs[:, :, None, 0, :], segs[:, :, None, 1, :]  # (m, K, 1, 2)
    ab = b - a
    p = _PIXELS[None, None, :, :]  # (1, 1, P, 2)
    t = np.clip(np.sum((p - a) * ab, -1) / np.maximum(np.sum(ab * ab, -1), 1e-12), 0, 1)
    d = np.linalg.norm(p - (a + t[..., None] * ab), axis=-1).min(axis=1)  # (m, P)
    soft = 0.5 / SIDE  # a pixel's half width: strokes thinner than a pixel still show
    return np.clip((pen[:, None] + soft - d) / (2 * soft), 0, 1)


#: examples rendered at once: the renderer's intermediates are about 60 KB an example
#: (segments x pixels x 2 coordinates, several arrays), so a chunk stays near 8 MB
RENDER_CHUNK = 128
#: bytes a generated example costs beyond its row of X and its label, at the peak: the
#: distortion parameters of its digit (about a dozen numbers) and index arrays
PER_EXAMPLE_BYTES = 160
#: bytes of the renderer's intermediates for one chunk (measured peak, with a margin)
RENDER_BYTES = RENDER_CHUNK * 72 * 1024


def digit_images(n: int = 2000, noise: float = 1.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` 8x8 digit images (X: (n, 64), values 0..16) and their labels (n,).

    ``noise`` scales both the pen's wobble (distortions) and the pixel noise: 0 gives
    clean, upright digits; 1 is the default handwriting; 2 is very messy. Rendering runs
    in chunks of :data:`RENDER_CHUNK` examples, so memory beyond X stays bounded (the
    random numbers are drawn in the same order as in one piece: the same images)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, N_CLASSES, n)
    X = np.empty((n, SIDE * SIDE))
    w = HANDWRITING * float(noise)
    for digit in range(N_CLASSES):
        rows = np.flatnonzero(y == digit)
        m = len(rows)
        if m == 0:
            continue
        angle = rng.uniform(-ROTATE, ROTATE, m) * w
        shear = rng.uniform(-SHEAR, SHEAR, m) * w
        scale = 1 + (rng.uniform(*SCALE, m) - 1) * min(w, 1.5)
        shift = rng.uniform(-SHIFT, SHIFT, (m, 2)) * w
        pen = rng.uniform(*PEN, m)
        pen = np.mean(PEN) + (pen - np.mean(PEN)) * min(w / HANDWRITING, 1.0)
        c, s = np.cos(angle), np.sin(angle)
        # rotate, then shear along x, then scale, about the centre
        A = np.empty((m, 2, 2))
        A[:, 0, 0], A[:, 0, 1] = scale * (c + shear * s), scale * (-s + shear * c)
        A[:, 1, 0], A[:, 1, 1] = scale * s, scale * c
        segs = _segments(digit)[None] - 0.5  # (1, K, 2, 2)
        for lo in range(0, m, RENDER_CHUNK):
            hi = min(lo + RENDER_CHUNK, m)
            k = hi - lo
            moved = np.einsum("mij,mkej->mkei", A[lo:hi], np.broadcast_to(segs, (k, *segs.shape[1:])))
            moved += 0.5 + shift[lo:hi, None, None, :]
            ink = _render(moved, pen[lo:hi])
            ink += rng.normal(0, 0.08 * w, ink.shape)
            X[rows[lo:hi]] = np.clip(ink, 0, 1) * 16
    return X, y
