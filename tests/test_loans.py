"""Store folders borrowed on first write (``flyte_core.runtime.loans``), as a warm worker uses them:
the borrow happens once, before the first write under its folder, whichever thread writes first;
paths outside it never wait; a failure reaches every writer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from flyte_core.runtime import loans
from flyte_core.types.transformer import ConversionContext


@pytest.fixture(autouse=True)
def nothing_left() -> Iterator[None]:
    yield
    assert not loans._pending, "a test left a folder registered"


def test_without_a_registered_folder_a_path_is_writable_as_it_is() -> None:
    assert loans.writable("/store/runs/r1/a0/report.html") == "/store/runs/r1/a0/report.html"


def test_the_first_write_under_a_folder_borrows_it_once() -> None:
    borrowed: list[str] = []
    loans.lend_on_write("/store/runs/r1/a1/", lambda: borrowed.append("a1"))
    try:
        assert loans.writable("/store/runs/r1/a10/x") == "/store/runs/r1/a10/x"  # a sibling, not inside
        assert loans.writable("/store/runs/r1/a1") == "/store/runs/r1/a1"
        assert loans.writable("/store/runs/r1/a1/checkpoint-1") == "/store/runs/r1/a1/checkpoint-1"
        assert borrowed == ["a1"]
    finally:
        loans.forget("/store/runs/r1/a1")


def test_writers_in_other_threads_wait_for_the_borrow() -> None:
    started, release = threading.Event(), threading.Event()
    calls: list[float] = []

    def borrow() -> None:
        calls.append(time.monotonic())
        started.set()
        release.wait(5)

    loans.lend_on_write("file:///store/r1/data/a2-1", borrow)
    done: list[str] = []
    first = threading.Thread(target=lambda: done.append(loans.writable("file:///store/r1/data/a2-1/1.json")))
    first.start()
    assert started.wait(5)
    second = threading.Thread(target=lambda: done.append(loans.writable("file:///store/r1/data/a2-1/2.json")))
    second.start()
    time.sleep(0.2)
    assert done == []  # both wait while the folder is being lent
    release.set()
    first.join(5)
    second.join(5)
    assert sorted(done) == ["file:///store/r1/data/a2-1/1.json", "file:///store/r1/data/a2-1/2.json"]
    assert len(calls) == 1


def test_a_folder_that_cannot_be_borrowed_fails_every_write_under_it() -> None:
    def refuse() -> None:
        time.sleep(0.2)
        raise OSError("the host is gone")

    loans.lend_on_write("/store/r1/a3", refuse)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            loans.writable("/store/r1/a3/report.html")
        except OSError as e:
            errors.append(e)

    threads = [threading.Thread(target=write) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    loans.forget("/store/r1/a3")
    assert len(errors) == 3 and all("the host is gone" in str(e) for e in errors)


def test_a_forgotten_folder_is_never_borrowed() -> None:
    loans.lend_on_write("/store/r1/a4", lambda: pytest.fail("borrowed after its attempt ended"))
    loans.forget("/store/r1/a4")
    assert loans.writable("/store/r1/a4/x") == "/store/r1/a4/x"


def test_fresh_store_paths_borrow_their_prefix() -> None:
    borrowed: list[str] = []
    loans.lend_on_write("/store/r1/data/a5-1", lambda: borrowed.append("data"))
    try:
        ctx = ConversionContext(store=None, prefix="/store/r1/data/a5-1", writable=loans.writable)
        assert ctx.new_path(".json") == "/store/r1/data/a5-1/1.json"
        assert ctx.new_path(".json") == "/store/r1/data/a5-1/2.json"
        assert borrowed == ["data"]
        # A context without the hook (every process but a warm worker's) hands paths out directly.
        assert ConversionContext(prefix="/store/r1/data/a6-1").new_path() == "/store/r1/data/a6-1/1"
    finally:
        loans.forget("/store/r1/data/a5-1")
