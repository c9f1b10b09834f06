"""Task code for the secrets tests (imported by worker processes, so it lives at module level)."""

from __future__ import annotations

import os

import flyte

env = flyte.TaskEnvironment(name="sec")
with_secret = flyte.TaskEnvironment(name="sec_given", secrets=[flyte.Secret(key="api-key")])
with_file = flyte.TaskEnvironment(name="sec_file", secrets=[flyte.Secret(key="api-key", mount="/etc/flyte/secrets")])


@env.task
def environment() -> dict[str, str]:
    return dict(os.environ)


@with_secret.task
def uses_secret() -> str:
    value = os.environ["API_KEY"]
    print(f"the key is {value}")
    return "ok"


@with_secret.task
def leaks_in_error() -> str:
    raise ValueError(f"bad key {os.environ['API_KEY']}")


@with_file.task
def wants_file() -> str:
    return "never"
