"""Triggers as CronJobs on a real cluster: `flyte kubernetes triggers deploy FILE` makes a CronJob whose
firings are runs on this backend, recorded in this machine's run store with the trigger's labels and the
scheduled minute as flyte.TriggerTime; `delete` removes the CronJob, its Jobs and their pods."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import NAMESPACE
from flyte_backend_kubernetes.cronjobs import cron_schedule
from test_k8s_cli import cli, project

from flyte_core.extend import FlyteUsageError

pytest.importorskip("flyte_triggers")
pytestmark = [pytest.mark.timeout(900)]

TRIGGERED = '''
from datetime import datetime
import flyte

env = flyte.TaskEnvironment("cron_e2e")

@env.task(triggers=flyte.Trigger("every-minute", flyte.Cron("* * * * *"), inputs={"at": flyte.TriggerTime, "n": 4},
                                 labels={"team": "k8s"}))
def stamp(at: datetime, n: int) -> str:
    return f"{n} {at.isoformat()}"
'''


def test_schedules_kubernetes_can_express() -> None:
    import flyte

    assert cron_schedule(flyte.Trigger("a", flyte.FixedRate(15))) == "*/15 * * * *"
    assert cron_schedule(flyte.Trigger("b", flyte.FixedRate(120))) == "0 */2 * * *"
    assert cron_schedule(flyte.Trigger("c", flyte.Cron("5 4 * * 1"))) == "5 4 * * 1"
    with pytest.raises(FlyteUsageError, match="Trigger 'd': every 7 minutes has no cron form"):
        cron_schedule(flyte.Trigger("d", flyte.FixedRate(7)))
    with pytest.raises(FlyteUsageError, match="Trigger 'e': CronJobs here run on the cluster's clock"):
        cron_schedule(flyte.Trigger("e", flyte.Cron("0 9 * * *", timezone="Europe/Paris")))


def test_trigger_deployed_as_a_cronjob_fires_recorded_runs(tmp_path: Path, kube: Any) -> None:
    from kubernetes import client

    proj = project(tmp_path)
    (proj / "triggered.py").write_text(TRIGGERED)
    r = cli(proj, "kubernetes", "triggers", "deploy", "triggered.py")
    assert r.returncode == 0, r.stderr
    assert "trigger every-minute: CronJob flyte-trigger-every-minute (* * * * *)" in r.stdout
    try:
        assert "every-minute" in cli(proj, "kubernetes", "triggers", "list").stdout
        deadline = time.time() + 420
        runs: list[dict[str, Any]] = []
        while time.time() < deadline:
            shown = cli(proj, "runs", "list", "--json")
            runs = [x for x in json.loads(shown.stdout or "[]")
                    if x.get("labels", {}).get("flyte.trigger") == "every-minute" and x["phase"] == "succeeded"]
            if runs:
                break
            time.sleep(5)
        assert runs, cli(proj, "runs", "list").stdout
        run = runs[0]
        assert run["labels"]["team"] == "k8s" and run["backend"] == "kubernetes"
        when = datetime.fromisoformat(run["labels"]["flyte.trigger.time"])
        assert when.second == 0 and when.microsecond == 0  # the scheduled minute
        out = cli(proj, "runs", "outputs", run["name"]).stdout
        assert out == f'o0: "4 {when.isoformat()}"\n'  # `flyte runs outputs` prints each value as JSON
    finally:
        d = cli(proj, "kubernetes", "triggers", "delete", "every-minute")
    assert d.returncode == 0, d.stderr
    batch = client.BatchV1Api(kube.api_client)
    deadline = time.time() + 120
    while time.time() < deadline:
        jobs = batch.list_namespaced_job(NAMESPACE, label_selector="flyte-core.org/trigger=every-minute").items
        pods = kube.list_namespaced_pod(NAMESPACE, label_selector="flyte-core.org/trigger=every-minute").items
        if not jobs and not pods:
            break
        time.sleep(2)
    assert not jobs and not pods
    assert "every-minute" not in cli(proj, "kubernetes", "triggers", "list").stdout
