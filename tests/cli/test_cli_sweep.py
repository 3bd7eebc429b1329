"""nnviz sweep: seeds x varied settings in a pool of processes, the same runs as nnviz train;
hostile arguments refused in one line before any process starts; Ctrl+C leaves nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from multiprocessing import Pipe
from pathlib import Path

import pytest

from nnviz.cli import main
from nnviz.cli import sweep as sweep_module
from nnviz.cli.sweep import MAX_SWEEP_RUNS, parse_seeds, parse_vary, settable
from nnviz.training.process import recv_message, send_message, usable_cpus

ROOT = Path(__file__).resolve().parents[2]
QUICK = ["sweep", "--data", "xor", "--examples", "40", "--steps", "5"]


def _sweep_json(capsys, *argv: str) -> list[dict]:
    assert main([*QUICK, "--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def _one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1, captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    return err[0]


# --- reading the arguments -------------------------------------------------------------------
@pytest.mark.parametrize(("text", "seeds"), [
    ("1-10", tuple(range(1, 11))), ("1,3,5", (1, 3, 5)), ("1-3,7", (1, 2, 3, 7)), ("0", (0,)),
    (" 4 , 2 ", (4, 2)), ("5-5", (5,)), (f"1-{MAX_SWEEP_RUNS}", tuple(range(1, MAX_SWEEP_RUNS + 1))),
])
def test_seeds_take_ranges_and_lists(text, seeds):
    assert parse_seeds(text) == seeds


def test_vary_reads_values_as_the_options_do():
    assert parse_vary("lr=0.01,0.1").values == (0.01, 0.1)
    assert parse_vary("layers=4,8-8,none").values == ([4], [8, 8], [])
    assert parse_vary("batch-size=1,32").dest == "batch_size"
    assert parse_vary("residual=false,true").values == (False, True)
    assert parse_vary("activation=relu,tanh").shown == ("relu", "tanh")
    assert "seed" not in settable() and {"lr", "layers", "data", "l2"} <= set(settable())


# --- running ---------------------------------------------------------------------------------
def test_a_sweep_run_ends_exactly_where_nnviz_train_does(capsys, tmp_path):
    # the same settings and seed: identical final losses (same machine, 200 steps on spiral)
    args = ["--data", "spiral", "--steps", "200", "--lr", "0.03", "--layers", "8,8"]
    assert main(["sweep", *args, "--seeds", "3", "--jobs", "1", "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)
    out = tmp_path / "trained.nnviz"
    assert main(["train", *args, "--seed", "3", "--quiet", "--out", str(out)]) == 0
    capsys.readouterr()
    from nnviz.io import load_file

    ev = load_file(out).to_session(None).trainer.evaluate()
    assert run["steps"] == 200 and run["seed"] == 3
    assert run["train_loss"] == ev["train_loss"] and run["test_loss"] == ev["test_loss"]
    assert run["train_acc"] == ev["train_accuracy"] and run["test_acc"] == ev["test_accuracy"]


def test_the_runs_are_seeds_times_values_in_a_bounded_pool(capsys, monkeypatch):
    started: list[int] = []
    real = sweep_module.Pool._add_worker

    def counting(self):
        worker = real(self)
        started.append(len(self._workers))
        return worker

    monkeypatch.setattr(sweep_module.Pool, "_add_worker", counting)
    runs = _sweep_json(capsys, "--seeds", "1-3", "--vary", "lr=0.01,0.1", "--vary", "layers=4,none",
                       "--jobs", "1")
    assert started == [1]  # 12 runs, one process: never more than --jobs at once
    assert len(runs) == 12
    assert {(r["seed"], r["settings"]["lr"], tuple(r["settings"]["layers"])) for r in runs} == {
        (s, lr, layers) for s in (1, 2, 3) for lr in (0.01, 0.1) for layers in ((4,), ())}
    for r in runs:
        assert set(r) >= {"seed", "settings", "train_loss", "test_loss", "train_acc", "test_acc", "steps",
                          "steps_per_s"}
        assert r["steps"] == 5 and r["steps_per_s"] > 0 and 0 <= r["test_acc"] <= 1
    # the seeds change the runs; the same seed and settings twice would not
    assert len({r["train_loss"] for r in runs}) > 1


def test_the_table_has_a_row_per_run_and_each_combinations_spread(capsys):
    assert main([*QUICK, "--seeds", "1,2", "--vary", "activation=relu,tanh"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split()[:2] == ["seed", "activation"] and "test loss" in lines[0]
    assert [line.split()[:2] for line in lines[1:5]] == [["1", "relu"], ["2", "relu"], ["1", "tanh"],
                                                          ["2", "tanh"]]
    assert lines[6].startswith("activation=relu: test loss mean ") and lines[6].endswith("over 2 seeds")
    assert lines[-1].startswith("(4 runs in ")


def test_epochs_count_whole_passes_as_train_does(capsys):
    assert main(["sweep", "--data", "xor", "--examples", "40", "--epochs", "2", "--seeds", "1",
                 "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert run["steps"] == 2 * 4  # 32 training examples (80% of 40), batches of 10: 4 a pass


def test_a_run_that_cannot_train_is_an_error_of_that_run():
    # the worker's side, in a thread: a failing run answers "error" and the worker goes on
    mine, theirs = Pipe(duplex=True)
    worker = threading.Thread(target=_worker_without_signals, args=(theirs,), daemon=True)
    worker.start()
    import argparse

    bad = argparse.Namespace(network=None, data="no_such_data", log=None)
    send_message(mine, ("run", 7, bad))
    kind, index, message = recv_message(mine)
    assert (kind, index) == ("error", 7) and "no_such_data" in message
    send_message(mine, ("stop",))
    worker.join(10)
    assert not worker.is_alive()


def _worker_without_signals(conn):
    real = signal.signal
    try:
        signal.signal = lambda *a: None  # only the main thread may set a handler
        sweep_module.worker_main(conn)
    finally:
        signal.signal = real


# --- hostile arguments -------------------------------------------------------------------------
@pytest.mark.parametrize(("argv", "says"), [
    (["--seeds", "10-1"], "the range 10-1 runs downwards; write 1-10"),
    (["--seeds", "a"], "'a' is not a seed or a range of seeds"),
    (["--seeds", "1,,2"], "'' is not a seed"),
    (["--seeds", "-3"], "'-3' is not a seed"),
    (["--seeds", "1-2-3"], "'1-2-3' is not a seed"),
    (["--seeds", "1.5"], "'1.5' is not a seed"),
    (["--seeds", "1,2,1"], "the seed 1 is given twice"),
    (["--seeds", "1-1000000000000"], "more than 1,000 seeds"),
    (["--seeds", "99999999999999999999999"], "past the largest seed"),
    (["--seeds", "1-100", "--vary", "lr=0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1,2"],
     "100 seeds x 11 combinations make 1,100 runs; a sweep makes at most 1,000"),
    (["--seeds", "1", "--vary", "colour=red,blue"], "'colour' is not a setting to vary; the settable ones: "),
    (["--seeds", "1", "--vary", "seed=1,2"], "(the seeds are --seeds)"),
    (["--seeds", "1", "--vary", "lr"], "--vary takes SETTING=V1,V2,..., not 'lr'"),
    (["--seeds", "1", "--vary", "lr="], "--vary lr: give its values separated by commas"),
    (["--seeds", "1", "--vary", "lr=0.1,,0.2"], "--vary lr: give its values separated by commas"),
    (["--seeds", "1", "--vary", "lr=fast"], "--vary lr: 'fast' is not a number"),
    (["--seeds", "1", "--vary", "lr=nan"], "--vary lr: 'nan' is not a finite number"),
    (["--seeds", "1", "--vary", "lr=-1"], "lr=-1: --lr must be > 0"),
    (["--seeds", "1", "--vary", "lr=0.1,0.1"], "the value '0.1' is given twice"),
    (["--seeds", "1", "--vary", "activation=relu,swish"], "'swish' is not one of "),
    (["--seeds", "1", "--vary", "residual=maybe"], "'maybe' is not true or false"),
    (["--seeds", "1", "--vary", "batch_size=0"], "--vary batch_size: '0' must be >= 1"),
    (["--seeds", "1", "--vary", "layers=8-x"], "--layers takes widths like 8,8"),
    (["--seeds", "1", "--vary", "lr=0.1", "--vary", "lr=0.2"], "--vary lr is given twice"),
    (["--seeds", "1", "--lr", "0.1", "--vary", "lr=0.2,0.3"], "--lr is given and varied; give one of them"),
    (["--seeds", "1", "--vary", "loss=softmax,mse"], "loss=mse: "),
    (["--seeds", "1", "--jobs", "0"], "--jobs: '0' must be >= 1"),
    (["--seeds", "1", "--jobs", str(usable_cpus() + 1)], f"give 1..{usable_cpus()}"),
    (["--seeds", "1", "--steps", str(2**60)], "past 9,007,199,254,740,992"),
    (["--seeds", "1", "--steps", "5", "--epochs", "2"], "not allowed with argument"),
    (["--seeds", "1", "--vary", "data=xor,spiral"], "--data is given and varied; give one of them"),
])
def test_hostile_arguments_are_one_line_and_start_nothing(capsys, monkeypatch, argv, says):
    monkeypatch.setattr(sweep_module.Pool, "_add_worker", lambda self: pytest.fail("a process started"))
    assert main(["sweep", "--data", "xor", "--examples", "40", *argv]) == 2
    assert says in _one_error_line(capsys)


def test_a_combination_that_cannot_train_is_named(capsys, monkeypatch):
    monkeypatch.setattr(sweep_module.Pool, "_add_worker", lambda self: pytest.fail("a process started"))
    assert main(["sweep", "--seeds", "1", "--vary", "data=xor,no_such_data"]) == 2
    assert "data=no_such_data: --data 'no_such_data' is neither a built-in" in _one_error_line(capsys)
    assert main(["sweep", "--seeds", "1", "--vary", "data=xor,spiral", "--vary", "arms=2,3"]) == 2
    assert "data=xor, arms=2: --arms applies to the spiral data set only" in _one_error_line(capsys)


def test_seeds_are_required_and_data_too(capsys):
    assert main(["sweep", "--data", "xor"]) == 2
    assert "--seeds" in _one_error_line(capsys)
    assert main(["sweep", "--seeds", "1"]) == 2
    assert "give --data" in _one_error_line(capsys)


# --- Ctrl+C ------------------------------------------------------------------------------------
def _session_processes(sid: int) -> list[int]:
    """The processes of session ``sid`` (Linux /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            out.append(int(entry.name))
    return out


def _workers_of(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(c) for c in children
            if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text(errors="replace")]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads processes from Linux /proc")
def test_ctrl_c_stops_the_sweep_and_leaves_no_process():
    jobs = min(2, usable_cpus())
    proc = subprocess.Popen(
        [sys.executable, "-m", "nnviz", "sweep", "--data", "xor", "--seeds", "1-6", "--jobs", str(jobs),
         "--steps", "100000000"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while len(_workers_of(proc.pid)) < jobs and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert len(_workers_of(proc.pid)) == jobs, "the workers did not start"
        time.sleep(1.0)  # the workers are training
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl+C does: the whole group
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    deadline = time.monotonic() + 20
    while _session_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _session_processes(proc.pid) == []
