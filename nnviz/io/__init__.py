"""Files: the ``.nnviz`` network file, hand-written JSON specs, CSV data, atomic writes.

Never imports Qt. Loading raises only :class:`FileFormatError` (:class:`CsvError` for
CSV); saving raises :class:`SaveError` (an ``OSError``) and never damages the old file.
ONNX export and import live in ``nnviz.io.onnx_*`` and need the optional ``onnx`` package.
"""

from nnviz.io.csv_data import (
    FeatureTable,
    load_csv,
    load_features_csv,
    write_dataset_csv,
    write_history_csv,
    write_predictions_csv,
)
from nnviz.io.errors import CsvError, FileFormatError, SaveError
from nnviz.io.loaded import LoadedNetwork
from nnviz.io.network_file import load_file, save_network, save_session
from nnviz.io.network_file_contents import FORMAT_VERSION, DataInfo

__all__ = [
    "FORMAT_VERSION",
    "CsvError",
    "DataInfo",
    "FeatureTable",
    "FileFormatError",
    "LoadedNetwork",
    "SaveError",
    "load_csv",
    "load_features_csv",
    "load_file",
    "save_network",
    "save_session",
    "write_dataset_csv",
    "write_history_csv",
    "write_predictions_csv",
]
