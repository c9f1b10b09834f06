"""flyte-backend-kubernetes: run every task call in its own Kubernetes pod.

Modules: ``options`` reads the backend's settings, ``names`` makes pod names and labels,
``podspec`` (with ``resources``, ``secrets`` and ``template``) builds pod manifests, ``watch``
follows the run's pods with a resumable watch, ``failures`` turns pod states into outcomes,
``backend`` ties them together, ``rbac`` renders the namespace/RBAC manifests and ``plugin``
registers the backend and the ``flyte kubernetes`` commands. ``worker`` runs inside pods and
imports nothing of the above (nor the kubernetes client).
"""
