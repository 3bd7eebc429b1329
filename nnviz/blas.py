"""Keep NumPy's BLAS to one thread while the window trains.

The trainer multiplies small matrices (a minibatch of tens of rows) thousands of times a
second. A multithreaded OpenBLAS wakes its helper threads for each product; on a machine
whose cores are also busy with the window (or anything else) they wait to be scheduled,
and a 64x64 by 64x256 product that takes 0.2 ms on one thread was measured at 13 ms.
Environment variables only help before NumPy is imported, so this asks the loaded
library directly (as threadpoolctl does), by the symbols OpenBLAS builds export.
"""

from __future__ import annotations

import ctypes

import numpy as np  # noqa: F401  (the BLAS library is loaded with NumPy)

_SETTERS = (
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
    "MKL_Set_Num_Threads",
)


def _loaded_blas_paths() -> list[str]:
    paths: list[str] = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6:
                    path = parts[-1]
                    name = path.rsplit("/", 1)[-1].lower()
                    if ("blas" in name or "mkl_rt" in name) and path not in paths:
                        paths.append(path)
    except OSError:
        pass
    return paths


def limit_blas_threads(n: int = 1) -> bool:
    """Ask every loaded BLAS library for ``n`` threads; True if one agreed."""
    done = False
    for path in _loaded_blas_paths():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _SETTERS:
            fn = getattr(lib, name, None)
            if fn is not None:
                fn(ctypes.c_int(n))
                done = True
                break
    return done
