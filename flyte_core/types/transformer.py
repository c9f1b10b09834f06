"""The contract a type plugin implements: a :class:`TypeTransformer` per family of Python types."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

if TYPE_CHECKING:
    from flyte_core.storage.datastore import DataStore
    from flyte_core.types.engine import TypeEngine


@attrs.define
class ConversionContext:
    """What a transformer may use while converting one value.

    ``store`` is the data store for offloading large values; ``prefix`` is the store path under which
    this value's offloaded parts go (unique per action and direction).
    """

    store: DataStore | None = None
    prefix: str = ""
    #: Called with ``prefix`` before a path under it is handed out (a warm worker borrows the folder
    #: from its host then: :func:`flyte_core.runtime.loans.writable`); returns ``prefix``.
    writable: Callable[[str], str] | None = None
    # itertools.count: next() is atomic, and actions of one run convert concurrently.
    _counter: Iterator[int] = attrs.field(factory=lambda: itertools.count(1))

    def new_path(self, suffix: str = "") -> str:
        """A fresh store path under ``prefix`` for one offloaded part, about to be written."""
        prefix = self.prefix if self.writable is None else self.writable(self.prefix)
        return f"{prefix.rstrip('/')}/{next(self._counter)}{suffix}"


@attrs.frozen
class Converter:
    """A compiled pair of functions for one type hint, cached by the engine.

    ``to_literal(value, ctx)`` returns a JSON-able payload and raises ``TypeError`` (with a
    readable message) when ``value`` does not fit the hint. ``to_python(payload, ctx)`` inverts it.
    ``accepts(value)`` is a cheap check used to pick a member of a ``Union``; ``py_type`` is the
    class values have (when there is one), preferred when several Union members accept a value.
    ``from_cli`` parses a command-line string (None: the CLI parses JSON and shapes it to the hint),
    and ``cli_form`` says in ``--help`` what form is expected.
    """

    transformer: str
    version: int
    to_literal: Callable[[Any, ConversionContext], Any]
    to_python: Callable[[Any, ConversionContext], Any]
    accepts: Callable[[Any], bool]
    literal_type: dict[str, Any] = attrs.field(factory=dict)
    py_type: type | None = None
    from_cli: Callable[[str], Any] | None = None
    cli_form: str = ""


@runtime_checkable
class TypeTransformer(Protocol):
    """Converts one family of Python types.

    ``name`` identifies the transformer on the wire and ``version`` is its wire format's version:
    a literal written by another version is refused instead of being mis-read.
    """

    name: str
    version: int

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        """Build the :class:`Converter` for ``hint`` (use ``engine.converter`` for nested hints)."""
        ...
