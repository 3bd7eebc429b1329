"""Small, strict checks of parsed JSON, with messages that say where the problem is.

JSON from a file is untrusted: every value is checked for its type (an integer is never a
bool, a number is always finite) before the core's constructors see it.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterable
from typing import Any

import numpy as np

_KINDS = {"int", "number", "str", "bool", "list", "dict", "int?", "number?", "str?", "dict?", "list?"}
_NAMES = {
    "int": "an integer",
    "number": "a finite number",
    "str": "a string",
    "bool": "true or false",
    "list": "a list",
    "dict": "an object",
}
#: deeper than this, JSON from a network file is refused (Python's parser would recurse)
MAX_JSON_DEPTH = 64


class SchemaError(ValueError):
    """A JSON value of the wrong type or range; the message names where it is."""


def type_name(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v: Any) -> bool:
    """A finite int or float; an int too large for a float64 is not (it would overflow)."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return False
    return math.isfinite(v) if isinstance(v, float) else abs(v) <= sys.float_info.max


def check(value: Any, kind: str, where: str) -> Any:
    """``value`` if it is of ``kind`` (a trailing ``?`` allows null), else SchemaError."""
    assert kind in _KINDS, kind
    if kind.endswith("?"):
        if value is None:
            return None
        kind = kind[:-1]
    ok = {
        "int": is_int,
        "number": is_number,
        "str": lambda v: isinstance(v, str),
        "bool": lambda v: isinstance(v, bool),
        "list": lambda v: isinstance(v, list),
        "dict": lambda v: isinstance(v, dict),
    }[kind](value)
    if not ok:
        raise SchemaError(f"{where} must be {_NAMES[kind]}, not {type_name(value)}")
    return value


def field(d: dict, key: str, kind: str, where: str, default: Any = ...) -> Any:
    """``d[key]`` checked against ``kind``; missing is an error unless a default is given."""
    if key not in d:
        if default is ...:
            raise SchemaError(f"{where} lacks {key!r}")
        return default
    return check(d[key], kind, f"{where}.{key}" if where else key)


def int_range(value: Any, lo: int, hi: int, where: str) -> int:
    check(value, "int", where)
    if not lo <= value <= hi:
        raise SchemaError(f"{where} must be in {lo:,}..{hi:,}, not {_short(value)}")
    return value


def only_keys(d: dict, allowed: Iterable[str], where: str) -> None:
    extra = sorted(set(d) - set(allowed))
    if extra:
        shown = ", ".join(repr(_short(k)) for k in extra[:5])
        raise SchemaError(f"{where or 'the file'} has unknown field(s) {shown}")


def string_list(value: Any, where: str, max_items: int, max_len: int = 1000) -> tuple[str, ...]:
    check(value, "list", where)
    if len(value) > max_items:
        raise SchemaError(f"{where} has {len(value):,} entries; at most {max_items:,} are allowed")
    for i, s in enumerate(value):
        check(s, "str", f"{where}[{i}]")
        if len(s) > max_len:
            raise SchemaError(f"{where}[{i}] is longer than {max_len} characters")
    return tuple(value)


def _short(v: Any) -> str:
    s = str(v)
    return s if len(s) <= 40 else s[:37] + "..."


def _no_constants(name: str) -> Any:
    raise SchemaError(f"{name} is not a number JSON allows")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    d: dict = {}
    for k, v in pairs:
        if k in d:
            raise SchemaError(f"the key {_short(k)!r} appears twice in one object")
        d[k] = v
    return d


_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _depth_ok(text: str) -> bool:
    """Whether brackets nest at most MAX_JSON_DEPTH deep (strings are skipped).

    Vectorised, so a hostile file of millions of brackets is checked in milliseconds.
    """
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return True
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).encode("ascii")
    codes = np.frombuffer(brackets, dtype=np.uint8)
    step = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1).astype(np.int32)
    return bool(len(step) == 0 or np.cumsum(step).max() <= MAX_JSON_DEPTH)


def parse_json(data: bytes, where: str) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity, no duplicate keys, bounded nesting."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SchemaError(f"{where} is not UTF-8 text (byte {exc.start})") from exc
    if not _depth_ok(text):
        raise SchemaError(f"{where} nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text, parse_constant=_no_constants, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        where_in = f"line {exc.lineno}, column {exc.colno}"
        raise SchemaError(f"{where} is not valid JSON ({exc.msg} at {where_in})") from exc
    except SchemaError as exc:
        raise SchemaError(f"{where}: {exc}") from exc
    except (ValueError, RecursionError) as exc:  # e.g. an integer with thousands of digits
        raise SchemaError(f"{where} cannot be read ({exc})") from exc


def to_json_bytes(obj: Any) -> bytes:
    """Pretty, deterministic JSON; refuses NaN and converts NumPy scalars."""
    return (json.dumps(obj, indent=2, allow_nan=False, default=_jsonable) + "\n").encode("utf-8")


def _jsonable(o: Any) -> Any:
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(f"{type(o).__name__} cannot be written as JSON")
