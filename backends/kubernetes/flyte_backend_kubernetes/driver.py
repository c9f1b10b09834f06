"""Runs inside a durable run's driver pod: unpack the code, run ``flyte run`` there, then delete
this pod.

``python -m flyte_backend_kubernetes.driver BUNDLE_URL CODE_DIR FLYTE_RUN_ARGS...``

The ``flyte run`` inside drives the run with the kubernetes backend from within the cluster
(in-cluster ServiceAccount, config from ``$FLYTE_CONFIG``), so the run goes on when the terminal
that started it closes. SIGTERM (the pod being deleted) is passed on as SIGINT, which aborts the
run the way Ctrl-C does: every task pod of it is deleted before this process ends. When the run
is over, the driver removes its folder (config, image list) and deletes its own pod
(``$POD_NAME`` / ``$POD_NAMESPACE``, from the downward API), so no pod of the run is left.
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
    except Exception as e:  # the launcher's follower deletes it too; say why this did not
        print(f"flyte driver: could not delete pod {name}: {e}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Unpack, run ``python -m flyte_core.cli`` with the remaining arguments, delete this pod."""
    from flyte_backend_kubernetes.worker import _unpack

    bundle, code_dir, *cli = sys.argv[1:] if argv is None else argv
    os.makedirs(code_dir, exist_ok=True)
    _unpack(bundle, code_dir)
    child = subprocess.Popen([sys.executable, "-m", "flyte_core.cli", *cli], cwd=code_dir)
    signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGINT))
    code = child.wait()
    sys.stdout.flush()
    sys.stderr.flush()
    config = os.environ.get("FLYTE_CONFIG", "")
    if os.path.basename(os.path.dirname(os.path.dirname(config))) == "drivers":  # <data>/drivers/<run>/
        import shutil

        shutil.rmtree(os.path.dirname(config), ignore_errors=True)
    _delete_self()
    return code


if __name__ == "__main__":
    sys.exit(main())
