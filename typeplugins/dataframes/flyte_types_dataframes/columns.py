"""Column subsets named in a hint: ``Annotated[pd.DataFrame, {"a": int, "b": str}]`` or
``Annotated[pd.DataFrame, ["a", "b"]]`` (a dataclass or class with annotations works too).

Reading such a value loads only those columns; writing one checks that the frame has them.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from flyte_core.extend import type_name


@attrs.frozen
class Columns:
    """The columns a hint asks for: their names in order and, when given, their declared types."""

    names: tuple[str, ...]
    types: Mapping[str, Any] = attrs.field(factory=dict)

    def literal_type(self) -> dict[str, str] | list[str]:
        """The subset as JSON for the literal type (types by name when declared)."""
        if self.types:
            return {n: type_name(self.types[n]) for n in self.names}
        return list(self.names)


def split_hint(hint: Any) -> tuple[Any, Columns | None]:
    """``(base type, column subset or None)`` of a possibly ``Annotated`` hint."""
    if typing.get_origin(hint) is not typing.Annotated:
        return hint, None
    base, *meta = typing.get_args(hint)
    found: Columns | None = None
    for m in meta:
        cols = _as_columns(m)
        if cols is None:
            continue  # other metadata (a storage format, a docstring) is not ours to judge
        if found is not None:
            raise TypeError(f"{type_name(hint)} names its columns twice; give one dict or list of column names.")
        found = cols
    return base, found


def check_columns(have: Sequence[str], want: Columns, hint: Any, where: str) -> None:
    """Raise a ``ValueError`` naming ``hint`` when ``have`` lacks any column ``want`` names."""
    present = set(have)
    missing = [n for n in want.names if n not in present]
    if missing:
        listed = ", ".join(repr(n) for n in missing)
        raise ValueError(
            f"expected {type_name(hint)}, but {where} has no column {listed} "
            f"(its columns: {', '.join(repr(c) for c in have) or 'none'})."
        )


def _as_columns(meta: Any) -> Columns | None:
    if isinstance(meta, Mapping):
        return Columns(tuple(str(k) for k in meta), {str(k): v for k, v in meta.items()})
    if isinstance(meta, list | tuple) and meta and all(isinstance(x, str) for x in meta):
        return Columns(tuple(meta))
    if isinstance(meta, type) and getattr(meta, "__annotations__", None):
        hints = typing.get_type_hints(meta)
        return Columns(tuple(hints), hints)
    return None
