"""Storage settings per object store (Flyte 2's ``flyte.storage.S3``/``GCS``/``ABFS``), as fsspec options.

``flyte.init(storage=flyte.storage.S3(...))`` (or :func:`configure`) makes a setting the one used
for its protocol: the session's data store and :mod:`flyte_core.api.storage` pass its
:meth:`~Storage.get_fsspec_kwargs` to fsspec whenever they open a URL of that protocol. Without
one, ``<Class>.auto()`` reads the same environment variables Flyte 2 reads. The options are those
of the fsspec implementations (s3fs, gcsfs, adlfs); which of those is installed is up to the user.
"""

from __future__ import annotations

import datetime
import os
import threading
from typing import Any, ClassVar

import attrs


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


@attrs.frozen
class Storage:
    """Settings for any object store: ``retries`` of failed requests (with ``backoff``), debug logging."""

    retries: int = 3
    backoff: datetime.timedelta = datetime.timedelta(seconds=5)
    enable_debug: bool = False
    attach_execution_metadata: bool = True

    #: URL schemes this class configures.
    protocols: ClassVar[tuple[str, ...]] = ()

    def get_fsspec_kwargs(self, anonymous: bool = False, **kwargs: Any) -> dict[str, Any]:
        """Keyword arguments for the fsspec filesystem of this store (``kwargs`` win)."""
        return dict(kwargs)

    @classmethod
    def _auto_kwargs(cls) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if (v := _env("FLYTE_STORAGE_RETRIES")) is not None:
            out["retries"] = int(v)
        if (v := _env("FLYTE_STORAGE_BACKOFF_SECONDS")) is not None:
            out["backoff"] = datetime.timedelta(seconds=float(v))
        if (v := _env("FLYTE_STORAGE_DEBUG")) is not None:
            out["enable_debug"] = v.lower() in ("1", "true", "yes")
        return out

    @classmethod
    def auto(cls) -> Storage:
        """Settings from the environment (``FLYTE_STORAGE_RETRIES``, ``FLYTE_STORAGE_BACKOFF_SECONDS``, ...)."""
        return cls(**cls._auto_kwargs())


@attrs.frozen
class S3(Storage):
    """Amazon S3 or an S3-compatible store (MinIO: give ``endpoint``), through s3fs."""

    endpoint: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    region: str | None = None
    addressing_style: str | None = None

    protocols: ClassVar[tuple[str, ...]] = ("s3", "s3a")

    @classmethod
    def auto(cls, region: str | None = None) -> S3:
        """Settings from ``FLYTE_AWS_ENDPOINT``, ``FLYTE_AWS_ACCESS_KEY_ID``, ``FLYTE_AWS_SECRET_ACCESS_KEY``,
        ``FLYTE_AWS_S3_ADDRESSING_STYLE`` (unset ones left to s3fs's own credential chain)."""
        return cls(endpoint=_env("FLYTE_AWS_ENDPOINT"), access_key_id=_env("FLYTE_AWS_ACCESS_KEY_ID"),
                   secret_access_key=_env("FLYTE_AWS_SECRET_ACCESS_KEY"), region=region,
                   addressing_style=_env("FLYTE_AWS_S3_ADDRESSING_STYLE"), **cls._auto_kwargs())

    @classmethod
    def for_sandbox(cls) -> S3:
        """The MinIO of a local Flyte sandbox (``localhost:4566``, its default keys)."""
        return cls(endpoint="http://localhost:4566", access_key_id="minio", secret_access_key="miniostorage")

    def get_fsspec_kwargs(self, anonymous: bool = False, **kwargs: Any) -> dict[str, Any]:
        """s3fs options: ``key``/``secret``, ``endpoint_url`` and ``region_name``, retries, ``anon``."""
        out: dict[str, Any] = {}
        if anonymous:
            out["anon"] = True
        if self.access_key_id and self.secret_access_key:
            out["key"], out["secret"] = self.access_key_id, self.secret_access_key
        client: dict[str, Any] = {}
        if self.endpoint:
            out["endpoint_url"] = self.endpoint
        if self.region:
            client["region_name"] = self.region
        if client:
            out["client_kwargs"] = client
        config: dict[str, Any] = {"retries": {"max_attempts": self.retries}}
        if self.addressing_style:
            config["s3"] = {"addressing_style": self.addressing_style}
        out["config_kwargs"] = config
        return {**out, **kwargs}


@attrs.frozen
class GCS(Storage):
    """Google Cloud Storage, through gcsfs (credentials from the environment, as gcsfs finds them)."""

    protocols: ClassVar[tuple[str, ...]] = ("gs", "gcs")

    @classmethod
    def auto(cls) -> GCS:
        """Settings from the environment."""
        return cls(**cls._auto_kwargs())

    def get_fsspec_kwargs(self, anonymous: bool = False, **kwargs: Any) -> dict[str, Any]:
        """gcsfs options: ``token="anon"`` when anonymous."""
        out: dict[str, Any] = {"token": "anon"} if anonymous else {}
        return {**out, **kwargs}


@attrs.frozen
class ABFS(Storage):
    """Azure Blob Storage / Data Lake, through adlfs."""

    account_name: str | None = None
    account_key: str | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = None

    protocols: ClassVar[tuple[str, ...]] = ("abfs", "abfss", "az")

    @classmethod
    def auto(cls) -> ABFS:
        """Settings from ``AZURE_STORAGE_ACCOUNT_NAME``, ``AZURE_STORAGE_ACCOUNT_KEY``, ``AZURE_TENANT_ID``,
        ``AZURE_CLIENT_ID``, ``AZURE_CLIENT_SECRET``."""
        return cls(account_name=_env("AZURE_STORAGE_ACCOUNT_NAME"), account_key=_env("AZURE_STORAGE_ACCOUNT_KEY"),
                   tenant_id=_env("AZURE_TENANT_ID"), client_id=_env("AZURE_CLIENT_ID"),
                   client_secret=_env("AZURE_CLIENT_SECRET"), **cls._auto_kwargs())

    def get_fsspec_kwargs(self, anonymous: bool = False, **kwargs: Any) -> dict[str, Any]:
        """adlfs options: the account and service-principal fields that are set; ``anon`` when anonymous."""
        out: dict[str, Any] = {k: v for k in ("account_name", "account_key", "tenant_id", "client_id", "client_secret")
                               if (v := getattr(self, k))}
        if anonymous:
            out["anon"] = True
        return {**out, **kwargs}


_CLASSES: tuple[type[Storage], ...] = (S3, GCS, ABFS)
_configured: dict[str, Storage] = {}
_lock = threading.Lock()


def configure(storage: Storage) -> None:
    """Use ``storage`` for URLs of its protocols in this process (what ``flyte.init(storage=...)`` does)."""
    if not isinstance(storage, Storage):
        raise TypeError(f"storage must be flyte.storage.S3, GCS, ABFS or Storage, got {storage!r}")
    with _lock:
        for proto in type(storage).protocols or ("*",):
            _configured[proto] = storage


def reset() -> None:
    """Forget configured settings (tests and embedders)."""
    with _lock:
        _configured.clear()


def settings_for(protocol: str | None) -> Storage | None:
    """The settings used for ``protocol``: configured, else ``auto()`` of its class; None for local/memory."""
    proto = (protocol or "file").split("::")[-1]
    with _lock:
        found = _configured.get(proto)
    if found is not None:
        return found
    for cls in _CLASSES:
        if proto in cls.protocols:
            return cls.auto()
    return None


def fsspec_kwargs(protocol: str | None, anonymous: bool = False) -> dict[str, Any]:
    """fsspec options for ``protocol`` from :func:`settings_for` (empty when nothing applies)."""
    settings = settings_for(protocol)
    return settings.get_fsspec_kwargs(anonymous=anonymous) if settings is not None else {}


__all__ = ["ABFS", "GCS", "S3", "Storage", "configure", "fsspec_kwargs", "reset", "settings_for"]
