"""Flyte 2's ``flyte.storage``: object-store settings and file operations over fsspec.

Re-exports only; the logic lives in :mod:`flyte_core.storageconfig` and :mod:`flyte_core.storageops`.
"""

from flyte_core.storageconfig import ABFS, GCS, S3, Storage
from flyte_core.storageops import (
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

__all__ = ["ABFS", "GCS", "S3", "Storage", "exists", "exists_sync", "get", "get_configured_fsspec_kwargs",
           "get_random_local_directory", "get_random_local_path", "get_stream", "get_underlying_filesystem",
           "is_remote", "join", "open", "put", "put_stream"]
