"""Dates and times: ``datetime`` (always read back as an aware UTC value, as Flyte 2 does), ``date`` and
``timedelta``."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flyte_core.types.common import mismatch
from flyte_core.types.engine import TypeEngine
from flyte_core.types.transformer import ConversionContext, Converter


class DateTimeT:
    """``datetime`` as ISO 8601 text in UTC. As in Flyte 2, a naive value is taken to be UTC and every value
    is read back aware, in UTC (``12:00+02:00`` arrives as ``10:00+00:00``, the same instant)."""

    name = "datetime"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        def accepts(v: Any) -> bool:
            return isinstance(v, dt.datetime)

        def to_literal(v: Any, _ctx: ConversionContext) -> str:
            if not accepts(v):
                raise mismatch(hint, v)
            return str(as_utc(v).isoformat())

        def to_python(p: str, _ctx: ConversionContext) -> dt.datetime:
            # as_utc too: literals written before datetimes were normalised may be naive or offset.
            return as_utc(dt.datetime.fromisoformat(p))

        return Converter(self.name, self.version, to_literal, to_python, accepts, {"type": "datetime"},
                         py_type=dt.datetime, from_cli=dt.datetime.fromisoformat,
                         cli_form="ISO 8601, e.g. 2026-01-31T12:00:00+00:00 (no offset: UTC)")


def as_utc(value: dt.datetime) -> dt.datetime:
    """``value`` as an aware UTC datetime; a naive one is taken to be UTC already."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


class DateT:
    """``date`` as ISO 8601 text (``2026-01-31``)."""

    name = "date"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        def accepts(v: Any) -> bool:
            return isinstance(v, dt.date) and not isinstance(v, dt.datetime)

        def to_literal(v: Any, _ctx: ConversionContext) -> str:
            if not accepts(v):
                raise mismatch(hint, v)
            return str(v.isoformat())

        def to_python(p: str, _ctx: ConversionContext) -> dt.date:
            return dt.date.fromisoformat(p)

        return Converter(self.name, self.version, to_literal, to_python, accepts, {"type": "date"},
                         py_type=dt.date, from_cli=dt.date.fromisoformat, cli_form="ISO 8601, e.g. 2026-01-31")


_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 0.000001}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|us|w|d|h|m|s)")


def parse_duration(text: str) -> dt.timedelta:
    """``90``, ``1.5``, ``1h30m``, ``2d``, ``250ms`` or ISO 8601 ``PT1H30M`` as a timedelta."""
    s = text.strip()
    try:
        return dt.timedelta(seconds=float(s))
    except ValueError:
        pass
    body = s[2:] if s.upper().startswith("PT") else s[1:] if s.upper().startswith("P") else s
    body = body.lower().replace("t", "")
    parts = _DURATION.findall(body)
    if not parts or "".join(n + u for n, u in parts) != body:
        raise ValueError(f"{text!r} is not a duration; use seconds (90), 1h30m, 250ms or PT1H30M")
    return dt.timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in parts))


class TimeDeltaT:
    """``timedelta`` as [days, seconds, microseconds], exact."""

    name = "timedelta"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        def accepts(v: Any) -> bool:
            return isinstance(v, dt.timedelta)

        def to_literal(v: Any, _ctx: ConversionContext) -> list[int]:
            if not accepts(v):
                raise mismatch(hint, v)
            return [v.days, v.seconds, v.microseconds]

        def to_python(p: list[int], _ctx: ConversionContext) -> dt.timedelta:
            return dt.timedelta(days=p[0], seconds=p[1], microseconds=p[2])

        return Converter(self.name, self.version, to_literal, to_python, accepts, {"type": "timedelta"},
                         py_type=dt.timedelta, from_cli=parse_duration, cli_form="seconds, 1h30m or PT1H30M")
