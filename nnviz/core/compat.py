"""Which loss fits which task: the one rule, used by the core (building a spec), the
files (checking a network against its data), the application model and the controls.

Callers phrase the problem for their reader; the rule itself lives only here.
"""

from __future__ import annotations

#: the loss a network gets when its task is all that is known
DEFAULT_LOSS = {"regression": "mse", "classification": "softmax"}

#: the answers of :func:`loss_mismatch`
WRONG_TASK = "task"  # a regression loss on classification data, or the other way round
TOO_MANY_CLASSES = "classes"  # the logistic loss on more than two classes


def loss_fits_task(loss: str, task: str) -> bool:
    """Whether ``loss`` is a loss for ``task`` at all (mse for regression, the others for
    classification), before counting classes."""
    return (loss == "mse") == (task == "regression")


def loss_mismatch(loss: str, task: str, n_classes: int) -> str | None:
    """Why ``loss`` cannot train ``task`` data of ``n_classes`` classes: :data:`WRONG_TASK`,
    :data:`TOO_MANY_CLASSES`, or None when it fits."""
    if not loss_fits_task(loss, task):
        return WRONG_TASK
    if task != "regression" and loss == "logistic" and n_classes > 2:
        return TOO_MANY_CLASSES
    return None


def loss_fits(loss: str, task: str, n_classes: int) -> bool:
    """Whether ``loss`` can train ``task`` data of ``n_classes`` classes."""
    return loss_mismatch(loss, task, n_classes) is None


def default_loss(task: str) -> str:
    """The loss a new network for ``task`` data starts with."""
    return DEFAULT_LOSS["regression" if task == "regression" else "classification"]
