"""Which settings the controls show that the running network does not have, in words.

The window shows these in its banner while they wait for Apply (Reset), so a student can
see at a glance that the network training is still the old one.
"""

from __future__ import annotations

from nnviz.app.run_settings import RunSettings
from nnviz.app.settings_schema import BY_NAME

#: how a field without a declared setting is named
_NAMES = {"custom_name": "data set", "features": "input features", "schedule": "schedule"}


def _label(field: str) -> str:
    decl = BY_NAME.get(field)
    if decl is not None and decl.label:
        return decl.label.split(" (")[0].lower()
    return _NAMES.get(field, field.replace("_", " "))


def _value(group: str, field: str, value: object) -> str:
    decl = BY_NAME.get(field)
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value) if value else "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if decl is not None and isinstance(value, str):
        return decl.choice_label(value)
    return str(value)


def pending_changes(shown: RunSettings, running: RunSettings) -> tuple[str, ...]:
    """One phrase per setting that waits for Reset: ``"layers 8, 8 → 16"``, in the order
    the settings are declared (data, network, training)."""
    out = []
    for name in sorted(shown.pending_fields(running), key=_order):
        group, field = name.split(".", 1)
        was = getattr(getattr(running, group), field)
        now = getattr(getattr(shown, group), field)
        if group == "data" and field == "source" and now == "custom":
            now = shown.data.custom_name or now
        out.append(f"{_label(field)} {_value(group, field, was)} → {_value(group, field, now)}")
    return tuple(out)


def _order(name: str) -> tuple[int, int, str]:
    group, field = name.split(".", 1)
    names = list(BY_NAME)
    return (("data", "network", "train").index(group), names.index(field) if field in names else 99, field)
