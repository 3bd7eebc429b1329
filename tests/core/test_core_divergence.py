"""Divergence: any non-finite trainer state stops the run, rolls back, and stays saveable;
the history keeps only the steps that stand."""

import numpy as np
import pytest

from nnviz.cli import main
from nnviz.core.data import Dataset
from nnviz.core.history import History
from nnviz.core.optim import OptimizerConfig, Schedule
from nnviz.core.session import DataConfig, Session, build_spec
from nnviz.core.trainer import CHECKPOINT_EVERY, DivergedError, TrainConfig
from nnviz.io import load_file, save_session

pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")


def _huge_session(scale: float = 1e25, optimizer: str = "adam") -> Session:
    """Features whose float32 gradients square past float32's range: Adam's second moment
    overflows while the loss (about the size of the features) stays finite."""
    rng = np.random.default_rng(0)
    X = rng.choice([-1.0, 1.0], (200, 2)) * rng.uniform(0.5, 1, (200, 2)) * scale
    data = Dataset(X, (X[:, 0] > 0).astype(int))
    dc = DataConfig(test_fraction=0.0)
    spec = build_spec(data, dc, layers=[4], dtype="float32")
    tc = TrainConfig(OptimizerConfig(optimizer, {"lr": 0.01}), Schedule(), batch_size=10)
    return Session(data, dc, spec, tc)


def _state_finite(trainer) -> bool:
    st = trainer.get_state()
    arrays = [*st["params"], *(a for v in st["optimizer"].values() for a in v)]
    return all(np.isfinite(a).all() for a in arrays)


def test_adam_second_moment_overflow_is_a_divergence(tmp_path):
    s = _huge_session()
    t = s.trainer
    losses = []
    with pytest.raises(DivergedError) as info:
        for _ in range(10 * CHECKPOINT_EVERY):
            losses.append(t.step().loss)
    assert all(np.isfinite(losses))  # the loss never showed it
    e = info.value
    assert e.step == CHECKPOINT_EVERY and "optimiser" in e.cause
    assert e.restored_step == t.step_count == 0
    assert _state_finite(t)
    out = tmp_path / "back.nnviz"
    save_session(s, out)  # the rolled-back state is saveable
    assert load_file(out).trainer_state["step"] == 0


def test_ensure_finite_catches_a_state_between_checkpoints():
    s = _huge_session()
    t = s.trainer
    for _ in range(5):
        t.step()
    assert not _state_finite(t)
    with pytest.raises(DivergedError) as info:
        t.ensure_finite()
    assert info.value.step == 5 and _state_finite(t)
    with pytest.raises(DivergedError):
        t.step()  # stays stopped until cleared
    t.clear_divergence()


def test_a_healthy_run_is_never_called_diverged():
    s = _huge_session(scale=1.0)
    s.trainer.run(3 * CHECKPOINT_EVERY + 1)
    s.trainer.ensure_finite()
    assert s.trainer.diverged_at is None


def test_history_truncate_keeps_rows_up_to_the_step():
    h = History()
    for k in range(1, 51):
        h.add_step(k, 0, 1.0 / k, None)
        if k % 10 == 0:
            h.add_eval(k, 1.0, None, 1.0, None)
    h.truncate(32)
    assert h.steps.size == 32 and h.steps.column("step")[-1] == 32
    assert list(h.evals.column("step")) == [10, 20, 30]
    h.add_step(33, 0, 0.5, None)  # appending continues after the kept rows
    assert h.steps.size == 33 and np.isnan(h.steps.array()[33:]).all()
    h.truncate(0)
    assert h.steps.size == 0 and h.evals.size == 0


DIVERGING = ["train", "--data", "plane", "--layers", "16,16", "--activation", "identity",
             "--optimizer", "sgd", "--lr", "50", "--quiet"]


def test_after_a_divergence_history_and_summary_count_the_steps_that_stand(tmp_path, capsys):
    out = tmp_path / "div.nnviz"
    assert main([*DIVERGING, "--steps", "500", "--out", str(out)]) == 1
    captured = capsys.readouterr()
    f = load_file(out)
    kept = f.trainer_state["step"]
    assert kept < 500
    assert captured.out.startswith(f"{kept} steps ")
    assert f"last finite state (step {kept})" in captured.err
    steps = f.history.steps.column("step")
    assert len(steps) == kept and (kept == 0 or steps[-1] == kept)
    # a resume continues after the restored step, never repeating one
    resumed = tmp_path / "resumed.nnviz"
    main(["train", str(out), "--steps", "3", "--lr", "0.0001", "--quiet", "--out", str(resumed)])
    steps = load_file(resumed).history.steps.column("step")
    assert np.all(np.diff(steps) == 1) and len(steps) == kept + 3


def test_cli_reports_the_optimiser_state_and_saves(tmp_path, capsys):
    rng = np.random.default_rng(1)
    X = rng.choice([-1.0, 1.0], (100, 2)) * 1e25  # float32 gradients squared overflow
    csv_path = tmp_path / "big.csv"
    csv_path.write_text("a,b,label\n" + "".join(f"{a!r},{b!r},{int(a > 0)}\n" for a, b in X.tolist()))
    out = tmp_path / "big.nnviz"
    rc = main(["train", "--data", str(csv_path), "--dtype", "float32", "--steps", "20", "--quiet",
               "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and "\n" not in err
    assert "diverged at step 20" in err and "optimiser's state" in err and "was saved" in err
    assert load_file(out).trainer_state["step"] == 0
