"""Reading the untrusted ZIP container of a ``.nnviz`` file and its ``.npz`` members.

Nothing is trusted, nothing is unpickled, and every size is checked before anything is
allocated. Problems raise :class:`ArchiveError`, a plain message that the caller
prefixes with the file name. One module per job:

- :mod:`.zip_directory`: the outer ZIP's directory and members' declared sizes, bounded
  reads of a member, the limits (:data:`MAX_TOTAL_BYTES`).
- :mod:`.npy_arrays`: what one array must look like (:class:`ArraySpec`), the size bounds
  of an ``.npz`` of such arrays, the checks on an array's ``.npy`` header.
- :mod:`.npz_reader`: an ``.npz`` member read in one pass, straight into its arrays.
"""

from nnviz.io.archive.npy_arrays import ArraySpec, npz_size_bounds
from nnviz.io.archive.npz_reader import read_npz, read_npz_member
from nnviz.io.archive.zip_directory import (
    MAX_TOTAL_BYTES,
    ArchiveError,
    check_central_directory,
    check_directory,
    check_member_size,
    read_member,
)

__all__ = [
    "MAX_TOTAL_BYTES",
    "ArchiveError",
    "ArraySpec",
    "check_central_directory",
    "check_directory",
    "check_member_size",
    "npz_size_bounds",
    "read_member",
    "read_npz",
    "read_npz_member",
]
