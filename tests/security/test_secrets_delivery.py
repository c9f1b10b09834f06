"""Secrets reach exactly the tasks that declare them, and their values never reach the run store."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import flyte
from flyte_core.security.masking import SecretMask
from flyte_core.security.masking import mask as process_mask
from flyte_core.security.secrets import LocalSecretStore
from flyte_core.worker.environment import worker_environment

HERE = Path(__file__).parent
VALUE = "s3cr3t-VALUE-42"


@pytest.fixture
def tasks(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.syspath_prepend(str(HERE))
    monkeypatch.setenv("FLYTE_SECRET_API_KEY", VALUE)
    monkeypatch.setenv("MY_CLOUD_TOKEN", "caller-credential")
    import secret_tasks

    flyte.init(backend="local-process", root_dir=str(HERE))
    yield secret_tasks
    process_mask.clear()
    sys.modules.pop("secret_tasks", None)


def test_a_task_that_declares_no_secret_sees_none_of_the_callers(tasks: object) -> None:
    seen = flyte.run(tasks.environment).outputs()[0]  # type: ignore[attr-defined]
    assert not any(k.startswith("FLYTE_SECRET_") for k in seen)
    assert "MY_CLOUD_TOKEN" not in seen and "API_KEY" not in seen
    assert VALUE not in "".join(seen.values())
    assert "PATH" in seen  # a worker can still find its programs


def test_a_declared_secret_arrives_and_is_masked_in_logs_and_errors(tasks: object) -> None:
    run = flyte.run(tasks.uses_secret)  # type: ignore[attr-defined]
    assert run.outputs()[0] == "ok"
    lines = [line.line for line in run.logs()]
    assert "the key is ***" in lines and not any(VALUE in line for line in lines)
    with pytest.raises(flyte.errors.RuntimeUserError) as exc:
        flyte.run(tasks.leaks_in_error)  # type: ignore[attr-defined]
    assert VALUE not in str(exc.value) and "bad key ***" in str(exc.value)
    stored = exc.value.run.record.error  # type: ignore[attr-defined]
    assert VALUE not in stored.message + stored.traceback


def test_a_missing_secret_names_the_task_and_how_to_set_it(tasks: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLYTE_SECRET_API_KEY")
    with pytest.raises(flyte.errors.RuntimeUserError, match=r"sec_given.uses_secret' needs secret 'api-key'.*"
                       r"FLYTE_SECRET_API_KEY"):
        flyte.run(tasks.uses_secret)  # type: ignore[attr-defined]
    LocalSecretStore().set("api-key", VALUE)
    assert flyte.run(tasks.uses_secret).outputs()[0] == "ok"  # type: ignore[attr-defined]


def test_a_file_secret_without_a_container_says_what_to_do(tasks: object) -> None:
    with pytest.raises(flyte.errors.RuntimeUserError, match="only container backends"):
        flyte.run(tasks.wants_file)  # type: ignore[attr-defined]


def test_mask_hides_every_known_value_longest_first() -> None:
    m = SecretMask()
    assert m("nothing to hide") == "nothing to hide"
    m.add("abcd")
    m.add("abcdef-long")
    m.add("no")  # too short to mask
    assert m("x abcdef-long y abcd z no") == "x *** y *** z no"
    m.add("line-one\nline-two")
    assert m("line-two") == "***"


def test_worker_environment_keeps_basics_and_store_credentials_only() -> None:
    source = {"PATH": "/bin", "LC_ALL": "C", "FLYTE_SECRET_X": "v", "FLYTE_DISABLE_PLUGIN_AUTOLOAD": "1",
              "AWS_SECRET_ACCESS_KEY": "k", "GITHUB_TOKEN": "t"}
    local = worker_environment("/data", {"A": "1"}, source=source)
    assert local == {"PATH": "/bin", "LC_ALL": "C", "FLYTE_DISABLE_PLUGIN_AUTOLOAD": "1", "A": "1"}
    remote = worker_environment("s3://bucket/x", source=source)
    assert remote["AWS_SECRET_ACCESS_KEY"] == "k" and "GITHUB_TOKEN" not in remote
