"""``flyte.io.DataFrame``: an engine-neutral reference to a stored frame, as in Flyte 2.

A task that takes a ``DataFrame`` receives only the reference; the data is read when the task
asks for it, as the frame type it names::

    @env.task
    def total(df: DataFrame) -> float:
        pdf = df.open(pd.DataFrame).all_sync()     # or: await df.open(pl.DataFrame).all()
        return float(pdf["x"].sum())

    @env.task
    def make() -> DataFrame:
        return DataFrame.from_df(pd.DataFrame({"x": [1.0, 2.0]}))   # stored when make() returns

Importing this module imports no frame library.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Generator, Iterator
from typing import TYPE_CHECKING, Any

from flyte_types_dataframes.storage import CSV, PARQUET, guess_format, local_scratch, new_name
from flyte_types_dataframes.userhash import HASH_BY

if TYPE_CHECKING:
    from flyte_core.extend import ConversionContext, DataStore
    from flyte_types_dataframes.columns import Columns

__all__ = ["CSV", "PARQUET", "DataFrame"]


class DataFrame:
    """A stored data frame: ``uri`` (where it is), ``format`` (``"parquet"``, or ``"csv"`` for a
    file referenced as it is) and ``hash`` (of the stored bytes; None for files written elsewhere).

    Make one with :meth:`from_df` (an in-memory frame, stored when it crosses a task boundary),
    :meth:`from_local` (stored now) or :meth:`from_existing_remote`; read one with
    ``open(frame_type)`` then :meth:`all` / :meth:`all_sync` or :meth:`iter`.
    """

    def __init__(self, uri: str | None = None, format: str | None = PARQUET, hash: str | None = None) -> None:
        self.uri = uri
        self.format = format or (guess_format(uri) if uri else PARQUET)
        self.hash = hash
        self._raw: Any = None
        self._columns: list[str] | None = None
        self._store: DataStore | None = None
        self._want: Columns | None = None
        self._open_type: type | None = None
        self._hash_by_user = False  # ``hash`` came from a user hash method (or key), not the bytes

    # --- making one ----------------------------------------------------------------------------

    @classmethod
    def from_df(cls, val: Any = None, uri: str | None = None) -> DataFrame:
        """Wrap an in-memory frame (pandas, polars, pyarrow), stored when it crosses a task boundary;
        or, with ``uri`` alone, reference a stored one."""
        if isinstance(val, DataFrame):
            raise TypeError("DataFrame.from_df() expects a frame (pandas, polars, pyarrow), not a DataFrame; "
                            "use the DataFrame itself.")
        if val is not None:
            from flyte_types_dataframes.engines import engine_for_value, frame_type_names

            if engine_for_value(val) is None:  # refuse a non-frame now rather than when the task returns
                raise TypeError(f"expected a data frame ({frame_type_names()}), got {type(val).__name__}")
        df = cls(uri=uri)
        df._raw = val
        return df

    #: Flyte 2's other name for :meth:`from_df`.
    wrap_df = from_df

    @classmethod
    def from_local_sync(
        cls, df: Any, columns: list[str] | None = None, remote_destination: str | None = None,
        hash_method: Any = None,
    ) -> DataFrame:
        """Store the in-memory frame ``df`` now (only ``columns``, if given) and return the reference.

        It goes to ``remote_destination`` if given (a folder ending in ``/`` gets a fresh file
        name), else to the running task's raw data path, else (outside a task) to a local temporary
        folder.

        ``hash_method``: a precomputed cache key (a string), or a hash method
        (``flyte.io.HashFunction.from_fn(fn)``) given the whole frame; its result becomes
        :attr:`hash`, the cache key of tasks that take this DataFrame. By default the hash is
        that of the stored bytes.
        """
        from flyte_types_dataframes.columns import Columns, check_columns
        from flyte_types_dataframes.frames import arrow_of
        from flyte_types_dataframes.storage import resolve, write_parquet
        from flyte_types_dataframes.userhash import compute

        user: str | None = None
        if isinstance(hash_method, str):
            user = hash_method
        elif hash_method is not None:
            user = compute(hash_method, df, "DataFrame.from_local")
        engine, table = arrow_of(df)
        names = engine.columns(df)
        if columns is not None:
            check_columns(names, Columns(tuple(columns)), cls, "the frame")
            table, names = table.select(list(columns)), list(columns)
        uri = _destination(remote_destination)
        fs, path = resolve(uri, None)
        digest = write_parquet(table, fs, path)
        out = cls(uri=uri, format=PARQUET, hash=user or digest)
        out._hash_by_user = user is not None
        out._columns = names
        if columns is None:
            out._raw = df  # reading it back in this process needs no trip to the store
        return out

    @classmethod
    async def from_local(
        cls, df: Any, columns: list[str] | None = None, remote_destination: str | None = None,
        hash_method: Any = None,
    ) -> DataFrame:
        """:meth:`from_local_sync` without blocking the event loop."""
        return await asyncio.to_thread(cls.from_local_sync, df, columns, remote_destination, hash_method)

    @classmethod
    def from_existing_remote(cls, remote_path: str, format: str | None = None, **kwargs: Any) -> DataFrame:
        """Reference a Parquet or CSV file that already exists (format guessed from the name if not given)."""
        if kwargs:
            raise TypeError(f"DataFrame.from_existing_remote() got unexpected arguments: {', '.join(kwargs)}")
        return cls(uri=remote_path, format=format or guess_format(remote_path))

    # --- reading it ----------------------------------------------------------------------------

    @property
    def val(self) -> Any:
        """The in-memory frame this DataFrame wraps, if it was made from one."""
        return self._raw

    def open(self, dataframe_type: type) -> DataFrame:
        """Choose the frame type :meth:`all` and :meth:`iter` return (``pd.DataFrame``,
        ``pl.DataFrame``, ``pl.LazyFrame`` or ``pa.Table``); returns this DataFrame."""
        self._engine_for(dataframe_type)
        self._open_type = dataframe_type
        return self

    def all_sync(self) -> Any:
        """The whole frame, as the type given to :meth:`open`."""
        engine = self._engine_for(self._open_type)
        if self._raw is not None:
            return _convert(self._raw, engine, self._want)
        from flyte_types_dataframes.frames import load_frame

        return load_frame(engine, self._payload_known(), self._store, self._want, type(self))

    async def all(self) -> Any:
        """:meth:`all_sync` without blocking the event loop."""
        return await asyncio.to_thread(self.all_sync)

    def iter(self, batch_rows: int = 64 * 1024) -> FrameBatches:
        """The frame in pieces of at most ``batch_rows`` rows, each of the type given to :meth:`open`.

        Iterate it (``for part in df.iter()``) or, in async code, ``async for part in df.iter()``.
        """
        engine = self._engine_for(self._open_type)
        return FrameBatches(self, engine, batch_rows)

    # --- the wire ------------------------------------------------------------------------------

    def to_payload(self, ctx: ConversionContext) -> dict[str, Any]:
        """The literal payload, storing the wrapped frame first if it is not stored yet."""
        if self.uri is None:
            if self._raw is None:
                raise ValueError("This DataFrame has neither data nor a uri; make it with DataFrame.from_df(frame).")
            if ctx.store is None:
                raise ValueError("A DataFrame is passed through a data store, and this conversion has none.")
            from flyte_types_dataframes.engines import engine_for_value
            from flyte_types_dataframes.frames import store_frame

            engine = engine_for_value(self._raw)
            assert engine is not None  # checked by from_df
            payload = store_frame(engine, self._raw, ctx.store, ctx.new_path)
            self.uri, self.format, self.hash = payload["uri"], payload["format"], payload["hash"]
            self._columns, self._store = payload["columns"], ctx.store
        return self._payload_known()

    @classmethod
    def from_payload(cls, payload: dict[str, Any], store: DataStore | None, want: Columns | None = None) -> DataFrame:
        """The DataFrame a literal payload describes (nothing is read yet)."""
        df = cls(uri=payload["uri"], format=payload.get("format") or PARQUET, hash=payload.get("hash"))
        df._hash_by_user = payload.get(HASH_BY) == "user"
        df._columns = payload.get("columns")
        df._store, df._want = store, want
        return df

    def _payload_known(self) -> dict[str, Any]:
        if self.uri is None:
            raise ValueError("This DataFrame has no uri yet.")
        payload = {"uri": self.uri, "format": self.format, "hash": self.hash, "columns": self._columns}
        if self._hash_by_user:
            payload[HASH_BY] = "user"
        return payload

    def _engine_for(self, frame_type: type | None) -> Any:
        from flyte_types_dataframes.engines import engine_for_class, frame_type_names

        if frame_type is None:
            raise ValueError("Call open(frame_type) first, e.g. df.open(pandas.DataFrame).all_sync().")
        engine = engine_for_class(frame_type)
        if engine is None:
            raise TypeError(f"DataFrame.open() takes a frame type ({frame_type_names()}), got {frame_type!r}")
        return engine

    # --- plumbing ------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DataFrame):
            return NotImplemented
        if self.uri is None or other.uri is None:
            return self is other
        return (self.uri, self.format, self.hash) == (other.uri, other.format, other.hash)

    __hash__ = None  # type: ignore[assignment]  # mutable: the uri is set when the frame is stored

    def __repr__(self) -> str:
        if self.uri is None:
            return f"DataFrame(val={type(self._raw).__name__})"
        return f"DataFrame(uri={self.uri!r}, format={self.format!r}, hash={self.hash!r})"


class FrameBatches:
    """The pieces of a :class:`DataFrame`, iterable in sync and async code (``await`` gives it back,
    so Flyte 2's ``async for part in await df.iter()`` works too)."""

    def __init__(self, df: DataFrame, engine: Any, batch_rows: int) -> None:
        self._df, self._engine, self._rows = df, engine, batch_rows

    def __iter__(self) -> Iterator[Any]:
        import pyarrow as pa

        from flyte_types_dataframes.frames import arrow_of
        from flyte_types_dataframes.storage import iter_batches

        df, engine = self._df, self._engine
        if df._raw is not None:
            _, table = arrow_of(df._raw)
            batches: Iterator[Any] = iter(table.to_batches(max_chunksize=self._rows))
        else:
            names = list(df._want.names) if df._want else None
            batches = iter_batches(df._payload_known()["uri"], df.format, df._store, names, self._rows,
                                   engine.pandas_metadata)
        for batch in batches:
            yield engine.from_arrow(pa.Table.from_batches([batch]), True)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._agen()

    async def _agen(self) -> AsyncIterator[Any]:
        it = iter(self)
        done = object()
        while (part := await asyncio.to_thread(next, it, done)) is not done:
            yield part

    def __await__(self) -> Generator[Any, None, FrameBatches]:
        if False:  # pragma: no cover - makes this a generator without suspending
            yield
        return self


def _convert(raw: Any, engine: Any, want: Columns | None) -> Any:
    """An in-memory frame as ``engine``'s type (only ``want`` columns, if given)."""
    if want is None and isinstance(raw, engine.py_type):
        return raw
    from flyte_types_dataframes.columns import check_columns
    from flyte_types_dataframes.frames import arrow_of, drop_pandas_index, pandas_index_columns

    source, table = arrow_of(raw)
    if want is not None:
        check_columns(source.columns(raw), want, DataFrame, "the frame")
        index = pandas_index_columns(table) if engine.pandas_metadata else []
        table = table.select([*want.names, *index])
    if not engine.pandas_metadata:
        table, _ = drop_pandas_index(table)
    return engine.from_arrow(table, False)


def _destination(remote_destination: str | None) -> str:
    if remote_destination:
        return remote_destination + new_name() if remote_destination.endswith("/") else remote_destination
    from flyte_core.extend import current_context

    ctx = current_context()
    if ctx is not None and ctx.raw_data_path:
        return f"{ctx.raw_data_path.rstrip('/')}/{new_name()}"
    return local_scratch(new_name())
