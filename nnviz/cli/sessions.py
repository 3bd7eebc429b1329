"""``nnviz train``'s session: a new one from ``--data`` and the setting options, or one
continued from a saved network, whose architecture, data split and seed the options may
not change (they may change the optimiser and the training settings).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from nnviz.cli.parser import CliError


def _load_data(args) -> Any:
    from nnviz.app.settings_schema import setting
    from nnviz.io.schema import SchemaError
    from nnviz.io.sources import OFFERED, SOURCES, check_source, regenerate

    name = args.data
    if name in OFFERED:  # a built-in data set, or the handwritten digits of the shipped example
        src = SOURCES[name]
        recipe: dict[str, Any] = {
            "generator": name,
            "n": args.examples if args.examples is not None else src.default_n,
            "seed": args.seed if args.seed is not None else setting("seed").default,
        }
        if "noise" in src.params:
            recipe["noise"] = args.noise if args.noise is not None else src.default_noise
        elif args.noise is not None:
            raise CliError(f"--noise applies to the generated data sets, not to {name} (real images)")
        if args.arms is not None:
            if "arms" not in src.params:
                raise CliError("--arms applies to the spiral data set only")
            recipe["arms"] = args.arms
        try:
            recipe = check_source(recipe, "--data")
        except SchemaError as exc:
            raise CliError(str(exc).replace("--data.n", "--examples")) from None
        return regenerate(recipe)
    from nnviz.io.images import PUBLISHED

    if _names_images(name):
        return _load_images(name, args)
    if not Path(name).exists():
        raise CliError(
            f"--data {name!r} is neither a built-in data set ({', '.join((*OFFERED, *PUBLISHED))}) "
            f"nor a file or folder"
        )
    from nnviz.io import load_csv

    return load_csv(name, label=args.label)


def _names_images(name: str) -> bool:
    """Whether ``--data`` names image data: a published set, or a path the image loader reads."""
    from nnviz.io.images import PUBLISHED, is_image_source
    from nnviz.io.sources import OFFERED

    return name not in OFFERED and (name in PUBLISHED or (Path(name).exists() and is_image_source(name)))


def _load_images(name: str, args) -> Any:
    """An image set (published: downloaded into the cache on first use, a bar on stderr) or
    image files; the loader's notes (a sample drawn, files skipped) go to stderr."""
    from nnviz.app.settings_schema import setting
    from nnviz.io.images import load_images

    shown = {"pct": -1}

    def progress(done: int, total: int) -> None:
        if not total:
            return
        pct = min(done * 100 // total, 100)
        if pct != shown["pct"]:
            shown["pct"] = pct
            bar = "#" * (pct // 4)
            print(f"\rdownloading {name}: [{bar:<25}] {pct:3d}%", end="", file=sys.stderr, flush=True)

    seed = args.seed if args.seed is not None else setting("seed").default
    try:
        images = load_images(name, max_examples=args.examples, seed=seed, download=True, progress=progress)
    finally:
        if shown["pct"] >= 0:
            print(file=sys.stderr)
    for note in images.notes:
        print(f"nnviz: {note}", file=sys.stderr)
    return images.dataset


def _say_image_defaults(args, data, layers, preprocess: str, dtype: str, optimizer) -> None:
    """One line on stderr naming the defaults image data brought, and the options that
    change them (only those the user left out)."""
    from nnviz.app.image_defaults import (
        IMAGE_DTYPE,
        IMAGE_LAYERS,
        IMAGE_PREPROCESS,
        IMAGE_PREPROCESS_WORDS,
        image_lr,
        widths_words,
    )

    chosen, options = [], []
    if args.preprocess is None and preprocess == IMAGE_PREPROCESS:
        chosen.append(IMAGE_PREPROCESS_WORDS)
        options.append("--preprocess")
    if args.layers is None and tuple(layers) == IMAGE_LAYERS:
        chosen.append(widths_words(data.n_features, layers, data.n_classes))
        options.append("--layers")
    if args.dtype is None and dtype == IMAGE_DTYPE:
        chosen.append(f"in {IMAGE_DTYPE}, the images' precision")
        options.append("--dtype")
    if args.lr is None and image_lr(optimizer.name) is not None:
        chosen.append(f"{optimizer.name} at lr {optimizer.lr:g}")
        options.append("--lr")
    if chosen:
        print(f"nnviz: image data: {', '.join(chosen)} (sensible defaults for images; "
              f"{', '.join(options)} change{'s' if len(options) == 1 else ''} them)", file=sys.stderr)


def _optimizer_config(args, base=None, images: bool = False):
    from nnviz.app.image_defaults import image_lr
    from nnviz.core.optim import OptimizerConfig

    name = args.optimizer or (base.name if base else "adam")
    hyper: dict[str, float] = {}
    if base is not None and base.name == name:
        hyper.update(base.hyper)
    if args.lr is not None:
        if args.lr <= 0:
            raise CliError("--lr must be > 0")
        hyper["lr"] = args.lr
    elif images and image_lr(name) is not None:
        hyper["lr"] = image_lr(name)
    elif base is None or base.name != name:
        hyper["lr"] = {"adam": 0.01, "adamw": 0.01, "rmsprop": 0.01}.get(name, 0.1)
    if args.momentum is not None:
        if name not in ("sgd", "momentum", "nesterov", "rmsprop"):
            raise CliError(f"--momentum does not apply to {name}")
        hyper["momentum"] = args.momentum
    return OptimizerConfig(name, hyper)


def _train_config(args, base=None, images: bool = False):
    from nnviz.app.settings_schema import setting
    from nnviz.core.optim import Schedule
    from nnviz.core.trainer import TrainConfig

    def pick(name, default):
        v = getattr(args, name)
        if v is not None:
            return v
        return getattr(base, name) if base is not None else default

    schedule = base.schedule if base is not None else Schedule()
    if args.schedule is not None:
        schedule = Schedule(args.schedule)
    return TrainConfig(
        optimizer=_optimizer_config(args, base.optimizer if base else None, images),
        schedule=schedule,
        batch_size=pick("batch_size", setting("batch_size").default),
        l2=pick("l2", setting("l2").default),
        l1=pick("l1", setting("l1").default),
        dropout=pick("dropout", setting("dropout").default),
        seed=pick("seed", setting("seed").default),
    )


def session_from_args(args):
    from nnviz.app.settings_schema import setting
    from nnviz.core.session import DataConfig, Session, build_spec

    if args.network:
        return _continue_session(args)
    if not args.data:
        raise CliError("give --data (a built-in data set or a CSV file), or a saved network")
    from nnviz.app.image_defaults import IMAGE_DTYPE, IMAGE_LAYERS, IMAGE_PREPROCESS

    images = _names_images(args.data)
    data = _load_data(args)
    init = args.init or setting("init").default
    init_std = _init_std(args, init)
    preprocess = args.preprocess or (IMAGE_PREPROCESS if images else setting("preprocess").default)
    dc = DataConfig(
        test_fraction=(args.test_fraction if args.test_fraction is not None
                       else setting("test_fraction").default),
        preprocess=preprocess,
    )
    layers = (args.layers if args.layers is not None
              else list(IMAGE_LAYERS if images else setting("layers").default))
    dtype = args.dtype or (IMAGE_DTYPE if images else _data_dtype(data)) or setting("dtype").default
    spec = build_spec(
        data, dc,
        layers=layers,
        activation=args.activation or setting("activations").default[0],
        loss=args.loss,
        init=init,
        residual=bool(args.residual),
        dtype=dtype,
        init_std=init_std,
    )
    train = _train_config(args, images=images)
    if images:
        _say_image_defaults(args, data, layers, preprocess, dtype, train.optimizer)
    return Session(data, dc, spec, train, track_layers=bool(args.log))


def _data_dtype(data) -> str | None:
    """float32 for data held in float32 (image sets): a float64 network would copy it
    into twice the memory and train at about half the speed."""
    return "float32" if data.X.dtype.name == "float32" else None


def _init_std(args, init: str) -> float | None:
    """``--init-std``, checked: it applies to ``--init normal`` only, and must be a finite
    number in the core's range (None when it does not apply)."""
    from nnviz.app.settings_schema import setting
    from nnviz.core.init import SCALED_INIT, check_init_std

    if init != SCALED_INIT:
        if args.init_std is not None:
            raise CliError(f"--init-std applies to --init {SCALED_INIT} only, not {init}")
        return None
    if args.init_std is None:
        return setting("init_std").default
    try:
        return check_init_std(args.init_std, "--init-std")
    except ValueError as exc:
        raise CliError(str(exc)) from None


#: options fixed by a saved network: its architecture and its data split
_FIXED = ("layers", "activation", "loss", "init", "init_std", "residual", "dtype", "preprocess",
          "test_fraction")


def _saved_settings(loaded) -> dict[str, Any]:
    """The values a saved network has for the :data:`_FIXED` options (an option given
    the same value again changes nothing)."""
    spec = loaded.spec
    acts = {h.activation for h in spec.hidden}
    return {
        "layers": [h.units for h in spec.hidden],
        "activation": acts.pop() if len(acts) == 1 else None,
        "loss": spec.loss, "init": spec.init, "init_std": spec.init_std, "residual": spec.residual,
        "dtype": spec.dtype, "preprocess": loaded.data_config.preprocess,
        "test_fraction": loaded.data_config.test_fraction,
    }


def _continue_session(args):
    from nnviz.io import load_file

    loaded = load_file(args.network)
    saved = _saved_settings(loaded)
    for o in _FIXED:
        given = getattr(args, o)
        if o == "init_std" and given is not None and saved[o] is None:
            raise CliError(f"--init-std applies to --init normal only; this network's initialiser is "
                           f"{saved['init']}")
        if given is not None and given != saved[o]:
            raise CliError(
                f"--{o.replace('_', '-')} cannot change a saved network's architecture or data "
                f"split (it has {_show(saved[o])}); train a new network instead"
            )
    data = _load_data(args) if args.data else None
    session = loaded.to_session(data)
    trainer = session.trainer
    cfg = _train_config(args, session.train_config)
    if cfg.seed != session.train_config.seed:
        raise CliError("--seed cannot change for a saved network (it fixes the data split)")
    before = trainer.config.optimizer
    if cfg.optimizer != before and not trainer.set_optimizer(cfg.optimizer):
        change = (f"the {before.name} settings now keep other state" if cfg.optimizer.name == before.name
                  else f"the optimizer changes from {before.name} to {cfg.optimizer.name}")
        print(f"nnviz: {change}; its state (moments, momentum) starts fresh", file=sys.stderr)
    trainer.update_config(
        batch_size=cfg.batch_size, l2=cfg.l2, l1=cfg.l1, dropout=cfg.dropout, schedule=cfg.schedule
    )
    trainer.track_layers = bool(args.log)
    return session


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value)) or "no hidden layers"
    return "mixed activations" if value is None else f"{value}"
