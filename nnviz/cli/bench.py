"""``nnviz bench``: time the engine, or with ``--gui`` the window."""

from __future__ import annotations


def cmd_bench(args) -> int:
    if args.gui:
        from nnviz.gui.harness.bench import run_gui_bench

        return run_gui_bench(args.json, seconds=5.0 if args.quick else 15.0)
    from nnviz.benchmark import main as bench_main

    return bench_main(as_json=args.json, quick=args.quick)
