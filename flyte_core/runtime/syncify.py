"""``flyte.syncify``: call an async function (or async generator) from sync code, and still await it.

A :class:`Syncify` owns one event loop running in a background thread. Every function it wraps
runs on that loop, whether called plainly (``f(x)`` blocks until the result) or awaited
(``await f.aio(x)``), so async clients created through it always see the same loop. Async
generators become plain iterators when called and async iterators through ``.aio``.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import AsyncGenerator, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

# asyncio (with ssl, sockets and subprocesses, ~15 ms) is imported where a loop is needed: a
# script calling ``flyte.run(...)`` on a cached task never needs one.
if TYPE_CHECKING:
    from flyte_core.runtime.loopthread import LoopThread

T = TypeVar("T")


class SyncAio(Generic[T]):
    """A callable with an ``.aio`` twin, as Flyte 2's syncified functions are."""

    def __init__(self, fn: Callable[..., T]) -> None:
        self._fn = fn
        self.__doc__ = fn.__doc__
        self.__name__ = getattr(fn, "__name__", "run")

    def __call__(self, *args: Any, **kwargs: Any) -> T:
        return self._fn(*args, **kwargs)

    async def aio(self, *args: Any, **kwargs: Any) -> T:
        """Run without blocking the caller's event loop."""
        import asyncio

        return await asyncio.to_thread(self._fn, *args, **kwargs)


class _Wrapped:
    """One wrapped function: ``__call__`` is the sync form, ``aio`` the async one."""

    def __init__(self, owner: Syncify, fn: Callable[..., Any], bound_to: Any = None) -> None:
        self._owner, self._fn, self._bound_to = owner, fn, bound_to
        functools.update_wrapper(self, fn)

    def __get__(self, instance: Any, owner: Any) -> _Wrapped:
        # Instance methods: bind like a function would; classmethod/staticmethod were unwrapped before.
        return self if instance is None else _Wrapped(self._owner, self._fn, instance)

    def _args(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        return (self._bound_to, *args) if self._bound_to is not None else args

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        result = self._fn(*self._args(args), **kwargs)
        if inspect.isasyncgen(result):
            return self._owner._iterate(result)
        if inspect.iscoroutine(result):
            return self._owner._call(result)
        return result  # a sync function or generator: nothing to drive

    def aio(self, *args: Any, **kwargs: Any) -> Any:
        """The async form: an awaitable (or an async iterator for an async generator)."""
        result = self._fn(*self._args(args), **kwargs)
        if inspect.isasyncgen(result):
            return self._owner._aiterate(result)
        if inspect.iscoroutine(result):
            import asyncio

            return asyncio.wrap_future(self._owner._loop().submit(result))
        return _ready(result)


async def _ready(value: Any) -> Any:
    return value


async def _next(agen: AsyncGenerator[Any, Any]) -> Any:
    return await agen.__anext__()


class Syncify:
    """Wraps async callables so sync code can call them; ``name`` names the background thread."""

    def __init__(self, name: str = "flyte_syncify") -> None:
        self.name = name
        self._thread: LoopThread | None = None
        self._lock = threading.Lock()

    def _loop(self) -> LoopThread:
        from flyte_core.runtime.loopthread import LoopThread

        with self._lock:
            if self._thread is None or not self._thread.thread.is_alive():
                self._thread = LoopThread(self.name)
            return self._thread

    def _in_own_loop(self) -> bool:
        t = self._thread
        return t is not None and threading.current_thread() is t.thread

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        if self._in_own_loop():
            coro.close()
            raise RuntimeError(f"A function wrapped by Syncify('{self.name}') was called without await from code "
                               "already running on its loop; use `await f.aio(...)` there.")
        return self._loop().submit(coro).result()

    def _iterate(self, agen: AsyncGenerator[Any, Any]) -> Iterator[Any]:
        loop = self._loop()
        try:
            while True:
                try:
                    yield loop.submit(_next(agen)).result()
                except StopAsyncIteration:
                    return
        finally:
            loop.submit(agen.aclose()).result()

    async def _aiterate(self, agen: AsyncGenerator[Any, Any]) -> AsyncGenerator[Any, None]:
        import asyncio

        loop = self._loop()
        try:
            while True:
                try:
                    yield await asyncio.wrap_future(loop.submit(_next(agen)))
                except StopAsyncIteration:
                    return
        finally:
            await asyncio.wrap_future(loop.submit(agen.aclose()))

    def __call__(self, obj: Any) -> Any:
        """Wrap a function, method, classmethod or staticmethod."""
        if isinstance(obj, classmethod):
            return classmethod(_Wrapped(self, obj.__func__))
        if isinstance(obj, staticmethod):
            return staticmethod(_Wrapped(self, obj.__func__))
        if not callable(obj):
            raise TypeError(f"syncify wraps functions and methods, got {obj!r}")
        return _Wrapped(self, obj)


#: The shared default instance: ``@flyte.syncify.syncify``.
syncify = Syncify()

__all__ = ["Syncify", "syncify"]
