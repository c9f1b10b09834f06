"""The environment a worker process starts with: clean, plus what its task was given.

A worker runs user code, so it must not inherit the caller's credentials (``FLYTE_SECRET_*``, cloud
keys, tokens). It gets what Python and ordinary tools need to run (:data:`INHERITED`), flyte-core's
own non-secret settings (``FLYTE_*`` but never ``FLYTE_SECRET_*``), the credentials of a remote data
store (the worker itself reads inputs and writes outputs there), then the run's and the task's
``env_vars`` and the secrets the task declares.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: Variables every worker inherits: how to find programs and libraries, locale, time zone,
#: temporary folders, CA bundles and proxies. None of them is a credential by convention.
INHERITED = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TERM", "TMPDIR", "TEMP", "TMP",
    "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONUTF8", "PYTHONIOENCODING", "LD_LIBRARY_PATH",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PIP_CERT",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
})

#: Prefixes of the variables fsspec implementations read their credentials from, by protocol.
STORE_CREDENTIALS = {
    "s3": ("AWS_", "FSSPEC_S3"),
    "gs": ("GOOGLE_", "GCS", "FSSPEC_GCS"),
    "gcs": ("GOOGLE_", "GCS", "FSSPEC_GCS"),
    "abfs": ("AZURE_", "FSSPEC_ABFS"),
    "az": ("AZURE_", "FSSPEC_AZ"),
}


def worker_environment(
    data_url: str, *given: Mapping[str, str], source: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of a worker whose data store is ``data_url``: the clean base from
    ``source`` (default ``os.environ``), then each mapping of ``given`` in order."""
    source = os.environ if source is None else source
    protocol = data_url.split("://", 1)[0] if "://" in data_url else ""
    store_prefixes = STORE_CREDENTIALS.get(protocol, ())
    env = {
        k: v for k, v in source.items()
        if k in INHERITED or k.startswith("LC_")
        or (k.startswith("FLYTE_") and not k.startswith("FLYTE_SECRET_"))
        or (store_prefixes and k.startswith(store_prefixes))
    }
    for extra in given:
        env.update(extra)
    return env
