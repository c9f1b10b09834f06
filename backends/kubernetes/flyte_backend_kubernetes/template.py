"""``flyte.PodTemplate``: a user's pod spec that the backend's own pod is merged onto.

The template is the base (node selectors, tolerations, affinity, sidecars, volumes, security
contexts: anything Kubernetes has); the backend then sets what it owns. The template's container
named ``primary_container_name`` (default ``primary``) is the task's container: the backend sets
its image, command, working directory and resources it was asked for, and appends its own
environment variables and volume mounts after the template's. Other containers are kept as they
are. The pod's ``restartPolicy`` is always ``Never`` (a retry is a new pod). The template's
``imagePullSecrets`` are kept, the image's ``registry_secret`` added after them.

``pod_spec`` may be a ``kubernetes.client.V1PodSpec`` or a plain dict (camelCase or snake_case
keys, as the API or the Python client spell them).
"""

from __future__ import annotations

import copy
import re
from typing import Any

#: The name of the task's container when no template names another.
PRIMARY = "primary"

_SNAKE = re.compile(r"_([a-z])")


def to_api_dict(obj: Any) -> Any:
    """A client model (``V1PodSpec``, ...) or a dict as the API's camelCase JSON."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return {_camel(k): to_api_dict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_api_dict(v) for v in obj]
    if hasattr(obj, "openapi_types") or hasattr(obj, "swagger_types"):
        from kubernetes.client import ApiClient

        return ApiClient().sanitize_for_serialization(obj)
    return obj


def _camel(key: Any) -> Any:
    # Keys of maps the user fills (labels, node selectors, resources) may contain "_" or "-" on
    # purpose; only snake_case field names of the client's models are converted.
    if isinstance(key, str) and "_" in key and key.islower() and "." not in key and "/" not in key:
        return _SNAKE.sub(lambda m: m.group(1).upper(), key)
    return key


def template_parts(template: Any) -> tuple[dict[str, Any], dict[str, str], dict[str, str], str]:
    """``(pod spec, labels, annotations, primary container name)`` of a ``flyte.PodTemplate``
    (or of anything with those attributes); empty for None."""
    if template is None:
        return {}, {}, {}, PRIMARY
    spec = to_api_dict(getattr(template, "pod_spec", None)) or {}
    if not isinstance(spec, dict):
        raise TypeError(f"PodTemplate.pod_spec must be a V1PodSpec or a dict, got {type(spec).__name__}")
    return (copy.deepcopy(spec), dict(getattr(template, "labels", None) or {}),
            dict(getattr(template, "annotations", None) or {}),
            str(getattr(template, "primary_container_name", None) or PRIMARY))


def merge_pod(ours: dict[str, Any], template: Any) -> dict[str, Any]:
    """The pod ``ours`` (a complete manifest whose first container is the task's) merged onto
    ``template``; see the module doc for who wins where."""
    spec, labels, annotations, primary = template_parts(template)
    pod = copy.deepcopy(ours)
    meta = pod.setdefault("metadata", {})
    meta["labels"] = {**labels, **meta.get("labels", {})}
    meta["annotations"] = {**annotations, **meta.get("annotations", {})}
    if not spec:
        pod["spec"]["containers"][0]["name"] = primary
        return pod
    mine = pod["spec"]
    task_container = mine["containers"][0]
    merged = {**spec, **{k: v for k, v in mine.items() if k not in ("containers", "volumes", "nodeSelector",
                                                                   "tolerations", "imagePullSecrets")}}
    merged["nodeSelector"] = {**(spec.get("nodeSelector") or {}), **(mine.get("nodeSelector") or {})} or None
    merged["tolerations"] = [*(spec.get("tolerations") or []), *(mine.get("tolerations") or [])] or None
    merged["volumes"] = [*(spec.get("volumes") or []), *(mine.get("volumes") or [])] or None
    pulls = [*(spec.get("imagePullSecrets") or []), *(mine.get("imagePullSecrets") or [])]
    merged["imagePullSecrets"] = [s for i, s in enumerate(pulls) if s not in pulls[:i]] or None
    containers = [dict(c) for c in spec.get("containers") or []]
    base = next((c for c in containers if c.get("name") == primary), None)
    if base is None:
        base = {"name": primary}
        containers.insert(0, base)
    base.update({k: v for k, v in task_container.items()
                 if k not in ("name", "env", "volumeMounts", "resources") and v is not None})
    base["name"] = primary
    base["env"] = [*(base.get("env") or []), *(task_container.get("env") or [])]
    base["volumeMounts"] = [*(base.get("volumeMounts") or []), *(task_container.get("volumeMounts") or [])]
    res = task_container.get("resources") or {}
    if res:
        tres = base.get("resources") or {}
        base["resources"] = {k: {**(tres.get(k) or {}), **(res.get(k) or {})} for k in ("requests", "limits")
                             if tres.get(k) or res.get(k)}
    merged["containers"] = containers
    pod["spec"] = {k: v for k, v in merged.items() if v is not None}
    return pod


def primary_name(template: Any) -> str:
    """The name of the task's container under ``template``."""
    return template_parts(template)[3] if template is not None else PRIMARY
