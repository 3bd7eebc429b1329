"""`nnviz bench`: the engine's speed against a minimal NumPy loop (and PyTorch CPU).

Every figure is a ratio against a reference measured in the same run, in interleaved
rounds (best of each), because shared machines are noisy.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from nnviz.core.network import Network
from nnviz.core.optim import OptimizerConfig
from nnviz.core.spec import LayerSpec, NetworkSpec
from nnviz.core.trainer import TrainConfig, Trainer

WORKLOADS = (
    ("2-8-8-2", (2, 8, 8, 2), 10),
    ("2-16-16-16-3", (2, 16, 16, 16, 3), 32),
    ("64-128-64-10", (64, 128, 64, 10), 64),
    ("784-256-128-10", (784, 256, 128, 10), 128),
)
SNAPSHOT_PERIOD_S = 0.033
LR = 0.01


@dataclass
class BenchRow:
    workload: str
    dtype: str
    batch: int
    minimal_steps_per_s: float
    nnviz_steps_per_s: float
    nnviz_snap_steps_per_s: float
    torch_steps_per_s: float | None
    ratio_vs_minimal: float
    ratio_snap_vs_minimal: float
    ratio_vs_torch: float | None


def _data(widths, dtype, n=2048, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, widths[0])).astype(dtype)
    y = rng.integers(0, widths[-1], n)
    return X, y


def _spec(widths, dtype) -> NetworkSpec:
    hidden = tuple(LayerSpec(w, "relu") for w in widths[1:-1])
    return NetworkSpec(widths[0], widths[-1], hidden, loss="softmax", dtype=dtype)


def _rate(step: Callable[[], object], seconds: float) -> float:
    """Steps per second of ``step`` over about ``seconds`` (after a short warm-up)."""
    for _ in range(20):
        step()
    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(50):
            step()
        n += 50
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start)


def minimal_loop(params: list[np.ndarray], X: np.ndarray, y: np.ndarray, batch: int, lr: float):
    """The floor: what a person writes by hand for SGD on a ReLU MLP with softmax loss."""
    rng = np.random.default_rng(0)
    n = len(X)
    Ws, bs = params[0::2], params[1::2]
    state = {"perm": rng.permutation(n), "pos": 0}
    dt = X.dtype.type
    lr = dt(lr)

    def step():
        pos = state["pos"]
        idx = state["perm"][pos : pos + batch]
        pos += batch
        if pos >= n:
            state["perm"] = rng.permutation(n)
            pos = 0
        state["pos"] = pos
        xb, yb = X[idx], y[idx]
        hs = [xb]
        h = xb
        for W, b in zip(Ws[:-1], bs[:-1], strict=True):
            h = np.maximum(h @ W + b, 0)
            hs.append(h)
        s = h @ Ws[-1] + bs[-1]
        s = s - s.max(axis=1, keepdims=True)
        e = np.exp(s)
        tot = e.sum(axis=1, keepdims=True)
        rows = np.arange(len(yb))
        loss = float(np.mean(np.log(tot[:, 0]) - s[rows, yb]))
        d = e / tot
        d[rows, yb] -= 1
        d /= len(yb)
        for i in range(len(Ws) - 1, -1, -1):
            dW = hs[i].T @ d
            db = d.sum(axis=0)
            if i:
                d = (d @ Ws[i].T) * (hs[i] > 0)
            Ws[i] -= lr * dW
            bs[i] -= lr * db
        return loss

    return step


def torch_loop(widths, X, y, batch, lr, dtype):
    import torch

    torch.manual_seed(0)
    tdt = torch.float32 if dtype == "float32" else torch.float64
    layers = []
    for a, b in zip(widths[:-2], widths[1:-1], strict=True):  # noqa: RUF007
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    layers.append(torch.nn.Linear(widths[-2], widths[-1]))
    model = torch.nn.Sequential(*layers).to(tdt)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y)
    n = len(X)
    gen = torch.Generator().manual_seed(0)
    state = {"perm": torch.randperm(n, generator=gen), "pos": 0}
    lossf = torch.nn.functional.cross_entropy

    def step():
        pos = state["pos"]
        idx = state["perm"][pos : pos + batch]
        pos += batch
        if pos >= n:
            state["perm"] = torch.randperm(n, generator=gen)
            pos = 0
        state["pos"] = pos
        loss = lossf(model(Xt[idx]), yt[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    return step


def _nnviz_step(widths, X, y, batch, dtype, snapshots: bool):
    net = Network.initialised(_spec(widths, dtype), 0)
    cfg = TrainConfig(OptimizerConfig("sgd", {"lr": LR}), batch_size=batch, seed=0)
    trainer = Trainer(net, cfg, X, y)
    return with_snapshots(trainer, SNAPSHOT_PERIOD_S) if snapshots else trainer.step


def with_snapshots(trainer: Trainer, period: float) -> Callable[[], object]:
    """``trainer.step`` that takes snapshots as the training loop does for a window asking
    for them every ``period`` seconds (:func:`nnviz.training.cadence.next_snapshot_at`:
    that rate, as long as they take at most a bounded share of the time)."""
    from nnviz.training.cadence import next_snapshot_at

    next_at = time.perf_counter()

    def step():
        nonlocal next_at
        now = time.perf_counter()
        if now >= next_at:
            rec = trainer.step(snapshot=True)
            next_at = next_snapshot_at(next_at, time.perf_counter(), period, trainer.last_snapshot_seconds)
            return rec
        return trainer.step()

    return step


def run_bench(seconds: float = 1.0, rounds: int = 3, with_torch: bool = True) -> list[BenchRow]:
    try:
        import torch

        torch.set_num_threads(max(1, torch.get_num_threads()))
    except ImportError:
        torch = None
    rows = []
    for dtype in ("float64", "float32"):
        for name, widths, batch in WORKLOADS:
            X, y = _data(widths, np.dtype(dtype))
            init = [p.copy() for p in Network.initialised(_spec(widths, dtype), 0).params]
            steppers = {
                "minimal": minimal_loop(init, X, y, batch, LR),
                "nnviz": _nnviz_step(widths, X, y, batch, dtype, False),
                "snap": _nnviz_step(widths, X, y, batch, dtype, True),
            }
            if torch is not None and with_torch:
                steppers["torch"] = torch_loop(widths, X, y, batch, LR, dtype)
            best = dict.fromkeys(steppers, 0.0)
            for _ in range(rounds):  # interleaved, so drift in machine load hits all alike
                for k, stepper in steppers.items():
                    best[k] = max(best[k], _rate(stepper, seconds))
            t = best.get("torch")
            rows.append(
                BenchRow(
                    workload=name, dtype=dtype, batch=batch,
                    minimal_steps_per_s=best["minimal"],
                    nnviz_steps_per_s=best["nnviz"],
                    nnviz_snap_steps_per_s=best["snap"],
                    torch_steps_per_s=t,
                    ratio_vs_minimal=best["nnviz"] / best["minimal"],
                    ratio_snap_vs_minimal=best["snap"] / best["minimal"],
                    ratio_vs_torch=None if not t else best["nnviz"] / t,
                )
            )
    return rows


def format_rows(rows: list[BenchRow]) -> str:
    head = (
        f"{'workload':<16}{'dtype':<9}{'batch':>6}{'minimal/s':>11}{'nnviz/s':>10}"
        f"{'+snap/s':>10}{'torch/s':>10}{'x minimal':>11}{'snap x min':>11}{'x torch':>9}"
    )
    lines = [head]
    for r in rows:
        t = f"{r.torch_steps_per_s:>10.0f}" if r.torch_steps_per_s else f"{'-':>10}"
        rt = f"{r.ratio_vs_torch:>9.2f}" if r.ratio_vs_torch else f"{'-':>9}"
        lines.append(
            f"{r.workload:<16}{r.dtype:<9}{r.batch:>6}{r.minimal_steps_per_s:>11.0f}"
            f"{r.nnviz_steps_per_s:>10.0f}{r.nnviz_snap_steps_per_s:>10.0f}{t}"
            f"{r.ratio_vs_minimal:>11.2f}{r.ratio_snap_vs_minimal:>11.2f}{rt}"
        )
    return "\n".join(lines)


def main(as_json: bool = False, quick: bool = False) -> int:
    rows = run_bench(seconds=0.3 if quick else 0.8, rounds=2 if quick else 5)
    if as_json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
    else:
        print("SGD, ReLU MLP, softmax loss; steps/s best of interleaved rounds; "
              "'+snap' takes a snapshot every 33 ms")
        print(format_rows(rows))
    return 0
