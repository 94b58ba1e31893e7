"""Random mutations of valid text files, for fuzzing the readers of flight logs and controls.

* :func:`mutate_jsonl` (flight logs): 1 to 3 of: a value anywhere in a line (header
  included) replaced by a plausible one (right type, odd value: most of the time, so that
  replay reaches the scenes) or a hostile JSON literal (``NaN``, ``1e999``, huge integers,
  deep nesting, wrong types, lists of the wrong length), a key deleted or added, lines deleted,
  duplicated or swapped, the text truncated, bytes flipped or inserted (invalid UTF-8
  included).
* :func:`mutate_toml` (controls files): 1 to 3 of: a value replaced by a hostile TOML
  literal (``nan``, ``inf``, deep arrays, inline tables, wrong types, unknown names), a key
  or table renamed, lines deleted or duplicated, garbage lines, truncation, byte flips.

Both take a ``numpy.random.Generator`` (so a seed reproduces a case) and return text that may
hold lone surrogates for bytes that are not UTF-8: write it with ``surrogateescape``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

JSON_LITERALS = (
    "null", "true", "false", "0", "-1", "3", "0.5", "-0.0", "1e308", "-1e308", "1e999", "NaN",
    "Infinity", "-Infinity", '""', '"x"', '"odyssey"', '"faces"', "[]", "{}", "[1, 2]",
    "[0.1, 0.2, 0.3]", "[0.1, 0.2, 0.3, 0.4]", '["a", "b", "c"]', "[NaN, 1]",
    "12345678901234567890123456789", "-9223372036854775809", '{"a": {"b": {"c": []}}}',
    "[" * 40 + "]" * 40, "[" * 3000 + "]" * 3000, '"' + "x" * 5000 + '"', "[1e308, 1e308, 1e308]",
)
# values a reader accepts (right type, in range) but a scene may still choke on: most mutations
# use these, so that the fuzz reaches restore() and drawing, not only the validation
PLAUSIBLE_JSON = (
    "0", "1", "-1", "2", "7", "0.5", "-0.75", "1000", "-999999", "0.0", "true", "false", "null",
    "[0.0, 0.0, 0.0]", "[1, 0, 0, 0]", "[0.0, 0.0, 0.0, 0.0]", "[-5.0, 5.0]", "[0, 1]", "[2, 0, 1]",
    '"dense"', '"random"', '"manual"', '"autopilot"', '"nearest"', "{}",
)
TOML_LITERALS = (
    '"x"', "5", "-1", "0", "0.95", "nan", "inf", "-inf", "1e999", "true", "[]", "[1, 2]",
    '["nokey"]', '["escape", "escape"]', "[[1]]", "{a = 1}", '"escape"', '"""multi"""',
    "'''raw'''", "[" * 30 + "]" * 30, "[" * 3000 + "]" * 3000, '"' + "x" * 3000 + '"',
    '["leftx"]', '"leftx"', '["a", 1]', "1979-05-27T07:32:00Z",
)
SENTINEL = "\u0000MUTATION\u0000"
ENCODED_SENTINEL = json.dumps(SENTINEL)


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (keys and indices) into a JSON value, the root excluded."""
    out = []
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for key, value in items:
        out.append((*prefix, key))
        out += _paths(value, (*prefix, key))
    return out


def _parent(obj: Any, path: tuple) -> Any:
    for key in path[:-1]:
        obj = obj[key]
    return obj


def _bytes_mutation(text: str, rng: np.random.Generator) -> str:
    data = bytearray(text.encode("utf-8", "surrogateescape"))
    if not data:
        return text
    kind = rng.integers(3)
    pos = int(rng.integers(len(data)))
    if kind == 0:  # truncate
        data = data[:pos]
    elif kind == 1:  # flip a few bytes
        for _ in range(int(rng.integers(1, 6))):
            data[int(rng.integers(len(data)))] = int(rng.integers(256))
    else:  # insert random bytes
        data[pos:pos] = bytes(rng.integers(0, 256, int(rng.integers(1, 12)), dtype=np.uint8))
    return data.decode("utf-8", "surrogateescape")


def _lines_mutation(lines: list[str], rng: np.random.Generator) -> list[str]:
    if not lines:
        return lines
    lines = list(lines)
    i = int(rng.integers(len(lines)))
    kind = rng.integers(3)
    if kind == 0:
        del lines[i]
    elif kind == 1:
        lines.insert(i, lines[i])
    else:
        j = int(rng.integers(len(lines)))
        lines[i], lines[j] = lines[j], lines[i]
    return lines


def mutate_jsonl(text: str, rng: np.random.Generator) -> str:
    """A random mutation of a JSON-lines file (see the module docstring)."""
    for _ in range(int(rng.integers(1, 4))):
        lines = text.splitlines()
        kind = rng.integers(10)
        if kind <= 5 and lines:
            i = 0 if rng.random() < 0.25 else int(rng.integers(len(lines)))
            try:
                obj = json.loads(lines[i])
            except (ValueError, RecursionError):  # an earlier mutation broke or deepened it
                continue
            paths = _paths(obj)
            if not paths:
                continue
            path = paths[int(rng.integers(len(paths)))]
            parent = _parent(obj, path)
            if kind <= 3:  # replace a value with a hostile literal
                parent[path[-1]] = SENTINEL
                pool = PLAUSIBLE_JSON if rng.random() < 0.6 else JSON_LITERALS
                literal = pool[int(rng.integers(len(pool)))]
                lines[i] = json.dumps(obj).replace(ENCODED_SENTINEL, literal, 1)
            elif kind == 4 and isinstance(parent, dict):  # delete a key
                del parent[path[-1]]
                lines[i] = json.dumps(obj)
            elif isinstance(parent, dict):  # add a key
                parent[f"junk{int(rng.integers(100))}"] = [1, "x", None]
                lines[i] = json.dumps(obj)
            text = "\n".join(lines) + "\n"
        elif kind <= 7:
            text = "\n".join(_lines_mutation(lines, rng)) + "\n"
        else:
            text = _bytes_mutation(text, rng)
    return text


def mutate_toml(text: str, rng: np.random.Generator) -> str:
    """A random mutation of a TOML file (see the module docstring)."""
    for _ in range(int(rng.integers(1, 4))):
        lines = text.splitlines()
        kind = rng.integers(10)
        assignments = [i for i, line in enumerate(lines) if "=" in line and not line.lstrip().startswith("#")]
        headers = [i for i, line in enumerate(lines) if line.startswith("[")]
        if kind <= 4 and assignments:  # replace a value
            i = assignments[int(rng.integers(len(assignments)))]
            key = lines[i].split("=", 1)[0]
            lines[i] = f"{key}= {TOML_LITERALS[int(rng.integers(len(TOML_LITERALS)))]}"
        elif kind == 5 and assignments:  # rename a key
            i = assignments[int(rng.integers(len(assignments)))]
            key, value = lines[i].split("=", 1)
            lines[i] = f"{key.strip()}x ={value}"
        elif kind == 6 and headers:  # rename a table
            i = headers[int(rng.integers(len(headers)))]
            lines[i] = lines[i].replace("]", "_x]", 1)
        elif kind == 7:
            lines = _lines_mutation(lines, rng)
        elif kind == 8:
            lines.insert(int(rng.integers(len(lines) + 1)), "= = garbage [[")
        else:
            text = _bytes_mutation(text, rng)
            continue
        text = "\n".join(lines) + "\n"
    return text
