"""What a task declares it needs (``flyte.Secret``): the model only, so declaring secrets (and images that
mount them) does not load the providers (:mod:`flyte_core.security.secrets`) or the plugin machinery."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import TypeAlias

import attrs

#: What an environment variable name must look like (UPPER_SNAKE_CASE).
ENV_VAR_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


@attrs.frozen
class Secret:
    """A secret the task needs, by ``key`` (and optional ``group``), exposed as an env var or a file."""

    key: str
    group: str | None = None
    mount: str | os.PathLike[str] | None = None
    as_env_var: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.mount is not None and os.path.normpath(self.mount) != "/etc/flyte/secrets":
            raise ValueError(f"Secret '{self.key}': mount must be /etc/flyte/secrets, got {self.mount}")
        if self.mount is None and self.as_env_var is None:
            name = f"{self.group}_{self.key}" if self.group else self.key
            object.__setattr__(self, "as_env_var", name.replace("-", "_").upper())
        if self.as_env_var is not None and not ENV_VAR_NAME.match(self.as_env_var):
            raise ValueError(
                f"Secret '{self.key}': as_env_var {self.as_env_var!r} must be UPPER_SNAKE_CASE"
            )


SecretRequest: TypeAlias = "str | Secret | Sequence[str | Secret]"


def to_secrets(req: SecretRequest | None) -> tuple[Secret, ...]:
    """Normalise a secret request (a key, a Secret, or a list of them) to a tuple of Secrets."""
    if req is None:
        return ()
    items = [req] if isinstance(req, str | Secret) else list(req)
    return tuple(Secret(key=s) if isinstance(s, str) else s for s in items)
