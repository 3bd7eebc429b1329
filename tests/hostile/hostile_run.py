"""Running one hostile-input case: its own process, an address-space limit, a timeout, and
a record of what happened (exit code, first stderr line, wall time, peak RSS).

Also a command that runs every case and prints the report (``make hostile``):

    python tests/hostile/hostile_run.py [--quick] [--jobs N] [--json FILE] [--only TEXT]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
#: the address-space limit each case runs under (``ulimit -v``): a blow-up becomes a
#: MemoryError the program must answer, not the machine's swap
ADDRESS_LIMIT = 6 * 1024**3
#: a case still running after this is killed (and recorded as hung)
KILL_AFTER_S = 90.0
#: the goals: every case within these (for inputs under SMALL_INPUT bytes for memory)
MAX_SECONDS = 30.0
MAX_RSS = 2 * 1024**3
SMALL_INPUT = 2 * 1024**2
#: environment of every case: one BLAS thread (each thread reserves address space),
#: no display, never the user's settings
CASE_ENV = {
    "QT_QPA_PLATFORM": "offscreen",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NNVIZ_TRAINING": "thread",  # the window's trainer in the measured process
    "PYTHONDONTWRITEBYTECODE": "1",
}


@dataclass
class Result:
    """What one case did."""

    case: str
    group: str
    exit_code: int  # negative: killed by that signal
    first_line: str  # first non-empty stderr line
    stderr_lines: int
    wall_s: float
    peak_rss: int  # bytes
    input_bytes: int
    timed_out: bool = False
    problem: str | None = None  # why the case is not clean (None: clean)

    @property
    def clean(self) -> bool:
        return self.problem is None


def run_process(
    argv: list[str], cwd: Path, kill_after: float = KILL_AFTER_S
) -> tuple[int, str, float, int, bool]:
    """(exit code, stderr, wall seconds, peak RSS bytes, timed out) of ``argv`` run in ``cwd``
    through the launcher (which applies the address-space limit and measures the peak)."""
    env = {**os.environ, **CASE_ENV}
    with tempfile.TemporaryDirectory(prefix="nnviz-case-") as tmp, tempfile.TemporaryFile() as err:
        result = Path(tmp) / "result.json"
        launcher = [sys.executable, str(HERE / "launch.py"), str(result), str(ADDRESS_LIMIT), "--", *argv]
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            launcher,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
        timed_out = False
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        wall = time.perf_counter() - t0
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # nothing of the case outlives it
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
        if result.is_file():
            done = json.loads(result.read_text())
            code, rss = int(done["code"]), int(done["maxrss"])
        else:
            code, rss = (-signal.SIGKILL if timed_out else proc.returncode), 0
    return code, text, wall, rss, timed_out


def judge(case, code: int, stderr: str, wall: float, rss: int, timed_out: bool, folder: Path) -> str | None:
    """Why this outcome is not a clean answer, or None when it is."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    if timed_out:
        return f"still running after {wall:.0f} s"
    if code < 0:
        return f"killed by signal {-code}"
    if "Traceback (most recent call last)" in stderr:
        return "printed a traceback"
    if code not in (0, 1, 2):
        return f"exit status {code}"
    if code != 0 and len(lines) != 1:
        return f"exit {code} with {len(lines)} lines on stderr, not one"
    if code == 1 and "diverged" not in stderr:
        return "exit 1 without saying it diverged"
    if case.expect == "refuse" and code != 2:
        return f"exit {code}, but this input must be refused (exit 2)"
    if case.expect == "ok" and code != 0:
        return f"exit {code}, but this input is valid"
    if wall > MAX_SECONDS:
        return f"took {wall:.1f} s (goal: at most {MAX_SECONDS:.0f} s)"
    if case.input_bytes(folder) < SMALL_INPUT and rss > MAX_RSS:
        return f"peak RSS {rss / 2**20:.0f} MiB for an input under 2 MB"
    leftovers = [p.name for p in folder.rglob(".*.tmp*")]
    if leftovers:
        return f"left temporary files: {', '.join(leftovers[:3])}"
    if case.check is not None:
        return case.check(folder, code)
    return None


def run_case(case, base_dir: Path, work: Path) -> Result:
    """Make the case's inputs in a folder of its own under ``work``, run it, judge it."""
    folder = work / case.name
    folder.mkdir(parents=True, exist_ok=True)
    try:
        argv = case.make(folder, base_dir)
    except Exception as exc:  # a broken recipe is the harness's fault: say so, never hide it
        return Result(
            case.name,
            case.group,
            -999,
            f"the case could not be made: {exc!r}"[:300],
            1,
            0.0,
            0,
            0,
            problem="the case could not be made",
        )
    code, stderr, wall, rss, timed_out = run_process(case.command(argv), folder)
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    problem = judge(case, code, stderr, wall, rss, timed_out, folder)
    return Result(
        case.name,
        case.group,
        code,
        lines[0][:300] if lines else "",
        len(lines),
        round(wall, 3),
        rss,
        case.input_bytes(folder),
        timed_out,
        problem,
    )


def report(results: list[Result]) -> str:
    """Counts per group, the unclean cases, the slowest and the largest."""
    out = []
    tried, clean = Counter(), Counter()
    for r in results:
        tried[r.group] += 1
        clean[r.group] += r.clean
    out.append(f"{'group':10} {'tried':>6} {'clean':>6}")
    for g in sorted(tried):
        out.append(f"{g:10} {tried[g]:6} {clean[g]:6}")
    out.append(f"{'all':10} {sum(tried.values()):6} {sum(clean.values()):6}")
    codes = defaultdict(int)
    for r in results:
        codes[r.exit_code] += 1
    out.append("exit codes: " + ", ".join(f"{c}: {n}" for c, n in sorted(codes.items())))
    for r in sorted(results, key=lambda r: -r.wall_s)[:5]:
        out.append(
            f"slowest: {r.case} {r.wall_s:.2f} s, {r.peak_rss / 2**20:.0f} MiB, exit {r.exit_code}: "
            f"{r.first_line[:120]}"
        )
    for r in sorted(results, key=lambda r: -r.peak_rss)[:5]:
        out.append(
            f"largest: {r.case} {r.peak_rss / 2**20:.0f} MiB, {r.wall_s:.2f} s, exit {r.exit_code}: "
            f"{r.first_line[:120]}"
        )
    for r in results:
        if not r.clean:
            out.append(f"NOT CLEAN: {r.case}: {r.problem} | exit {r.exit_code}: {r.first_line[:200]}")
    return "\n".join(out)


def run_all(cases, jobs: int, work: Path) -> list[Result]:
    from hostile_cases import make_bases

    base_dir = work / "_bases"
    make_bases(base_dir)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda c: run_case(c, base_dir, work), cases))


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(HERE))
    from hostile_cases import all_cases

    p = argparse.ArgumentParser(description="Run the hostile-input cases and report.")
    p.add_argument("--quick", action="store_true", help="only the quick subset (as make test runs)")
    p.add_argument("--jobs", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    p.add_argument("--json", help="write every case's record here")
    p.add_argument("--only", help="only cases whose name contains this")
    args = p.parse_args(argv)
    cases = [c for c in all_cases() if (c.quick or not args.quick) and (not args.only or args.only in c.name)]
    with tempfile.TemporaryDirectory(prefix="nnviz-hostile-") as tmp:
        t0 = time.perf_counter()
        results = run_all(cases, args.jobs, Path(tmp))
        print(report(results))
        print(f"{len(results)} cases in {time.perf_counter() - t0:.0f} s with {args.jobs} jobs")
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in results], indent=1))
    return 0 if all(r.clean for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
