"""``Callable[...]`` inputs and outputs: functions, lambdas, closures and tasks, moved with cloudpickle.

A function has no data form, so its code travels: cloudpickle writes a function that cannot be
imported by name on the other side (a lambda, a closure, a function of a script) by value, and an
importable one by reference, as Flyte 2 does. A task travels as a reference to the module-level task
(see ``TaskTemplate.__reduce_ex__``), so calling it on the other side starts a child action of that
task. Both sides need the same Python version.
"""

from __future__ import annotations

from typing import Any

from flyte_core.types.common import mismatch
from flyte_core.types.engine import TypeEngine
from flyte_core.types.interface import type_name
from flyte_core.types.transformer import ConversionContext, Converter


def dumps(value: Any) -> str:
    """``value`` pickled with cloudpickle, as base64 text; a TypeError saying what could not be pickled."""
    # Imported on first use: every plugin manager registers this transformer, few runs move a function.
    import base64
    import pickle

    import cloudpickle

    try:
        data = cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as e:
        raise TypeError(f"{value!r:.80} cannot be pickled to send it to another task ({type(e).__name__}: {e}); "
                        "pass something it does not hold (an open file, a lock, a client) as a separate input "
                        "or create it inside the task") from None
    return base64.b64encode(data).decode("ascii")


def loads(payload: str) -> Any:
    """The value :func:`dumps` wrote."""
    import base64
    import pickle

    return pickle.loads(base64.b64decode(payload))


class CallableT:
    """``typing.Callable`` / ``collections.abc.Callable``, with or without argument types."""

    name = "callable"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        def to_literal(v: Any, _ctx: ConversionContext) -> str:
            if not callable(v):
                raise mismatch(hint, v)
            return dumps(v)

        def to_python(p: str, _ctx: ConversionContext) -> Any:
            import pickle  # loads imported it

            try:
                return loads(p)
            except (pickle.UnpicklingError, AttributeError, ImportError) as e:
                raise ValueError(f"a {type_name(hint)} value could not be unpickled here "
                                 f"({type(e).__name__}: {e})") from None

        return Converter(self.name, self.version, to_literal, to_python, callable, {"type": "callable"})
