"""Small image-set files written by the tests themselves: IDX, CIFAR-10 binary, .npz."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np


def idx_bytes(values: np.ndarray, code: int = 0x08) -> bytes:
    """An IDX file of ``values`` (uint8), header and all."""
    header = bytes([0, 0, code, values.ndim]) + struct.pack(f">{values.ndim}I", *values.shape)
    return header + np.ascontiguousarray(values, dtype=np.uint8).tobytes()


def images(n: int, h: int = 4, w: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, h, w), dtype=np.uint8)


def labels(n: int, classes: int = 3) -> np.ndarray:
    return (np.arange(n) % classes).astype(np.uint8)


def write_idx_folder(folder: Path, n_train: int = 6, n_test: int = 3, gz: bool = False,
                     h: int = 4, w: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """An MNIST-style folder; returns all images (train then test) and labels."""
    folder.mkdir(parents=True, exist_ok=True)
    all_x, all_y = [], []
    for part, n, seed in (("train", n_train, 1), ("t10k", n_test, 2)):
        if not n:
            continue
        x, y = images(n, h, w, seed), labels(n)
        for stem, arr in ((f"{part}-images-idx3-ubyte", x), (f"{part}-labels-idx1-ubyte", y)):
            data = idx_bytes(arr)
            if gz:
                (folder / f"{stem}.gz").write_bytes(gzip.compress(data))
            else:
                (folder / stem).write_bytes(data)
        all_x.append(x)
        all_y.append(y)
    return np.concatenate(all_x), np.concatenate(all_y)


def cifar_records(n: int, seed: int = 0, classes: int = 10) -> tuple[bytes, np.ndarray, np.ndarray]:
    """``n`` CIFAR-10 binary records; also the images (n, 32, 32, 3) and labels."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    y = (np.arange(n) % classes).astype(np.uint8)
    planes = x.transpose(0, 3, 1, 2).reshape(n, 3072)  # channel-major, as published
    records = np.concatenate([y[:, None], planes], axis=1)
    return records.tobytes(), x, y
