"""Cache policies: how a cached task's version is computed (``flyte.Cache(policies=...)``).

A policy turns the task function (and its image) into a version string; the cache key holds the
version, so a policy decides which changes invalidate cached outputs. Without policies, or with
``policies=[FunctionBodyPolicy()]``, the version is a hash of the function's source and of the
same-module functions it calls. ``Cache(version_override=...)`` bypasses policies altogether.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import re
import types
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import attrs


@attrs.frozen
class VersionParameters:
    """What a policy may hash: the task function and the image of its environment."""

    func: Callable[..., Any] | None
    image: Any = None
    code_bundle: Any = None


@runtime_checkable
class CachePolicy(Protocol):
    """Anything with ``get_version(salt, params) -> str`` is a cache policy."""

    def get_version(self, salt: str, params: VersionParameters) -> str:
        """A version string for ``params.func``; equal strings share cached outputs."""
        ...


def _source(fn: Any) -> str:
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):  # no source (REPL, C function): fall back to the bytecode
        code = getattr(fn, "__code__", None)
        return repr(code.co_code) if code is not None else repr(fn)
    return dedented(source)


def dedented(source: str) -> str:
    """``textwrap.dedent(source)``: the text the version hashes (unchanged, or cached outputs would
    miss after an upgrade), without importing textwrap for a module-level function (its import
    compiles regular expressions: a cost on every cold start of a cached task)."""
    if source[:1] in (" ", "\t"):  # a method or nested function
        import textwrap

        return textwrap.dedent(source)
    # Unindented: dedent only empties the lines holding nothing but blanks.
    blank_only = " \n" in source or "\t\n" in source or source[-1:] in (" ", "\t")
    return re.sub(r"(?m)^[ \t]+$", "", source) if blank_only else source


@functools.lru_cache(maxsize=1024)
def function_body_hash(fn: Any) -> str:
    """A hash of ``fn``'s source and of the same-module functions it calls by name."""
    h = hashlib.sha256(_source(fn).encode())
    module = getattr(fn, "__module__", None)
    code = getattr(fn, "__code__", None)
    # Same-module helpers the task calls by name are part of what it computes.
    for name in sorted(set(code.co_names) if code is not None else ()):
        dep = fn.__globals__.get(name)
        if isinstance(dep, types.FunctionType) and dep.__module__ == module and dep is not fn:
            h.update(name.encode())
            h.update(_source(dep).encode())
    return h.hexdigest()[:16]


class FunctionBodyPolicy:
    """The default policy: the version changes when the function's source, or the source of a
    same-module function it calls, changes (the salt is mixed in)."""

    def get_version(self, salt: str, params: VersionParameters) -> str:
        """The body hash of ``params.func`` with ``salt``; empty without a function."""
        if params.func is None:
            return ""
        return hashlib.sha256(f"{function_body_hash(params.func)}\0{salt}".encode()).hexdigest()

    def __repr__(self) -> str:
        return "FunctionBodyPolicy()"


def get_default_policies() -> list[CachePolicy]:
    """The policies a Cache uses when it names none."""
    return [FunctionBodyPolicy()]


def to_policies(value: Any) -> tuple[CachePolicy, ...] | None:
    """``Cache.policies`` as a tuple (a single policy, a list of them, or None for the default)."""
    if value is None:
        return None
    items = list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]
    for p in items:
        if not isinstance(p, CachePolicy):
            raise TypeError(f"Cache policies must have a get_version(salt, params) method, got {p!r}")
    return tuple(items)


def policies_version(policies: Sequence[CachePolicy], salt: str, params: VersionParameters, task: str) -> str:
    """The version the policies give together (their versions, concatenated and hashed)."""
    parts = []
    for policy in policies:
        try:
            parts.append(policy.get_version(salt, params))
        except Exception as e:
            raise ValueError(f"Task '{task}': cache policy {policy!r} failed to compute a version: {e}") from e
    return hashlib.sha256("".join(parts).encode()).hexdigest()[:16]


__all__ = ["CachePolicy", "FunctionBodyPolicy", "VersionParameters", "function_body_hash", "get_default_policies",
           "policies_version", "to_policies"]
