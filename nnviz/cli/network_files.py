"""The sub-commands over saved network files: ``info`` (describe one), ``predict`` (a CSV's
predictions), ``export`` (to ONNX) and ``import`` (an ONNX MLP as a network file).
"""

from __future__ import annotations

import csv
import sys

import numpy as np


def cmd_info(args) -> int:
    from nnviz.io import load_file

    f = load_file(args.file)
    spec = f.spec
    print(f"file:        {args.file}")
    print(f"network:     {spec.describe()}")
    init = spec.init if spec.init_std is None else f"{spec.init}, std {spec.init_std:g}"
    print(f"parameters:  {spec.parameter_count():,} ({spec.dtype}, init {init})")
    for i, ((w, _), act) in enumerate(zip(spec.layer_shapes(), [*(h.activation for h in spec.hidden),
                                                                "output"], strict=True)):
        print(f"  layer {i + 1}: {w[0]} -> {w[1]} {act}")
    tc = f.train_config
    if tc is not None:
        hyper = ", ".join(f"{k}={v:g}" for k, v in tc.optimizer.hyper.items())
        print(f"optimizer:   {tc.optimizer.name} ({hyper}), schedule {tc.schedule.name}")
        print(f"training:    batch {tc.batch_size}, l2 {tc.l2:g}, l1 {tc.l1:g}, dropout {tc.dropout:g}, "
              f"seed {tc.seed}")
    pipe = f.pipeline
    if pipe is not None:
        feats = f", features {', '.join(pipe.features)}" if pipe.features else ""
        print(f"inputs:      preprocessing {pipe.method}{feats}")
    if f.data is not None:
        d = f.data
        kind = f"{d.n_classes} classes" if d.task == "classification" else "regression"
        print(f"data:        {d.name}: {len(d)} examples, {d.n_features} features, {kind}")
    else:
        print("data:        none stored")
    st = f.trainer_state
    if st is not None:
        print(f"state:       step {st['step']}, epoch {st['epoch']}")
    else:
        print("state:       not trained")
    if f.history is not None and f.history.steps.size:
        losses = f.history.steps.column("loss")
        print(f"history:     {f.history.steps.size} steps, last minibatch loss {losses[-1]:.4g}")
    return 0


def cmd_predict(args) -> int:
    from nnviz.core.losses import make_loss
    from nnviz.io import load_features_csv, load_file, write_predictions_csv

    f = load_file(args.file)
    net = f.network()
    pipe = f.pipeline
    raw_dim = 2 if pipe.features else (pipe.mean.shape[0] if pipe.mean is not None else f.spec.input_dim)
    loss = make_loss(f.spec.loss)
    classes = f.class_names if loss.is_classification else None
    if loss.is_classification and not classes:
        classes = tuple(str(c) for c in range(max(f.spec.output_dim, 2)))
    table = load_features_csv(args.data, raw_dim, label=args.label, class_names=classes)
    scores = net.scores(pipe.transform(table.X).astype(net.dtype))
    pred = loss.predict(scores)
    probs = loss.probabilities(scores) if loss.is_classification else None
    if args.out:
        write_predictions_csv(args.out, table.X, pred, probs, feature_names=table.feature_names)
        print(f"wrote {len(pred)} predictions to {args.out}", file=sys.stderr)
    else:
        _print_predictions(table, pred, probs)
    if table.y is not None:
        if loss.is_classification:
            print(f"accuracy {np.mean(pred == table.y):.2%} on {len(pred)} examples", file=sys.stderr)
        else:
            mse = float(np.mean((scores - table.y.reshape(scores.shape)) ** 2))
            print(f"mean squared error {mse:.4g} on {len(pred)} examples", file=sys.stderr)
    return 0


def _print_predictions(table, pred: np.ndarray, probs: np.ndarray | None) -> None:
    """The same columns as the --out file, on standard output."""
    w = csv.writer(sys.stdout)
    pred = pred.reshape(len(pred), -1)
    head = [*table.feature_names]
    head += ["prediction"] if pred.shape[1] == 1 else [f"prediction{i + 1}" for i in range(pred.shape[1])]
    if probs is not None:
        head += [f"p{i}" for i in range(probs.shape[1])]
    w.writerow(head)
    for i in range(len(pred)):
        row = [*table.X[i].tolist(), *pred[i].tolist()]
        if probs is not None:
            row += probs[i].tolist()
        w.writerow([repr(v) if isinstance(v, float) else v for v in row])


def cmd_export(args) -> int:
    from nnviz.io import load_file
    from nnviz.io.onnx_export import export_onnx

    f = load_file(args.file)
    export_onnx(f.spec, f.params, f.pipeline, args.out)
    print(f"wrote {args.out}")
    return 0


def cmd_import(args) -> int:
    from nnviz.io import save_network
    from nnviz.io.onnx_import import import_onnx

    spec, params, pipeline = import_onnx(args.model)
    save_network(spec, params, pipeline, args.out)
    print(f"wrote {args.out}: {spec.describe()}, {spec.parameter_count():,} parameters")
    return 0
