"""When the training loop takes its next snapshot: about 32 a second, at a fixed rate
(a window that keeps up gets the full rate; after a late acknowledgement the next one
comes sooner, but never less than half an interval later), and never so often that
snapshots take more than :data:`MAX_SNAPSHOT_SHARE` of the loop's time.

The bound is what keeps training fast on a busy machine: a snapshot of MNIST's shape in
float64 costs about 3.7 ms of a quiet core and twice that in wall time when another
process shares it, so 30 a second would take 11% of a quiet machine's time but 22% of a
busy one's. Bounded, a busy machine gets fewer snapshots instead (a window there cannot
draw 30 frames a second anyway), and training keeps at least 85% of its speed.

The bound is a trade: the window is itself the other process on a 2-core machine, and
each snapshot then costs more wall time. Measured with ``nnviz bench --gui`` (digits
64-256-128-10) and ``benchmarks/bench_engine.py --busy`` (784-256-128-10): a share of
0.12 gave 19 frames a second and 0.86-0.87x the minimal loop on a busy core; 0.15, 22
frames and 0.79-0.87x; 0.2, 24 frames and 0.78-0.79x; no bound, 26 frames and 0.57x in
float64.
"""

from __future__ import annotations

#: the most often a snapshot is made (seconds); the window draws each one whole. About 30
#: a second, with a little headroom so that a late frame now and then does not pull the
#: rate the window shows below 30
SNAPSHOT_INTERVAL = 1 / 32
#: the largest share of the loop's wall time that snapshots may take
MAX_SNAPSHOT_SHARE = 0.15


def next_snapshot_at(due: float, now: float, interval: float, cost: float,
                     max_share: float = MAX_SNAPSHOT_SHARE) -> float:
    """When the snapshot after one that was ``due`` and ended at ``now`` is due, given
    that it took ``cost`` seconds: a gap of at least ``cost * (1 - s) / s`` keeps the
    snapshots' share of the time at most ``s``."""
    fixed_rate = max(due + interval, now + interval / 2)
    return max(fixed_rate, now + cost * (1 - max_share) / max_share)
