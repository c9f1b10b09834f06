"""Flyte 2's ``flyte.storage``: object-store settings and file operations over fsspec.

Re-exports only; the logic lives in :mod:`flyte_core.storage.config` and :mod:`flyte_core.api.storage`.
"""

from flyte_core.api.storage import (
    exists,
    exists_sync,
    get,
    get_configured_fsspec_kwargs,
    get_random_local_directory,
    get_random_local_path,
    get_stream,
    get_underlying_filesystem,
    is_remote,
    join,
    open,
    put,
    put_stream,
)
from flyte_core.storage.config import ABFS, GCS, S3, Storage

__all__ = ["ABFS", "GCS", "S3", "Storage", "exists", "exists_sync", "get", "get_configured_fsspec_kwargs",
           "get_random_local_directory", "get_random_local_path", "get_stream", "get_underlying_filesystem",
           "is_remote", "join", "open", "put", "put_stream"]
