"""``literal_string_repr``: a short, JSON-like rendering of Flyte 2 literals (files and frames by
their URI), for printing inputs and outputs."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any


def _primitive(p: Any) -> Any:
    kind = p.WhichOneof("value")
    if kind == "datetime":
        return p.datetime.ToDatetime().isoformat()
    if kind == "duration":
        return p.duration.ToSeconds()
    if kind in ("integer", "float_value", "boolean", "string_value"):
        return getattr(p, kind)
    raise ValueError(f"Unknown primitive type {p}")


def _binary(b: Any) -> Any:
    if b.tag == "msgpack":
        try:
            import msgpack
        except ImportError:  # not a dependency: show the bytes instead
            return base64.b64encode(b.value)
        return json.dumps(msgpack.unpackb(b.value))
    return base64.b64encode(b.value)


def _scalar(s: Any) -> Any:
    kind = s.WhichOneof("value")
    if kind == "primitive":
        return _primitive(s.primitive)
    if kind == "none_type":
        return None
    if kind == "error":
        return s.error.message
    if kind in ("structured_dataset", "schema", "blob"):
        return getattr(s, kind).uri
    if kind == "binary":
        return _binary(s.binary)
    if kind == "generic":
        from google.protobuf.json_format import MessageToDict

        return MessageToDict(s.generic)
    if kind == "union":
        return _literal(s.union.value)
    raise ValueError(f"Unknown scalar type {s}")


def _literal(lit: Any) -> Any:
    kind = lit.WhichOneof("value")
    if kind == "scalar":
        return _scalar(lit.scalar)
    if kind == "collection":
        return [_literal(x) for x in lit.collection.literals]
    if kind == "map":
        return {k: _literal(v) for k, v in lit.map.literals.items()}
    if kind == "offloaded_metadata":
        return f"Offloaded literal metadata: {lit.offloaded_metadata}"
    raise ValueError(f"Unknown literal type {lit}")


def literal_string_repr(lm: Any) -> Any:
    """The rendering of a ``Literal``, a ``LiteralMap``, a ``NamedLiteral``, ``Inputs``/``Outputs``
    (their ``literals`` list of named literals) or a ``{name: Literal}`` dict; ``{}`` for None."""
    if lm is None:
        return {}
    name = type(lm).__name__
    if name == "Literal":
        return _literal(lm)
    if name == "LiteralMap":
        return {k: _literal(v) for k, v in lm.literals.items()}
    if name == "NamedLiteral":
        return {lm.name: _literal(lm.value)}
    if name in ("Inputs", "Outputs"):
        return {n.name: _literal(n.value) for n in lm.literals}
    if isinstance(lm, Mapping):
        return {k: _literal(v) for k, v in lm.items()}
    raise ValueError(f"Unknown literal type {lm}, type {type(lm)}")
