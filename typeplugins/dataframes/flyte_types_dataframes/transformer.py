"""The type transformers: one per frame library, and one for the engine-neutral ``DataFrame``.

They all write the same payload under the same name (``dataframe``), so a frame written as pandas
can be read as polars, as Arrow, or as a ``DataFrame`` reference, and the other way round.
"""

from __future__ import annotations

from typing import Any

from flyte_core.extend import ConversionContext, Converter, DataStore, TypeEngine, type_name
from flyte_types_dataframes.cli import CLI_FORM, read_cli_frame, reference_cli_frame
from flyte_types_dataframes.columns import Columns, check_columns, split_hint
from flyte_types_dataframes.dataframe import DataFrame
from flyte_types_dataframes.engines import Engine, engine_for_class, engine_for_value, qualified_name
from flyte_types_dataframes.frames import Payload, load_frame, store_frame
from flyte_types_dataframes.storage import PARQUET
from flyte_types_dataframes.userhash import HASH_BY, USER_HASHES, compute, method_in_hint

NAME = "dataframe"
#: Version of the payload format (``uri``, ``format``, ``hash`` of the Parquet bytes, ``columns``).
VERSION = 1


def _store(ctx: ConversionContext, hint: Any) -> DataStore:
    if ctx.store is None:
        raise ValueError(f"A {type_name(hint)} is passed through a data store, and this conversion has none.")
    return ctx.store


def _literal_type(engine: str, want: Columns | None) -> dict[str, Any]:
    lt: dict[str, Any] = {"type": "dataframe", "engine": engine, "format": PARQUET}
    if want is not None:
        lt["columns"] = want.literal_type()
    return lt


class FrameTransformer:
    """``pandas.DataFrame``, ``polars.DataFrame``, ``polars.LazyFrame`` or ``pyarrow.Table``
    (optionally ``Annotated`` with a column subset), stored as Parquet.

    A frame of any of these libraries is taken where another is expected (a pandas frame passed
    to a task that takes a polars one) and arrives as the expected type, as in Flyte.
    """

    name = NAME
    version = VERSION
    wants_annotated = True

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        """Build the converter for ``hint``."""
        base, want = split_hint(hint)
        eng = engine_for_class(base)
        if eng is None:
            raise TypeError(f"{type_name(hint)} is not a data frame type this plugin knows")
        return _frame_converter(eng, hint, want)


def _frame_converter(eng: Engine, hint: Any, want: Columns | None) -> Converter:
    frame_type = eng.py_type
    expected = qualified_name(frame_type) if want is None else f"{qualified_name(frame_type)} ({type_name(hint)})"
    method = method_in_hint(hint)  # Annotated[frame, HashFunction.from_fn(fn)]: fn(frame) is the cache key

    def accepts(v: Any) -> bool:
        return isinstance(v, frame_type)

    def to_literal(v: Any, ctx: ConversionContext) -> Payload:
        if isinstance(v, DataFrame):  # a reference (or wrapped frame) passes as it is
            payload = v.to_payload(ctx)
            if want is not None and payload.get("columns") is not None:
                check_columns(payload["columns"], want, hint, f"the data frame at {payload['uri']}")
            return payload
        source = eng if isinstance(v, frame_type) else engine_for_value(v)
        if source is None:
            raise TypeError(f"expected {expected}, got {qualified_name(type(v))}")
        user = compute(method, v, f"the hash method of {type_name(hint)}") if method is not None else None
        # A frame of another library is stored as it is: Parquet is read back as ``frame_type``.
        payload = store_frame(source, v, _store(ctx, hint), ctx.new_path, want, hint)
        if user is None:
            user = USER_HASHES.lookup(v, source)  # read with a user hash and handed on unchanged
        if user is not None:
            payload = {**payload, "hash": user, HASH_BY: "user"}
        return payload  # (a stored copy reused unchanged keeps the hash it was read with)

    def to_python(payload: Payload, ctx: ConversionContext) -> Any:
        value = load_frame(eng, payload, ctx.store, want, hint)
        if payload.get(HASH_BY) == "user" and isinstance(payload.get("hash"), str):
            USER_HASHES.remember(value, eng, payload["hash"])
        return value

    def from_cli(text: str) -> Any:
        return read_cli_frame(text, eng, want, hint)

    return Converter(NAME, VERSION, to_literal, to_python, accepts, _literal_type(eng.name, want),
                     py_type=frame_type, from_cli=from_cli, cli_form=CLI_FORM)


class DataFrameTransformer:
    """``flyte.io.DataFrame``: a reference to a stored frame, read when the task asks for it."""

    name = NAME
    version = VERSION
    wants_annotated = True

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        """Build the converter for ``hint``."""
        _, want = split_hint(hint)

        def accepts(v: Any) -> bool:
            return isinstance(v, DataFrame)

        def to_literal(v: Any, ctx: ConversionContext) -> Payload:
            if not isinstance(v, DataFrame):
                if engine_for_value(v) is None:
                    raise TypeError(f"expected {type_name(hint)} (or a frame to store as one), got "
                                    f"{qualified_name(type(v))}")
                v = DataFrame.from_df(v)  # a bare frame where a DataFrame is expected: wrap it
            payload: Payload = v.to_payload(ctx)
            if want is not None and payload.get("columns") is not None:
                check_columns(payload["columns"], want, hint, "the data frame")
            return payload

        def to_python(payload: Payload, ctx: ConversionContext) -> DataFrame:
            return DataFrame.from_payload(payload, ctx.store, want)

        return Converter(NAME, VERSION, to_literal, to_python, accepts, _literal_type("any", want),
                         py_type=DataFrame, from_cli=reference_cli_frame, cli_form=CLI_FORM)


FRAMES = FrameTransformer()
DATAFRAME = DataFrameTransformer()
