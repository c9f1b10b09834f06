"""The kubernetes backend's way to run a task that brings its own image (a ``RawContainerTask``, e.g.
``flyte.extras.ContainerTask``): a pod of that image as it is, its inputs staged as files in a folder
of the hostPath data store mounted into the pod, its outputs read back from there once the pod ends
(and kept there, in the run's raw data folder).

Needs the hostPath data folder (single-node clusters); with a remote store the task is refused with
a clear error.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
from typing import TYPE_CHECKING, Any

from flyte_backend_kubernetes import pods as podops
from flyte_backend_kubernetes.confinement import confinement, give_tree
from flyte_backend_kubernetes.failures import Graces, PodAssessor
from flyte_backend_kubernetes.names import CONTROLLER_ANNOTATION, pod_name
from flyte_backend_kubernetes.podspec import PodRequest, build_pod
from flyte_core.extend import ActionOutcome, ActionSpec, ErrorInfo, Image, error_info

if TYPE_CHECKING:
    from flyte_backend_kubernetes.backend import KubernetesBackend

TAIL_LINES = 20


async def execute_raw(backend: KubernetesBackend, spec: ActionSpec, task: Any) -> ActionOutcome:
    """Run one attempt of ``task`` in a pod of its own image (at most ``spec.timeout``); the pod and the
    staging folder are removed however it ends."""
    from flyte_backend_kubernetes.backend import _Attempt

    assert backend._run is not None and backend._api is not None and backend._images is not None
    run, api = backend._run, backend._api
    if backend._access.host_path is None:
        return ActionOutcome(error=ErrorInfo(
            "ContainerTaskError", "user", f"ContainerTask '{task.name}' on the kubernetes backend needs the hostPath "
            f"data folder (backends.kubernetes.data_host_path) to hand its input and output files to the pod; with "
            f"the remote store {backend._access.root} run it on the docker backend instead.", action=spec.action),
            final=True)
    # In the run's raw data folder: output files stay where the pod wrote them (the data store keeps a
    # file already inside it in place), so the staged inputs go once the attempt ends, the outputs stay.
    workdir = os.path.join(backend._access.host_path, "runs", spec.run_name, "raw",
                           f"container-{spec.action}-{spec.attempt}")
    succeeded = False
    name = pod_name(spec.run_name, spec.action, spec.attempt)
    try:
        try:
            os.makedirs(workdir, mode=0o755, exist_ok=True)
            values = run.engine.decode_inputs(task.name, task.interface, spec.inputs, run.conversion)
            call = await asyncio.to_thread(task.container_call, values, workdir)
            image = await asyncio.to_thread(backend._images.ensure, Image.from_base(call.image))
            template = await asyncio.to_thread(backend._template, task.pod_template)
            confined = confinement(backend.opts.security, backend._ids, task.env.name)
            if confined is not None:  # the unprivileged user writes the outputs there
                await asyncio.to_thread(give_tree, workdir, backend._ids)
        except Exception as e:
            return ActionOutcome(error=error_info(e, spec.action), final=True)
        req = PodRequest(
            name=name, namespace=backend.namespace, run=spec.run_name, action=spec.action, attempt=spec.attempt,
            task=spec.task_name, image=image, command=call.command, env=dict(spec.env_vars),
            secrets=task.env.secrets, resources=task.env.resources, timeout=spec.timeout, mounts=call.mounts,
            pull_policy=backend.opts.image_pull_policy, service_account=backend.opts.service_account,
            pod_template=template, annotations={CONTROLLER_ANNOTATION: podops.controller_id()}, confinement=confined,
            environment=task.env.name,
            gpu_resource=backend.opts.gpu_resource, gpu_node_label=backend.opts.gpu_node_label,
        )
        att = _Attempt(PodAssessor(
            pod=name, namespace=backend.namespace, action=spec.action, task=spec.task_name, image=image,
            timeout=spec.timeout, graces=Graces(backend.opts.image_pull_grace, backend.opts.unschedulable_grace,
                                                backend.opts.start_grace), hint=lambda files_only: "",
            progress=backend._progress))
        backend._attempts[name] = att
        backend._live[spec.action] = spec.attempt
        created = await backend._create(build_pod(req), spec)
        if created is not None:
            return created
        verdict = await backend._wait(att, spec)
        lines = await asyncio.to_thread(podops.pod_log, api, name, backend.namespace)
        for text in lines:
            run.log(spec.action, spec.attempt, "stdout", text)
            if backend.opts.echo:
                with contextlib.suppress(Exception):
                    sys.stdout.write(text + "\n")
        if verdict.error is not None:
            return ActionOutcome(error=verdict.error)
        if verdict.exit_code != 0:
            msg = f"ContainerTask '{task.name}': the command in image '{image}' exited with code {verdict.exit_code}."
            if lines:
                msg += "\nLast output lines:\n" + "\n".join(lines[-TAIL_LINES:])
            return ActionOutcome(error=ErrorInfo("ContainerTaskError", "user", msg, action=spec.action))
        try:
            result = await asyncio.to_thread(task.container_outputs, workdir)
            outputs = run.engine.encode_output(task.name, task.interface, result, run.conversion)
            succeeded = True
            return ActionOutcome(outputs=outputs)
        except Exception as e:
            return ActionOutcome(error=error_info(e, spec.action), final=True)
    finally:
        backend._live.pop(spec.action, None)
        backend._attempts.pop(name, None)
        with contextlib.suppress(Exception):
            await asyncio.shield(asyncio.to_thread(podops.delete_pod, api, name, backend.namespace))
        shutil.rmtree(os.path.join(workdir, "inputs") if succeeded else workdir, ignore_errors=True)
