"""flyte.report: tabs, log/replace/flush, the rendered page, no-ops outside report tasks, and where
the report lands in the data store."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest

import flyte
import flyte.report
from flyte_core.run.session import Session
from flyte_core.runtime import context, report

env = flyte.TaskEnvironment(name="reports")


@env.task(report=True)
def with_report(n: int) -> int:
    flyte.report.log("<h2>Numbers</h2>")
    for i in range(n):
        flyte.report.log(f"<p>n={i}</p>")
    flyte.report.get_tab("Extra").log("<b>extra tab</b>")
    return n


@env.task(report=True)
async def async_report(text: str) -> str:
    await flyte.report.replace.aio("<p>first</p>")
    await flyte.report.replace.aio(f"<p>{text}</p>")
    await flyte.report.log.aio("<p>appended</p>", do_flush=True)
    return text


@env.task(report=True)
def report_then_fail() -> None:
    flyte.report.log("<p>written before the failure</p>")
    raise ValueError("task failed after reporting")


@env.task
def no_report() -> str:
    flyte.report.log("<p>ignored</p>")
    flyte.report.flush()
    return type(flyte.report.current_report()).__name__ + ":" + flyte.report.current_report().name


@env.task
def parent_of_report() -> int:
    return with_report(2)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    s = Session(backend="local", data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"),
                root_dir=tmp_path)
    try:
        yield s
    finally:
        s.close()


def stored_report(session: Session, run: str, action: str) -> str:
    return session.data.get_bytes(report.report_url(session.data.url("runs", run), action)).decode()


def make_ctx(base: str, action: str = "a0") -> context.TaskContext:
    return context.TaskContext(action=context.ActionID(action, "r1"), attempt=1, task_name="env.t", mode="local",
                               backend="local", raw_data_path=f"{base}/raw", run_base_dir=base)


# --- the model ---------------------------------------------------------------------------------------

def test_tabs_log_replace_and_lookup() -> None:
    r = report.Report("env.t")
    assert list(r.tabs) == ["main"] and not r.has_content()
    r.get_tab("main").log("<p>a</p>")
    r.get_tab("main").log("<p>b</p>")
    assert r.get_tab("main").get_html() == "<p>a</p>\n<p>b</p>"
    r.get_tab("main").replace("<p>c</p>")
    assert r.get_tab("main").content == ["<p>c</p>"]
    assert r.get_tab("Plots") is r.get_tab("Plots")
    with pytest.raises(ValueError, match="no tab named 'Missing'"):
        r.get_tab("Missing", create_if_missing=False)
    assert r.has_content()


def test_page_is_standalone_with_css_tabs_and_escaped_names() -> None:
    r = report.Report("env.<t>")
    r.get_tab("main").log("<p id='m'>main text</p>")
    r.get_tab("A & <B>").log("<i>second</i>")
    page = r.get_final_report()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<p id='m'>main text</p>" in page and "<i>second</i>" in page  # fragments are HTML
    assert "A &amp; &lt;B&gt;" in page and "env.&lt;t&gt;" in page  # names are text
    assert page.count('type="radio"') == 2 and "checked" in page
    assert "<script" not in page and "http://" not in page and "https://" not in page


def test_empty_main_tab_is_left_out_when_other_tabs_exist() -> None:
    r = report.Report("t")
    r.get_tab("Only").log("x")
    page = r.get_final_report()
    assert ">main<" not in page and ">Only<" in page
    assert "This report is empty" in report.Report("t").get_final_report()


# --- outside tasks ------------------------------------------------------------------------------------------

def test_calls_outside_a_task_are_harmless(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    caplog.set_level("DEBUG", logger="flyte")
    flyte.report.log("<p>x</p>", do_flush=True)
    flyte.report.replace("<p>y</p>")
    flyte.report.flush()
    asyncio.run(flyte.report.log.aio("<p>z</p>"))
    asyncio.run(flyte.report.flush.aio())
    assert flyte.report.current_report().name == "dummy"
    assert flyte.report.current_report() is not flyte.report.current_report()  # throwaway each time
    assert flyte.report.get_tab("t").name == "t"
    assert "outside a report=True task" in caplog.text
    assert not list(tmp_path.rglob("report.html"))


def test_task_without_report_true_writes_nothing(session: Session) -> None:
    run = session.run(no_report)
    assert run.outputs()[0] == "Report:dummy"
    assert not list(Path(session.data.url("runs", run.name)).rglob("report.html"))


# --- inside tasks --------------------------------------------------------------------------------------------

def test_report_lands_at_run_base_dir_action_report_html(session: Session) -> None:
    run = session.run(with_report, n=3)
    path = Path(session.data.url("runs", run.name)) / "a0" / "report.html"
    assert path.is_file()
    page = path.read_text()
    assert "<h2>Numbers</h2>" in page and "<p>n=2</p>" in page and "<b>extra tab</b>" in page
    assert ">Extra<" in page
    assert not list(path.parent.glob("*.tmp"))


def test_nested_report_belongs_to_its_own_action(session: Session) -> None:
    run = session.run(parent_of_report)
    base = Path(session.data.url("runs", run.name))
    assert not (base / "a0" / "report.html").exists()
    assert "<p>n=1</p>" in (base / "a0.1" / "report.html").read_text()


def test_async_forms_and_explicit_flush(session: Session) -> None:
    run = session.run(async_report, text="hello <world>")
    page = stored_report(session, run.name, "a0")
    assert "<p>hello <world></p>" in page and "<p>appended</p>" in page and "first" not in page


def test_report_is_written_when_the_task_fails(session: Session) -> None:
    with pytest.raises(flyte.errors.RuntimeUserError) as ei:
        session.run(report_then_fail)
    run = ei.value.run  # type: ignore[attr-defined]
    assert "written before the failure" in stored_report(session, run.name, "a0")


def test_begin_finish_on_an_fsspec_url() -> None:
    base = "memory://flyte-report-test/runs/r1"
    ctx = make_ctx(base, "a0.2")
    with report.action_report(ctx, enabled=True) as rep, context.use(ctx):
        assert rep is flyte.report.current_report()
        flyte.report.log("<p>in memory</p>")
        flyte.report.flush()
        assert "in memory" in fsspec.open(f"{base}/a0.2/report.html", "rt").open().read()
        flyte.report.get_tab("two").log("<p>second tab</p>")
    with fsspec.open(f"{base}/a0.2/report.html", "rt") as f:
        assert "second tab" in f.read()  # the final flush on exit
    with context.use(ctx):
        assert flyte.report.current_report().name == "dummy"  # forgotten after the action


def test_disabled_action_report_is_a_no_op(tmp_path: Path) -> None:
    ctx = make_ctx(str(tmp_path / "run"))
    with report.action_report(ctx, enabled=False) as rep, context.use(ctx):
        assert rep is None
        flyte.report.log("<p>x</p>", do_flush=True)
    assert not (tmp_path / "run").exists()


def test_failed_final_write_is_logged_not_raised(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    ctx = make_ctx(str(blocker))  # <file>/a0/report.html cannot be created
    with report.action_report(ctx, enabled=True), context.use(ctx):
        flyte.report.log("<p>x</p>")
    assert "Could not write the report of action a0" in caplog.text
