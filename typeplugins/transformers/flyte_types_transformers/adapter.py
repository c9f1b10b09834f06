"""A Flyte 2 transformer seen as a flyte-core transformer.

Payload (wire version 1): ``{"pb": base64 of the serialized Flyte 2 Literal}``, or, for a literal
that sets its own ``hash`` (Flyte 2's cache key), ``{"uri", "hash"}`` with the bytes in the data
store, so caches key on that hash. The literal is whatever the user's ``to_literal`` built; reading
parses it (``flyteidl2.core.literals_pb2.Literal``) and hands it to ``to_python_value``. The wire
name is ``flyte2:<transformer name>``, so a literal is only read back by a transformer of that name.

Flyte 2 transformers are ``async``; flyte-core converts values synchronously (from a task's thread
or its event loop), so each call runs on a fresh event loop, in a helper thread when the calling
thread already runs one.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import typing
from collections.abc import Coroutine
from typing import Any

from flyte_core.extend import ConversionContext, Converter
from flyte_core.extend import TypeEngine as CoreEngine
from flyte_types_transformers.engine import _maybe_await
from flyte_types_transformers.transformer import TypeTransformer

VERSION = 1


def run_sync(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` to completion from synchronous code, whether or not this thread runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="flyte-types") as pool:
        return pool.submit(asyncio.run, coro).result()


def _literal_type_json(transformer: TypeTransformer[Any], base: Any) -> dict[str, Any]:
    """The literal type flyte-core records: the transformer's own ``LiteralType`` as JSON, when it
    can give one (a transformer that cannot is still usable: Flyte 2 asks only when registering
    a task remotely)."""
    out: dict[str, Any] = {"type": "flyte2", "transformer": transformer.name}
    try:
        from google.protobuf.json_format import MessageToDict

        out["literal_type"] = MessageToDict(transformer.get_literal_type(base))
    except Exception:  # optional information: a transformer may not give it
        pass
    return out


class Flyte2Adapter:
    """The flyte-core transformer for one Flyte 2 transformer (``wants_annotated``: the hint's
    ``Annotated`` metadata reaches :meth:`compile`, as Flyte 2 passes it on)."""

    version = VERSION
    wants_annotated = True

    def __init__(self, transformer: TypeTransformer[Any]) -> None:
        self.transformer = transformer
        self.name = f"flyte2:{transformer.name}"

    def compile(self, hint: Any, engine: CoreEngine) -> Converter:
        """The converter for ``hint`` (the registered type, a subclass, or ``Annotated`` of one)."""
        tr = self.transformer
        base = typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Annotated else hint
        py_type = base if isinstance(base, type) else (typing.get_origin(base) or None)
        if not isinstance(py_type, type):
            py_type = None

        def accepts(v: Any) -> bool:
            return py_type is None or isinstance(v, py_type)

        async def encode(v: Any) -> Any:
            if tr.type_assertions_enabled:
                tr.assert_type(base, v)
            return await _maybe_await(tr.to_literal(v, base, tr.get_literal_type(base)))

        def to_literal(v: Any, ctx: ConversionContext) -> dict[str, Any]:
            lit = run_sync(encode(v))
            serialize = getattr(lit, "SerializeToString", None)
            if serialize is None:
                raise TypeError(f"transformer {tr.name!r} returned a {type(lit).__name__} from to_literal, not a "
                                "flyteidl2.core.literals_pb2.Literal.")
            data = serialize(deterministic=True)
            if getattr(lit, "hash", "") and ctx.store is not None:
                # A literal with its own hash (Flyte 2's cache key) is stored apart, so the payload the
                # cache keys on is {"hash"} alone: where the bytes went is not what the value is.
                return {"uri": ctx.store.put_bytes(ctx.new_path(".pb"), data), "hash": lit.hash}
            return {"pb": base64.b64encode(data).decode("ascii")}

        def to_python(p: dict[str, Any], ctx: ConversionContext) -> Any:
            from flyteidl2.core import literals_pb2

            if "uri" in p:
                if ctx.store is None:
                    raise ValueError(f"The literal at {p['uri']} needs a data store to be read.")
                data = ctx.store.get_bytes(p["uri"])
            else:
                data = base64.b64decode(p["pb"])
            lit = literals_pb2.Literal.FromString(data)
            return run_sync(_maybe_await(tr.to_python_value(lit, base)))

        return Converter(self.name, self.version, to_literal, to_python, accepts,
                         _literal_type_json(tr, base), py_type=py_type, cli_form="JSON")


# One adapter per registered transformer (registered transformers live as long as the process).
_ADAPTERS: dict[int, Flyte2Adapter] = {}


def adapter_for(transformer: TypeTransformer[Any]) -> Flyte2Adapter:
    """The (cached) adapter of ``transformer``."""
    found = _ADAPTERS.get(id(transformer))
    if found is None or found.transformer is not transformer:
        found = _ADAPTERS[id(transformer)] = Flyte2Adapter(transformer)
    return found
