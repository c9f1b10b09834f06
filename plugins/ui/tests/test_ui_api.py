"""The UI's JSON API, pages and report route, through starlette's TestClient, over real runs; the
tree and timeline models; the ``flyte ui`` command."""

from __future__ import annotations

import json
import re
import socket
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ui_support import Runs

pytest.importorskip("httpx", reason="starlette's TestClient needs httpx (pip install 'flyte-ui[test]')")

with warnings.catch_warnings():
    # Newer Starlette prefers the httpx2 package and warns when it finds httpx; either works.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from flyte_ui import model
from flyte_ui.app import create_app

from flyte_core.testing import flyte_cli


@pytest.fixture(scope="module")
def client(runs: Runs) -> Iterator[TestClient]:
    with TestClient(create_app(runs.session), base_url="http://127.0.0.1") as c:
        yield c


def by_task(actions: list[dict[str, Any]], short: str) -> list[dict[str, Any]]:
    return [a for a in actions if a["short_task"] == short]


# --- JSON ---------------------------------------------------------------------------------------------

def test_runs_newest_first_with_phases(client: TestClient, runs: Runs) -> None:
    body = client.get("/api/runs").json()
    assert [(r["name"], r["phase"]) for r in body["runs"]] == [(runs.failed, "failed"), (runs.ok, "succeeded")]
    ok = body["runs"][1]
    assert ok["task"] == "uitest.pipeline" and ok["backend"] == "local" and ok["terminal"]
    assert ok["duration"] > 0 and ok["duration_text"].endswith(("ms", "s"))


def test_runs_filters(client: TestClient, runs: Runs) -> None:
    assert [r["name"] for r in client.get("/api/runs?phase=failed").json()["runs"]] == [runs.failed]
    assert [r["name"] for r in client.get("/api/runs?task=uitest.pipeline").json()["runs"]] == [runs.ok]
    assert client.get("/api/runs?phase=running").json()["runs"] == []
    bad = client.get("/api/runs?phase=nonsense")
    assert bad.status_code == 400 and "nonsense" in bad.json()["error"] and "succeeded" in bad.json()["error"]
    assert "'limit' must be a whole number" in client.get("/api/runs?limit=x").json()["error"]


def test_run_with_actions(client: TestClient, runs: Runs) -> None:
    body = client.get(f"/api/runs/{runs.ok}").json()
    assert body["run"]["phase"] == "succeeded" and "html" not in body
    actions = body["actions"]
    assert actions[0]["action"] == "a0" and actions[0]["parent"] is None
    squares = by_task(actions, "square")
    assert len(squares) == 3 and {a["group"] for a in squares} == {"squares"}
    assert [a["outputs"][0]["value"] for a in squares] == ["0", "1", "4"]
    assert squares[2]["inputs"] == [{"name": "x", "type": squares[2]["inputs"][0]["type"], "value": "2",
                                     "literal": squares[2]["inputs"][0]["literal"]}]
    (boom,) = by_task(actions, "explode")
    assert boom["phase"] == "failed" and "bad <input> 3" in boom["error"]["message"]
    assert "raise ValueError" in boom["error"]["traceback"]
    (flaky,) = by_task(actions, "flaky")
    assert flaky["attempts"] == 2 and flaky["phase"] == "succeeded"
    (summary,) = by_task(actions, "summarize")
    assert summary["has_report"] and not boom["has_report"]
    out = summary["outputs"][0]
    assert '"total": 5' in out["value"] and '"count": 3' in out["value"]  # the payload, readably
    assert '"d"' in out["literal"]  # and the whole literal


def test_run_actions_are_read_a_page_at_a_time(client: TestClient, runs: Runs) -> None:
    whole = client.get(f"/api/runs/{runs.ok}?html=1").json()
    total = len(whole["actions"])
    assert total > 4 and whole["page"] == {"offset": 0, "limit": 1000, "total": total, "first": 1,
                                           "last": total, "prev": None, "next": None}
    assert "pager" not in whole["html"]["tree"]  # everything fits: no pager
    first = client.get(f"/api/runs/{runs.ok}?html=1&limit=2").json()
    assert first["actions"] == whole["actions"][:2] and first["page"]["next"] == 2 and first["page"]["prev"] is None
    tree = first["html"]["tree"]
    assert f"actions 1\N{EN DASH}2 of {total}" in tree and 'href="?offset=2&amp;limit=2"' in tree
    assert first["html"]["timeline"].count('class="bar ') == 2
    second = client.get(f"/api/runs/{runs.ok}?offset=2&limit=2").json()
    assert second["actions"] == whole["actions"][2:4] and second["page"]["prev"] == 0
    past = client.get(f"/api/runs/{runs.ok}?html=1&offset={total + 5}&limit=2").json()
    assert past["actions"] == [] and f"no actions past {total}" in past["html"]["tree"]
    bad = client.get(f"/api/runs/{runs.ok}?limit=many")
    assert bad.status_code == 400 and "'limit' must be a whole number" in bad.json()["error"]
    page = client.get(f"/runs/{runs.ok}?offset=1&limit=3").text
    assert f"actions 2\N{EN DASH}4 of {total}" in page and page.count('class="bar ') == 3
    initial = json.loads(re.search(r'<script type="application/json" id="initial">(.*?)</script>', page, re.S)[1])
    assert (initial["page"]["offset"], initial["page"]["limit"]) == (1, 3)  # the script polls the same page
    assert client.get(f"/runs/{runs.ok}?limit=many").status_code == 200  # a bad number: the first page


def test_run_error_and_unknown_run(client: TestClient, runs: Runs) -> None:
    run = client.get(f"/api/runs/{runs.failed}").json()["run"]
    assert run["phase"] == "failed" and "bad <input> 7" in run["error"]["message"]
    assert run["error"]["action"] == "a0.1"
    assert client.get("/api/runs/nope").status_code == 404
    assert client.get("/api/runs/nope/logs").status_code == 404


def test_logs_by_action_and_after(client: TestClient, runs: Runs) -> None:
    actions = client.get(f"/api/runs/{runs.ok}").json()["actions"]
    second = by_task(actions, "square")[1]["action"]
    body = client.get(f"/api/runs/{runs.ok}/logs", params={"action": second, "exact": "1"}).json()
    assert [ln["line"] for ln in body["lines"]] == ["squaring 1"]
    assert body["lines"][0]["action"] == second
    again = client.get(f"/api/runs/{runs.ok}/logs", params={"action": second, "after": body["last"]}).json()
    assert again == {"lines": [], "last": body["last"]}
    everything = [ln["line"] for ln in client.get(f"/api/runs/{runs.ok}/logs").json()["lines"]]
    assert "the failing branch failed, as planned" in everything and "summarizing 3 values" in everything
    root_only = client.get(f"/api/runs/{runs.ok}/logs", params={"action": "a0", "exact": "1"}).json()
    assert [ln["line"] for ln in root_only["lines"]] == ["the failing branch failed, as planned"]
    assert root_only["last"] >= body["last"]  # advanced past the children's lines it left out


def test_html_fragments(client: TestClient, runs: Runs) -> None:
    body = client.get(f"/api/runs/{runs.ok}?html=1").json()
    html = body["html"]
    assert set(html) == {"header", "tree", "timeline"}
    assert html["timeline"].count('class="bar ') == len(body["actions"])
    assert "group <b>squares</b>" in html["tree"] and "2 attempts" in html["tree"]
    rows = client.get("/api/runs?html=1").json()["html"]["rows"]
    assert runs.ok in rows and "phase-failed" in rows


# --- pages -------------------------------------------------------------------------------------------------

def test_runs_page(client: TestClient, runs: Runs) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    assert runs.ok in page.text and runs.failed in page.text
    assert "phase-succeeded" in page.text and "phase-failed" in page.text
    assert "/static/runs.js" in page.text and "http" not in re.sub(r'https?://127\.0\.0\.1', "", page.text)
    filtered = client.get("/?phase=failed").text
    assert runs.failed in filtered and runs.ok not in filtered
    assert runs.ok in client.get("/?phase=bogus").text  # an unknown phase shows everything


def test_run_page_escapes_user_content(client: TestClient, runs: Runs) -> None:
    page = client.get(f"/runs/{runs.failed}").text
    assert "bad &lt;input&gt; 7" in page
    assert "bad <input>" not in page  # neither in the markup nor in the embedded JSON
    assert "raise ValueError" in page  # the traceback
    assert page.count('class="bar ') == len(client.get(f"/api/runs/{runs.failed}").json()["actions"])
    assert client.get("/runs/nope").status_code == 404


def test_report_route(client: TestClient, runs: Runs) -> None:
    actions = client.get(f"/api/runs/{runs.ok}").json()["actions"]
    summary = by_task(actions, "summarize")[0]["action"]
    resp = client.get(f"/runs/{runs.ok}/actions/{summary}/report")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    assert resp.headers["content-security-policy"].startswith("sandbox")
    assert "<h2>Summary</h2>" in resp.text and "detail one" in resp.text
    assert client.get(f"/runs/{runs.ok}/actions/a0/report").status_code == 404
    assert client.get(f"/runs/{runs.ok}/actions/a0..secret/report").status_code == 404
    assert client.get(f"/runs/nope/actions/{summary}/report").status_code == 404


def test_static_assets(client: TestClient) -> None:
    for name in ("ui.css", "run.js", "runs.js"):
        assert client.get(f"/static/{name}").status_code == 200


def test_mounted_under_a_prefix(runs: Runs) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    outer = Starlette(routes=[Mount("/flyte", create_app(runs.session))])
    with TestClient(outer, base_url="http://localhost") as c:
        page = c.get("/flyte/").text
        assert f'href="/flyte/runs/{runs.ok}"' in page and 'src="/flyte/static/runs.js"' in page
        assert c.get(f"/flyte/api/runs/{runs.ok}").status_code == 200


def test_foreign_host_headers_are_refused(runs: Runs) -> None:
    """DNS rebinding: a page on evil.example that resolves to 127.0.0.1 must not read runs."""
    with TestClient(create_app(runs.session), base_url="http://127.0.0.1") as c:
        assert c.get("/api/runs").status_code == 200
        assert c.get("/api/runs", headers={"Host": "localhost:8377"}).status_code == 200
        refused = c.get("/api/runs", headers={"Host": "evil.example"})
        assert refused.status_code == 400 and runs.ok not in refused.text
        assert c.get(f"/runs/{runs.ok}", headers={"Host": "evil.example:8377"}).status_code == 400
    with TestClient(create_app(runs.session, allowed_hosts=["ui.internal"]), base_url="http://ui.internal") as c:
        assert c.get("/api/runs").status_code == 200


def test_wildcard_bind_trusts_this_machines_names_only() -> None:
    import socket

    from flyte_ui.cli import trusted_hosts

    hosts = trusted_hosts("0.0.0.0", ("extra.name",))
    assert {"127.0.0.1", "localhost", socket.gethostname(), "extra.name"} <= set(hosts)
    assert "evil.example" not in hosts and "*" not in hosts
    assert trusted_hosts("127.0.0.1") == ["127.0.0.1", "localhost", "::1", "[::1]"]


def test_cli_prints_the_real_port_on_a_wildcard_host(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "flyte_core.cli", "ui", "--host", "0.0.0.0", "--port", "0"],
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert proc.stderr is not None
        lines = [proc.stderr.readline(), proc.stderr.readline()]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert ":0 " not in lines[0] and ":0/" not in lines[1], lines
    port = lines[1].split("http://0.0.0.0:")[1].split("/")[0]
    assert int(port) > 0 and f"0.0.0.0:{port}" in lines[0]


# --- models --------------------------------------------------------------------------------------------------

def _action(action: str, parent: str | None, group: str | None = None, **kw: Any) -> dict[str, Any]:
    base = {"action": action, "parent": parent, "group": group, "phase": "succeeded", "created_at": 0.0,
            "started_at": 0.0, "ended_at": 1.0, "terminal": True}
    return {**base, **kw}


def test_tree_rows_put_children_under_parents_and_gather_groups() -> None:
    actions = [_action("a0", None), _action("a0.1", "a0", "g"), _action("a0.2", "a0"), _action("a0.3", "a0", "g"),
               _action("a0.1.1", "a0.1"), _action("b9", "missing-parent")]
    rows = model.tree_rows(actions)
    shape = [(r["kind"], r["depth"], r.get("name") or r["action"]["action"]) for r in rows]
    assert shape == [
        ("action", 0, "a0"), ("group", 1, "g"), ("action", 2, "a0.1"), ("action", 3, "a0.1.1"),
        ("action", 2, "a0.3"), ("action", 1, "a0.2"), ("action", 0, "b9"),
    ]
    assert rows[1]["count"] == 2 and rows[1]["phases"] == [("succeeded", 2)]


def test_timeline_places_bars_relative_to_the_run() -> None:
    run = {"started_at": 100.0, "created_at": 100.0, "ended_at": 110.0, "terminal": True}
    actions = [_action("a0", None, created_at=100.0, started_at=100.0, ended_at=110.0),
               _action("a0.1", "a0", created_at=101.0, started_at=102.0, ended_at=107.0),
               _action("a0.2", "a0", created_at=109.0, started_at=None, ended_at=109.0)]
    tl = model.timeline(run, model.tree_rows(actions))
    bars = {b["action"]["action"]: b for b in tl["bars"]}
    assert (bars["a0"]["left"], bars["a0"]["width"]) == (0.0, 100.0)
    assert (bars["a0.1"]["left"], bars["a0.1"]["width"]) == (20.0, 50.0)
    assert (bars["a0.1"]["wait_left"], bars["a0.1"]["wait_width"]) == (10.0, 10.0)
    assert bars["a0.2"]["width"] == model.MIN_BAR_PCT and not bars["a0.2"]["started"]
    assert tl["total_text"] == "10.00s" and [t["pct"] for t in tl["ticks"]] == [0, 25, 50, 75, 100]


def test_live_bars_grow_to_now() -> None:
    run = {"started_at": 0.0, "created_at": 0.0, "ended_at": None, "terminal": False}
    rows = model.tree_rows([_action("a0", None, phase="running", ended_at=None, terminal=False)])
    (bar,) = model.timeline(run, rows, now=4.0)["bars"]
    assert (bar["left"], bar["width"]) == (0.0, 100.0)


def test_formatting() -> None:
    assert [model.fmt_duration(s) for s in (None, 0.25, 1.5, 125, 3725)] == ["-", "250ms", "1.50s", "2m 05s", "1h 02m"]
    assert model.readable("text") == "text" and model.readable({"a": 1}) == '{\n  "a": 1\n}'
    assert model.literal_items({"x": {"t": "int", "v": 1, "d": 3}})[0]["value"] == "3"


# --- the command ---------------------------------------------------------------------------------------------

def test_flyte_ui_command_is_added_by_the_plugin() -> None:
    result = CliRunner().invoke(flyte_cli(), ["ui", "--help"])
    assert result.exit_code == 0, result.output
    assert "--port" in result.output and "--open / --no-open" in result.output and "127.0.0.1" in result.output


def test_busy_port_is_a_usage_error(tmp_path: Any) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = CliRunner().invoke(flyte_cli(), ["ui", "--port", str(port)], env={"FLYTE_HOME": str(tmp_path)})
    assert result.exit_code == 2
    assert f"Cannot listen on 127.0.0.1:{port}" in result.output and "--port" in result.output
