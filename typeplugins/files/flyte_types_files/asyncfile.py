"""The handle ``async with File.open()`` yields: an fsspec file whose blocking calls run in a worker
thread, so a task's event loop keeps serving other actions while bytes move."""

from __future__ import annotations

import asyncio
from typing import IO, Any


class AsyncFile:
    """An open file with awaitable ``read``/``write``/``readline``/``seek``/``tell``/``flush``/``close``,
    iterable with ``async for line in f``. ``raw`` is the underlying synchronous file object, for
    libraries that need one (e.g. ``pandas.read_csv(f.raw)``)."""

    def __init__(self, raw: IO[Any]) -> None:
        self.raw = raw

    @property
    def mode(self) -> str:
        """The mode the file was opened in."""
        return str(getattr(self.raw, "mode", ""))

    @property
    def closed(self) -> bool:
        """True once the file is closed."""
        return bool(self.raw.closed)

    async def read(self, size: int = -1) -> Any:
        """Read up to ``size`` bytes (or characters in text mode); all that is left by default."""
        return await asyncio.to_thread(self.raw.read, size)

    async def readline(self, size: int = -1) -> Any:
        """Read one line."""
        return await asyncio.to_thread(self.raw.readline, size)

    async def readlines(self) -> list[Any]:
        """Read all remaining lines."""
        return await asyncio.to_thread(self.raw.readlines)

    async def write(self, data: Any) -> int:
        """Write ``data``; return how much was written."""
        written = await asyncio.to_thread(self.raw.write, data)
        return int(written) if written is not None else len(data)

    async def seek(self, offset: int, whence: int = 0) -> int:
        """Move to ``offset`` (relative to ``whence`` as in :meth:`io.IOBase.seek`)."""
        return int(await asyncio.to_thread(self.raw.seek, offset, whence))

    async def tell(self) -> int:
        """The current position."""
        return int(self.raw.tell())

    async def flush(self) -> None:
        """Push buffered writes towards storage."""
        await asyncio.to_thread(self.raw.flush)

    async def close(self) -> None:
        """Close the file (for writes to object stores, this completes the upload)."""
        await asyncio.to_thread(self.raw.close)

    def __aiter__(self) -> AsyncFile:
        return self

    async def __anext__(self) -> Any:
        line = await self.readline()
        if not line:
            raise StopAsyncIteration
        return line

    def __repr__(self) -> str:
        return f"AsyncFile({self.raw!r})"
