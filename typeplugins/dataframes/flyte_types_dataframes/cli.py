"""Frames on the command line: ``flyte run file.py task --df data.parquet`` (or ``data.csv``, or a
URL such as ``s3://bucket/data.parquet``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from flyte_core.extend import type_name
from flyte_types_dataframes.columns import Columns, check_columns
from flyte_types_dataframes.storage import CSV, PARQUET, guess_format, parquet_columns, read_table

if TYPE_CHECKING:
    from flyte_types_dataframes.dataframe import DataFrame
    from flyte_types_dataframes.engines import Engine

#: What ``--help`` says a frame parameter takes.
CLI_FORM = "Parquet or CSV path"

_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")


def cli_source(text: str, hint: Any) -> tuple[str, str]:
    """The path or URL in ``text`` and its format; a ``ValueError`` if it is neither Parquet nor CSV
    or a local file that does not exist."""
    source = text.strip()
    if not source:
        raise ValueError(f"expected a {CLI_FORM} for {type_name(hint)}, got an empty string")
    if "://" not in source or source.startswith("file://"):
        source = os.path.abspath(os.path.expanduser(source.removeprefix("file://")))
        if not os.path.isfile(source):
            raise ValueError(f"expected a {CLI_FORM} for {type_name(hint)}, but {text!r} is not a file")
    fmt = guess_format(source)
    if fmt == PARQUET and not source.lower().endswith(_PARQUET_SUFFIXES) and not _looks_like_parquet(source):
        raise ValueError(
            f"expected a {CLI_FORM} for {type_name(hint)}, but {text!r} is neither "
            "(name it .parquet or .csv)"
        )
    return source, fmt


def read_cli_frame(text: str, engine: Engine, want: Columns | None, hint: Any) -> Any:
    """Read the Parquet or CSV file ``text`` names as ``engine``'s frame type (only the columns
    ``want`` names, which must all be there)."""
    source, fmt = cli_source(text, hint)
    where = f"the file {text!r}"
    if want is None:
        table = read_table(source, fmt, None, None, pandas_metadata=engine.pandas_metadata)
    elif fmt == CSV:
        table = read_table(source, fmt, None, None)
        check_columns(table.schema.names, want, hint, where)
        table = table.select(list(want.names))
    else:
        check_columns(parquet_columns(source), want, hint, where)
        table = read_table(source, fmt, None, list(want.names), pandas_metadata=engine.pandas_metadata)
    return engine.from_arrow(table, True)


def reference_cli_frame(text: str) -> DataFrame:
    """A ``DataFrame`` for the file ``text`` names: a remote URL is referenced where it is; a local
    file is read now, and stored in the run's data store when the task is called."""
    from flyte_types_dataframes.dataframe import DataFrame

    source, fmt = cli_source(text, DataFrame)
    if "://" in source:
        return DataFrame.from_existing_remote(source, format=fmt)
    return DataFrame.from_df(read_table(source, fmt, None))


def _looks_like_parquet(path: str) -> bool:
    """True if a local file starts with Parquet's magic bytes (remote files are trusted by name)."""
    if "://" in path:
        return True
    with open(path, "rb") as f:
        return f.read(4) == b"PAR1"


__all__ = ["CLI_FORM", "CSV", "cli_source", "read_cli_frame", "reference_cli_frame"]
