"""The UI in a real headless browser: Debian's Chromium driven by Playwright, against the app served
by uvicorn on 127.0.0.1. Skipped, with the reason, when Chromium or Playwright is missing."""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ui_pipeline as p
from flyte_ui.app import create_app
from ui_support import Runs, ServerThread

from flyte_core.extend import Phase, RunOptions

CHROMIUM = "/usr/bin/chromium"
#: Flags for a sandboxed, offline machine: no first-run UI, no background calls to the network.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: A copy of the run page's screenshot to look at by hand.
SCREENSHOT_COPY = Path("/tmp/flyte-ui.png")

if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run "
                "the browser tests", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (no browser download "
                                     "needed: the tests use Debian's chromium)")
expect = playwright_api.expect

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module (Playwright gives it a new empty profile)."""
    with playwright_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page; console errors of the UI's own scripts fail the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.set_default_timeout(10_000)
    try:
        yield pg
    finally:
        context.close()
    assert not errors, f"errors in the page: {errors}"


@pytest.fixture
def server(runs: Runs) -> Iterator[ServerThread]:
    with ServerThread(create_app(runs.session)) as srv:
        yield srv


def test_runs_list_run_page_details_report_and_timeline(
    page: Any, server: ServerThread, runs: Runs, tmp_path: Path
) -> None:
    page.goto(server.url + "/")
    rows = page.locator("#runs-rows tr.run")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(runs.failed)
    expect(rows.nth(0)).to_contain_text("failed")
    expect(rows.nth(1)).to_contain_text(runs.ok)
    expect(rows.nth(1)).to_contain_text("succeeded")
    expect(rows.nth(1).locator(".phase")).to_have_class("phase phase-succeeded")

    page.get_by_role("link", name=runs.ok).click()
    page.wait_for_url(f"**/runs/{runs.ok}")
    expect(page.locator("#run-phase")).to_have_text("✓ succeeded")
    actions = runs.session.runs.get_actions(runs.ok)
    expect(page.locator("#tree .row.action")).to_have_count(len(actions))
    expect(page.locator("#tree .row.group")).to_contain_text("squares")
    expect(page.locator("#timeline .bar")).to_have_count(len(actions))  # one bar per action

    summary = next(a.action for a in actions if a.task == "uitest.summarize")
    page.locator(f'#tree .row[data-action="{summary}"]').click()
    details = page.locator("#details")
    expect(details.locator("h2")).to_have_text(f"{summary} · uitest.summarize")
    expect(details).to_contain_text('"total": 5')  # the output, readably
    expect(page.locator("#d-logs")).to_have_text("summarizing 3 values")
    report = page.frame_locator("iframe.report")
    expect(report.get_by_role("heading", name="Summary")).to_be_visible()
    expect(report.get_by_text("total is 5")).to_be_visible()
    report.get_by_text("Details").click()  # the CSS tabs work inside the sandboxed frame
    expect(report.get_by_text("detail one")).to_be_visible()
    expect(page.locator(f'#tree .row[data-action="{summary}"]')).to_have_class("row action phase-succeeded selected")

    boom = next(a.action for a in actions if a.task == "uitest.explode")
    page.locator(f'#timeline .tl-row[data-action="{boom}"] .bar').click()  # bars select too
    expect(details.locator(".error-msg")).to_contain_text("bad <input> 3")  # shown as text
    expect(page.locator("#d-logs")).to_have_text("about to fail on 3")
    expect(page.locator("iframe.report")).to_have_count(0)

    shot = tmp_path / "run.png"
    page.locator(f'#tree .row[data-action="{summary}"]').click()
    expect(report.get_by_text("total is 5")).to_be_visible()
    page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    shutil.copyfile(shot, SCREENSHOT_COPY)


def test_a_run_page_shows_a_page_of_actions_and_links_the_next(page: Any, server: ServerThread, runs: Runs) -> None:
    actions = [a.action for a in runs.session.runs.get_actions(runs.ok)]
    page.goto(f"{server.url}/runs/{runs.ok}?limit=2")
    expect(page.locator("#tree .pager")).to_contain_text(f"actions 1\N{EN DASH}2 of {len(actions)}")
    expect(page.locator("#tree .row.action")).to_have_count(2)
    page.get_by_role("link", name="next 2 \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK}").click()
    page.wait_for_url(f"**/runs/{runs.ok}?offset=2&limit=2")
    expect(page.locator("#tree .pager")).to_contain_text(f"actions 3\N{EN DASH}4 of {len(actions)}")
    shown = page.locator("#tree .row.action").evaluate_all("rows => rows.map(r => r.dataset.action)")
    assert shown == actions[2:4]
    page.locator(f'#tree .row[data-action="{actions[2]}"]').click()  # an action of this page opens
    expect(page.locator("#details h2")).to_contain_text(actions[2])


def test_failed_run_page_shows_the_error_escaped(page: Any, server: ServerThread, runs: Runs) -> None:
    page.goto(f"{server.url}/runs/{runs.failed}")
    expect(page.locator("#run-phase")).to_have_text("✗ failed")
    expect(page.locator("#run-header .error-msg")).to_have_text("ValueError: bad <input> 7")
    expect(page.locator("#run-header pre")).to_contain_text("raise ValueError")
    assert page.locator("input").count() == 0  # "<input>" stayed text, not an element
    page.locator("#run-header .error a[data-action]").click()  # jump to the failing action
    expect(page.locator("#details h2")).to_have_text("a0.1 · uitest.explode")


def test_run_page_updates_live_until_the_run_ends(page: Any, server: ServerThread, runs: Runs) -> None:
    key = uuid.uuid4().hex
    p.GATES[key] = threading.Event()
    name = f"live-{key[:8]}"
    outcome: dict[str, Any] = {}

    def start() -> None:
        try:
            outcome["run"] = runs.session.run_with(RunOptions(name=name), p.waiter, (key,), {})
        except BaseException as e:  # reported by the assertion below
            outcome["error"] = e

    runner = threading.Thread(target=start, name="live-run")
    runner.start()
    try:
        deadline = time.monotonic() + 15
        while True:
            actions = runs.session.runs.get_actions(name)
            if actions and actions[0].phase is Phase.RUNNING:
                break
            assert time.monotonic() < deadline, "the live run did not start"
            time.sleep(0.05)

        page.goto(f"{server.url}/runs/{name}#a0")
        expect(page.locator("#run-phase")).to_have_text("● running")
        expect(page.locator("#tree .row.action")).to_contain_text("running")
        expect(page.locator("#d-logs")).to_have_text(f"waiting for {key}")
        page.evaluate("window.__notReloaded = true")

        p.GATES[key].set()
        expect(page.locator("#run-phase")).to_have_text("✓ succeeded", timeout=5_000)
        expect(page.locator("#tree .row.action")).to_contain_text("succeeded")
        expect(page.locator("#details")).to_contain_text(f"done {key}")
        expect(page.locator("#d-logs")).to_contain_text(f"released {key}")
        expect(page.locator("body")).to_have_class("terminal")  # and it stopped polling
        assert page.evaluate("window.__notReloaded") is True  # updated in place, not reloaded
    finally:
        p.GATES[key].set()
        runner.join(30)
        p.GATES.pop(key, None)
    assert "error" not in outcome, outcome
    assert not runner.is_alive()


def test_runs_list_refreshes_itself(page: Any, server: ServerThread, runs: Runs) -> None:
    page.goto(server.url + "/?phase=succeeded")
    before = page.locator("#runs-rows tr.run").count()
    name = f"later-{uuid.uuid4().hex[:8]}"
    runs.session.run_with(RunOptions(name=name), p.square, (3,), {})
    expect(page.locator("#runs-rows")).to_contain_text(name, timeout=6_000)
    expect(page.locator("#runs-rows tr.run")).to_have_count(before + 1)
    page.select_option("select[name=phase]", "failed")  # filters apply on change
    page.wait_for_url("**/?phase=failed*")
    expect(page.locator("#runs-rows tr.run")).to_have_count(1)
    expect(page.locator("#runs-rows")).to_contain_text(runs.failed)
