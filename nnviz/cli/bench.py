"""``nnviz bench``: time the engine, or with ``--gui`` the window."""

from __future__ import annotations


def cmd_bench(args) -> int:
    if args.gui:
        from nnviz.gui.harness.bench import run_gui_bench

        return run_gui_bench(args.json, seconds=5.0 if args.quick else 15.0)
    from nnviz.benchmark import main as bench_main
    from nnviz.blas import limit_blas_threads

    # every loop on one BLAS thread, as the window's training process runs (nnviz.blas):
    # a second thread waiting for a core that another process holds made each of the
    # snapshot's small products, and so the figures with snapshots, depend on the load
    limit_blas_threads(1)
    return bench_main(as_json=args.json, quick=args.quick)
