"""Configuration schemas: YAML mappings structured into attrs classes by cattrs, strictly.

A configuration value of the wrong type must never be coerced into something else (``namespace: 5``
becoming the namespace "5", ``keep_failed: "maybe"`` becoming True) or fail later as a traceback.
:func:`structure` checks every key and type when the file is read and raises one
:class:`~flyte_core.errors.core.ConfigError` line naming the key, the file and what is expected, before
anything is created anywhere. Backends validate their own ``backends.<name>`` section with it too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from flyte_core.errors.core import ConfigError

if TYPE_CHECKING:  # cattrs is imported when there is a mapping to check: most sections are empty
    from pathlib import Path

    import cattrs

T = TypeVar("T")

_TYPE_WORDS = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


class ConfigValueError(ConfigError):
    """A configuration key with a wrong type or value; ``key`` is its dotted path in the file."""

    def __init__(self, key: str, problem: str, source: Path | str | None = None) -> None:
        where = f"Config file '{source}'" if source else "Configuration"
        super().__init__(f"{where}: '{key}': {problem}.")
        self.key, self.problem, self.source = key, problem, source

    def located(self, source: Path | str) -> ConfigValueError:
        """The same error, naming the file it came from."""
        return ConfigValueError(self.key, self.problem, source)


class Invalid(ValueError):
    """A value an attrs validator refused; ``key`` is the attribute's name."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class _WrongType(TypeError):
    def __init__(self, expected: type, value: object) -> None:
        super().__init__(f"expected {_TYPE_WORDS[expected]}, got {value!r}")


def _strict_str(value: object, _: type) -> str:
    if not isinstance(value, str):
        raise _WrongType(str, value)
    return value


def _strict_int(value: object, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _WrongType(int, value)
    return value


def _strict_float(value: object, _: type) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _WrongType(float, value)
    return float(value)


def _strict_bool(value: object, _: type) -> bool:
    if not isinstance(value, bool):
        raise _WrongType(bool, value)
    return value


#: A YAML scalar, for values such as environment variables that become strings anyway.
Scalar = str | int | float | bool


def _scalar(value: object, _: type) -> Scalar:
    if not isinstance(value, str | int | float | bool):
        raise TypeError(f"expected a string or number, got {value!r}")
    return value


def _strict_str_list(value: object, _: type) -> list[str]:
    # cattrs would iterate a lone string into its characters.
    if not isinstance(value, list | tuple):
        raise TypeError(f"expected a list of strings, got {value!r}")
    return [_strict_str(v, str) for v in value]


@functools.cache
def _converter() -> cattrs.Converter:
    import cattrs

    conv = cattrs.Converter(forbid_extra_keys=True)
    for typ, hook in ((str, _strict_str), (int, _strict_int), (float, _strict_float), (bool, _strict_bool)):
        conv.register_structure_hook(typ, hook)
    conv.register_structure_hook(Scalar, _scalar)
    conv.register_structure_hook_func(lambda t: t == list[str], _strict_str_list)
    return conv


_KEY_SEP = "\x00"  # between a validator's attribute name and its message, inside _describe's result
_INDEX = re.compile(r"\[['\"]?([^'\"\]]*)['\"]?\]")


def _describe(exc: BaseException, _: type | None) -> str:
    from cattrs.errors import ForbiddenExtraKeysError

    if isinstance(exc, ForbiddenExtraKeysError):
        known = ", ".join(f.name for f in attrs.fields(exc.cl)) if attrs.has(exc.cl) else ""
        return f"unknown key(s) {', '.join(sorted(exc.extra_fields))}" + (f"; known keys: {known}" if known else "")
    if isinstance(exc, Invalid):
        return f"{exc.key}{_KEY_SEP}{exc}"
    if isinstance(exc, KeyError):
        return "required key missing"
    if isinstance(exc, _WrongType | ValueError) or str(exc).startswith("expected "):
        return str(exc)
    if isinstance(exc, TypeError | AttributeError):  # e.g. a list where a mapping belongs
        return "expected a mapping (key: value lines)"
    return f"invalid value ({exc})"


def structure(cls: type[T], data: object, *, section: str = "", source: Path | str | None = None) -> T:
    """``data`` (a parsed YAML mapping) as an instance of the attrs class ``cls``.

    ``section`` is where ``data`` sits in the file (``backends.local``), ``source`` the file; both
    only shape the error message. ``None`` values mean "the default" (YAML's empty ``key:``).
    """
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigValueError(section or "the top level", f"expected a mapping (key: value lines), got {data!r}",
                               source)
    cleaned = {k: v for k, v in data.items() if v is not None}
    if not cleaned:  # nothing given: the defaults (a class with required keys goes on to say which are missing)
        try:
            return cls()
        except TypeError:
            pass
        except Invalid as e:
            raise ConfigValueError(".".join(p for p in [section, e.key] if p), str(e), source) from None
    from cattrs.errors import ClassValidationError, IterableValidationError
    from cattrs.v import transform_error

    try:
        return _converter().structure(cleaned, cls)
    except (ClassValidationError, IterableValidationError) as e:
        first = transform_error(e, path="$", format_exception=_describe)[0]
        message, _, path = first.rpartition(" @ ")
        name, sep, rest = message.partition(_KEY_SEP)
        if sep:  # a validator's error: its attribute completes the path
            message, path = rest, f"{path}.{name}"
        path = _INDEX.sub(r".\1", path.removeprefix("$")).lstrip(".")
        key = ".".join(p for p in [section, path] if p) or "the top level"
        raise ConfigValueError(key, message, source) from None
    except Invalid as e:  # a validator of a top-level key (nested ones arrive wrapped, above)
        raise ConfigValueError(".".join(p for p in [section, e.key] if p), str(e), source) from None


def at_least(minimum: float) -> Any:
    """An attrs validator: the value (when not None) is at least ``minimum``."""

    def check(_: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
        if value is not None and value < minimum:
            raise Invalid(attribute.name, f"must be at least {minimum:g}, got {value!r}")

    return check


def one_of(*choices: str) -> Any:
    """An attrs validator: the value is one of ``choices``."""

    def check(_: object, attribute: attrs.Attribute[Any], value: str) -> None:
        if value not in choices:
            raise Invalid(attribute.name, f"must be one of {', '.join(choices)}, got {value!r}")

    return check
