"""The type engine: finds the transformer for a type hint through the plugin hook, caches it, and
converts whole input and output maps, naming the task and parameter in every error."""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Mapping
from typing import Any

from flyte_core.errors.core import TaskInputError, TypeTransformerError
from flyte_core.types.interface import OUTPUT_NAME, NativeInterface, output_fields, type_name
from flyte_core.types.transformer import ConversionContext, Converter, TypeTransformer

#: A literal on the wire: ``{"t": transformer name, "v": wire version, "d": payload}``.
Literal = dict[str, Any]

TransformerLookup = Callable[[Any, Any], TypeTransformer | None]


class TypeEngine:
    """Resolves type hints to :class:`Converter` objects and converts values.

    ``lookup(key, hint)`` is the plugin hook ``flyte_type_transformer``; it is asked for the hint's
    exact type, then each class of its MRO, then its generic origin, and the answer is cached per
    hint, so resolving a hint on the hot path is one dictionary lookup.
    """

    #: Payloads bigger than this (as JSON) are written to the data store and passed by reference.
    DEFAULT_OFFLOAD_BYTES = 256 * 1024

    def __init__(self, lookup: TransformerLookup, offload_bytes: int = DEFAULT_OFFLOAD_BYTES) -> None:
        self._lookup = lookup
        self._cache: dict[Any, Converter] = {}
        self.offload_bytes = offload_bytes

    def converter(self, hint: Any) -> Converter:
        """The converter for ``hint`` (cached)."""
        try:
            return self._cache[hint]
        except KeyError:
            pass
        except TypeError:  # unhashable hint (rare): resolve every time
            return self._compile(hint)
        conv = self._compile(hint)
        self._cache[hint] = conv
        return conv

    def _compile(self, hint: Any) -> Converter:
        transformer = self.find_transformer(hint)
        if transformer is None:
            raise TypeTransformerError(
                f"No type transformer handles {type_name(hint)}; install a type plugin for it "
                "or use a supported type."
            )
        # Annotated metadata only matters to transformers that ask for it (e.g. column subsets).
        if typing.get_origin(hint) is typing.Annotated and not getattr(transformer, "wants_annotated", False):
            hint = typing.get_args(hint)[0]
        return transformer.compile(hint, self)

    def find_transformer(self, hint: Any) -> TypeTransformer | None:
        """The transformer for ``hint``: by exact type, then MRO, then generic origin."""
        for key in _lookup_keys(hint):
            found = self._lookup(key, hint)
            if found is not None:
                return found
        return None

    # --- single values ---------------------------------------------------------------------

    def to_literal(self, value: Any, hint: Any, ctx: ConversionContext) -> Literal:
        """Convert ``value`` (of type ``hint``) to a literal; a large payload is offloaded to the
        data store and the literal holds its URI instead (``{"t", "v", "uri"}``)."""
        conv = self.converter(hint)
        payload = conv.to_literal(value, ctx)
        # Only strings and containers can be large; a string's length bounds its JSON size cheaply.
        if ctx.store is not None and (
            (isinstance(payload, str) and len(payload) > self.offload_bytes // 6) or isinstance(payload, list | dict)
        ):
            data = json.dumps(payload, separators=(",", ":")).encode()
            if len(data) > self.offload_bytes:
                import hashlib  # only offloaded values are hashed here: most processes never need it

                uri = ctx.store.put_bytes(ctx.new_path(".json"), data)
                # The content hash lets caches key on the value, not on where it was written.
                return {"t": conv.transformer, "v": conv.version, "uri": uri, "hash": hashlib.sha256(data).hexdigest()}
        return {"t": conv.transformer, "v": conv.version, "d": payload}

    def to_python(self, literal: Literal, hint: Any, ctx: ConversionContext) -> Any:
        """Convert a literal (inline or offloaded) back to a Python value of type ``hint``."""
        conv = self.converter(hint)
        if literal.get("t") != conv.transformer or literal.get("v") != conv.version:
            raise TypeTransformerError(
                f"A literal written by transformer '{literal.get('t')}' version {literal.get('v')} "
                f"cannot be read as {type_name(hint)} by '{conv.transformer}' version {conv.version}; "
                "re-run the task that produced it with the same plugin versions."
            )
        if "uri" in literal:
            if ctx.store is None:
                raise TypeTransformerError(f"Value at {literal['uri']} needs a data store to be read.")
            return conv.to_python(json.loads(ctx.store.get_bytes(literal["uri"])), ctx)
        return conv.to_python(literal["d"], ctx)

    # --- whole interfaces ------------------------------------------------------------------

    def encode_inputs(
        self, task: str, iface: NativeInterface, values: Mapping[str, Any], ctx: ConversionContext
    ) -> dict[str, Literal]:
        """Convert bound inputs to literals; a value that does not fit names the task and input."""
        out: dict[str, Literal] = {}
        for inp in iface.inputs:
            try:
                out[inp.name] = self.to_literal(values[inp.name], inp.hint, ctx)
            except TypeTransformerError as e:
                raise TaskInputError(f"Task '{task}', input '{inp.name}': {e}") from None
            except (TypeError, ValueError) as e:
                raise TaskInputError(
                    f"Task '{task}', input '{inp.name}': expected {type_name(inp.hint)}, "
                    f"got {type(values[inp.name]).__name__} ({e})."
                ) from None
        return out

    def decode_inputs(
        self, task: str, iface: NativeInterface, literals: Mapping[str, Literal], ctx: ConversionContext
    ) -> dict[str, Any]:
        """Convert input literals back to Python values."""
        out: dict[str, Any] = {}
        for inp in iface.inputs:
            try:
                out[inp.name] = self.to_python(literals[inp.name], inp.hint, ctx)
            except KeyError:
                raise TaskInputError(f"Task '{task}': input '{inp.name}' is missing.") from None
            except (TypeError, ValueError) as e:
                raise TaskInputError(f"Task '{task}', input '{inp.name}': {e}") from None
        return out

    def encode_output(
        self, task: str, iface: NativeInterface, value: Any, ctx: ConversionContext
    ) -> dict[str, Literal]:
        """Convert a task's return value to its output literal map (empty for ``-> None``)."""
        if iface.output is None:
            if value is not None:
                raise TypeTransformerError(
                    f"Task '{task}' declares no outputs (no return annotation, or '-> None') but "
                    f"returned a {type(value).__name__}; annotate its return type, e.g. "
                    f"'-> {type(value).__name__}'."
                )
            return {}
        try:
            return {OUTPUT_NAME: self.to_literal(value, iface.output, ctx)}
        except (TypeError, ValueError) as e:
            raise TypeTransformerError(
                f"Task '{task}' returned a {type(value).__name__} that does not fit its return type "
                f"{type_name(iface.output)}: {e}"
            ) from None

    def decode_output(
        self, task: str, iface: NativeInterface, literals: Mapping[str, Literal], ctx: ConversionContext
    ) -> Any:
        """Convert an output literal map back to what a caller of the task gets: its return value, except
        that a one-field ``NamedTuple`` return gives that field's value (it declares one output, and a
        task with one output returns it, as in Flyte 2)."""
        if iface.output is None:
            return None
        try:
            value = self.to_python(literals[OUTPUT_NAME], iface.output, ctx)
            fields = output_fields(iface.output)
            return value[0] if fields is not None and len(fields) == 1 else value
        except KeyError:
            raise TypeTransformerError(f"Task '{task}' produced no output.") from None
        except TypeTransformerError:
            raise
        except (TypeError, ValueError) as e:
            raise TypeTransformerError(f"Task '{task}', output: {e}") from None


def _lookup_keys(hint: Any) -> list[Any]:
    """Keys the transformer hook is asked for, most specific first."""
    keys: list[Any] = []
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        return _lookup_keys(typing.get_args(hint)[0])
    if isinstance(hint, type) and origin is None:
        keys.extend(hint.__mro__)
    elif origin is not None:
        keys.append(origin)
        if isinstance(origin, type):
            keys.extend(origin.__mro__[1:])
    else:
        keys.append(hint)
    return keys
