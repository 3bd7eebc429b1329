"""What ONNX export and import share: the errors, the lazy import of the optional
``onnx`` package, and the names the exporter writes.

``onnx`` is an optional extra, so nothing here imports it at module import time: the
app and the command line must work without it and only say what to install.
"""

from __future__ import annotations

from types import ModuleType

UNAVAILABLE_MESSAGE = "ONNX support needs the optional extra: pip install 'nnviz[onnx]'"

#: opset written by default: loaded by every onnxruntime since 1.13 and by Netron
DEFAULT_OPSET = 17
#: Softmax got its per-axis meaning in opset 13; older opsets are not written
MIN_OPSET = 13
PRODUCER_NAME = "nnviz"
INPUT_NAME = "input"
LOGITS_NAME = "logits"
PROBABILITIES_NAME = "probabilities"
BATCH_DIM = "batch"

#: metadata the exporter stores so its own files import with the original settings
META_SPEC = "nnviz.spec"
META_PREPROCESS = "nnviz.preprocess"
META_FEATURES = "nnviz.features"


FROZEN_MESSAGE = (
    "ONNX export and import are not part of the installed app; they need nnviz installed "
    "with Python: pip install 'nnviz[onnx]'"
)


def unavailable_message() -> str:
    """What to tell a user without the ``onnx`` package: a pip hint means nothing inside
    the packaged app, so that case says so."""
    import sys

    return FROZEN_MESSAGE if getattr(sys, "frozen", False) else UNAVAILABLE_MESSAGE


class OnnxUnavailableError(RuntimeError):
    """The optional ``onnx`` package is not installed."""

    def __init__(self, message: str | None = None):
        super().__init__(message or unavailable_message())


class OnnxExportError(ValueError):
    """A network that cannot be written as ONNX; the message says why."""


class OnnxImportError(ValueError):
    """An ONNX file that is not an MLP nnviz can rebuild; the message names the file and why."""


def require_onnx() -> ModuleType:
    """The ``onnx`` module with its ``helper`` and ``numpy_helper`` loaded, or a clear error."""
    try:
        import onnx
        import onnx.checker
        import onnx.helper
        import onnx.numpy_helper
    except ImportError as e:
        raise OnnxUnavailableError() from e
    return onnx
