"""Small public registries that plugins fill through ``flyte_register_*`` hooks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from flyte_core.errors.core import PluginError

K = TypeVar("K")
V = TypeVar("V")


class Registry(Generic[K, V]):
    """Name (or key) to value, remembering which plugin added each entry.

    ``kind`` is what the entries are ("backend", "task kind"), used in messages.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[K, tuple[V, str]] = {}
        self._current_plugin = "<unknown>"

    def add(self, key: K, value: V) -> None:
        """Register ``value`` under ``key``; a duplicate is an error naming both plugins."""
        if key in self._items:
            other = self._items[key][1]
            raise PluginError(
                f"{self.kind} '{key}' is registered twice: by plugin '{other}' and by plugin "
                f"'{self._current_plugin}'; uninstall one or block it with FLYTE_BLOCK_PLUGINS."
            )
        self._items[key] = (value, self._current_plugin)

    def get(self, key: K) -> V:
        """The value registered under ``key``; ``KeyError`` names the known keys."""
        try:
            return self._items[key][0]
        except KeyError:
            known = ", ".join(sorted(str(k) for k in self._items)) or "none"
            hint = self.missing_hint(key)
            raise PluginError(f"No {self.kind} named '{key}'; known: {known}.{f' To use it, {hint}.' if hint else ''}"
                              ) from None

    def missing_hint(self, key: K) -> str | None:
        """What to install to get ``key``, when it is known to come with some plugin."""
        return None

    def find(self, key: K) -> V | None:
        """The value under ``key`` or None."""
        item = self._items.get(key)
        return item[0] if item else None

    def names(self) -> list[K]:
        """Registered keys, in registration order."""
        return list(self._items)

    def owner(self, key: K) -> str:
        """Name of the plugin that registered ``key``."""
        return self._items[key][1]

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def _set_plugin(self, name: str) -> None:
        self._current_plugin = name
