"""Runs inside a durable run's driver pod: fetch the run's config, unpack the code, run
``flyte run`` there, then delete this pod.

``python -m flyte_backend_kubernetes.driver BUNDLE_URL CODE_DIR FOLDER_URL FLYTE_CLI_ARGS...``

FOLDER_URL is the run's folder in the data store (``<data>/drivers/<run>``), holding the config
and image list the launcher wrote. The ``flyte run`` inside drives the run with the kubernetes
backend from within the cluster (in-cluster ServiceAccount), so the run goes on when the
terminal that started it closes. With ``$FLYTE_SNAPSHOT_DB`` set (a remote data store, so a run
store of the pod's own) copies of that run store are published to ``FOLDER_URL/runs.db`` while
the run goes, and once more when it ends, for the launching machine to import.

SIGTERM (the pod being deleted) is passed on as SIGINT, which aborts the run the way Ctrl-C
does: every task pod of it is deleted before this process ends. When the run is over, the driver
removes its config from the folder and deletes its own pod (through the pod's API gate, which it
then stops: see ``apigate``) (``$POD_NAME`` / ``$POD_NAMESPACE``,
from the downward API), so no pod of the run is left; a trigger's CronJob driver (``$FLYTE_DRIVER_KEEP``)
keeps both: the config serves the next firing, and its Job owns the pod.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys


def _delete_self() -> None:
    name, namespace = os.environ.get("POD_NAME"), os.environ.get("POD_NAMESPACE")
    if not name or not namespace:
        return
    try:
        from kubernetes import client

        from flyte_backend_kubernetes.client import connect

        api_client, _ = connect()
        # Grace 0: the pod object goes at once (a graceful delete waits for the kubelet's next
        # sync, tens of seconds on some nodes); everything is flushed, so being killed is fine.
        client.CoreV1Api(api_client).delete_namespaced_pod(name, namespace, grace_period_seconds=0)
    except Exception as e:  # the launcher's sync notices the pod ended; say why this did not
        print(f"flyte driver: could not delete pod {name}: {e}", file=sys.stderr)


def _forget_config(folder: str) -> None:
    try:
        import fsspec

        fs, path = fsspec.core.url_to_fs(folder)
        for name in ("config.yaml", "images.json"):
            fs.rm(f"{path}/{name}")
    except Exception as e:
        print(f"flyte driver: could not remove the run's config from {folder}: {e}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Fetch the config, unpack, run ``python -m flyte_core.cli`` with the remaining arguments
    (publishing run-store copies if asked), delete this pod."""
    from flyte_backend_kubernetes.durable import load_config_for_driver
    from flyte_backend_kubernetes.worker import _unpack

    bundle, code_dir, folder, *cli = sys.argv[1:] if argv is None else argv
    os.environ["FLYTE_CONFIG"] = load_config_for_driver(folder)
    os.makedirs(code_dir, exist_ok=True)
    _unpack(bundle, code_dir)
    publisher = None
    if os.environ.get("FLYTE_SNAPSHOT_DB"):
        from flyte_backend_kubernetes.snapshot import Publisher

        publisher = Publisher(os.environ["FLYTE_SNAPSHOT_DB"], f"{folder}/runs.db")
        publisher.start()
    child = subprocess.Popen([sys.executable, "-m", "flyte_core.cli", *cli], cwd=code_dir)
    signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGINT))
    code = child.wait()
    sys.stdout.flush()
    sys.stderr.flush()
    if publisher is not None:
        try:
            publisher.stop()
        except Exception as e:
            print(f"flyte driver: publishing the run's final state failed: {e}", file=sys.stderr)
    if not os.environ.get("FLYTE_DRIVER_KEEP"):  # a CronJob's driver: its config serves the next firing too
        _forget_config(folder)
        _delete_self()
    _stop_gate()
    return code


def _stop_gate() -> None:
    """End the pod's API gate container, so the pod ends too (a CronJob's Job completes)."""
    from flyte_backend_kubernetes.client import GATE_ENV

    gate = os.environ.get(GATE_ENV)
    if not gate:
        return
    import urllib.request

    from flyte_backend_kubernetes.apigate import STOP_PATH

    try:
        urllib.request.urlopen(urllib.request.Request(gate + STOP_PATH, method="POST"), timeout=10).close()
    except OSError as e:
        print(f"flyte driver: could not stop the API gate: {e}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
