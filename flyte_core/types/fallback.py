"""The last resorts: ``typing.Any`` (JSON, or the value's own transformer) and pickle."""

from __future__ import annotations

import importlib
import warnings
from typing import Any

from flyte_core.types.callables import dumps, loads
from flyte_core.types.common import mismatch
from flyte_core.types.engine import TypeEngine
from flyte_core.types.interface import type_name
from flyte_core.types.transformer import ConversionContext, Converter


class PickleFallbackWarning(UserWarning):
    """A task moves a value by pickle because no type transformer handles its type."""


class Pickle:
    """Last resort for classes no transformer handles: pickled (with cloudpickle, as Flyte 2 does, so
    classes of scripts and lambdas inside values travel too), base64 in the payload.

    Compiling it warns once per type, naming the type and how to add a transformer.
    """

    name = "pickle"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        if hint is not object:
            warnings.warn(
                f"{type_name(hint)} has no type transformer, so its values travel as pickle (only "
                "readable by the same Python and library versions); register a transformer with the "
                "'flyte_type_transformer' hook to avoid this.",
                PickleFallbackWarning,
                stacklevel=2,
            )
        cls = hint if isinstance(hint, type) else object

        def accepts(v: Any) -> bool:
            return isinstance(v, cls)

        def to_literal(v: Any, _ctx: ConversionContext) -> str:
            if not accepts(v):
                raise mismatch(hint, v)
            return dumps(v)

        def to_python(p: str, _ctx: ConversionContext) -> Any:
            return loads(p)

        return Converter(self.name, self.version, to_literal, to_python, accepts, {"type": "pickle"},
                         py_type=cls)


def _is_json(v: Any) -> bool:
    t = type(v)
    if t in (str, int, float, bool) or v is None:
        return t is not float or (v == v and v not in (float("inf"), float("-inf")))
    if t is list:
        return all(_is_json(x) for x in v)
    if t is dict:
        return all(type(k) is str and _is_json(x) for k, x in v.items())
    return False


class AnyT:
    """``typing.Any`` and bare ``list``/``dict``: JSON values travel as JSON; any other value is
    converted by the transformer of its runtime type, whose import path is recorded with it."""

    name = "any"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        container = hint if hint in (list, dict) else object

        def accepts(v: Any) -> bool:
            return isinstance(v, container)

        def to_literal(v: Any, ctx: ConversionContext) -> Any:
            if not accepts(v):
                raise mismatch(hint, v)
            if _is_json(v):
                return {"json": v}
            t = type(v)
            conv = engine.converter(t)
            return {"type": f"{t.__module__}:{t.__qualname__}", "lit": conv.to_literal(v, ctx)}

        def to_python(p: Any, ctx: ConversionContext) -> Any:
            if "json" in p:
                return p["json"]
            module, _, qualname = p["type"].partition(":")
            obj: Any = importlib.import_module(module)
            for part in qualname.split("."):
                obj = getattr(obj, part)
            return engine.converter(obj).to_python(p["lit"], ctx)

        return Converter(self.name, self.version, to_literal, to_python, accepts, {"type": "any"})
