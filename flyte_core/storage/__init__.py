"""Storage through fsspec: the data store and per-object-store settings."""
