"""One deadline for a whole HTTP exchange: connect, TLS, status line, headers and body.

httpx's timeouts are per socket operation: a read timeout of 15 s is never reached by a
server that sends its status line and headers one byte every 5 s (seen: one source held
for ~400 s per attempt). So the fetcher sets a deadline for the exchange in a
thread-local (`exchange_deadline`), and the network backend below, wrapped around
httpcore's, cuts every connect, read and write at the time left. Keep-alive connections
move between threads: each operation reads the deadline of the thread doing it.
"""
from __future__ import annotations

import threading
import time
import typing
from contextlib import contextmanager

import httpcore
import httpx

_local = threading.local()


@contextmanager
def exchange_deadline(deadline: float):
    """Every network operation of this thread inside the block ends by `deadline`
    (time.monotonic())."""
    previous = getattr(_local, "deadline", None)
    _local.deadline = deadline
    try:
        yield
    finally:
        _local.deadline = previous


def _clamp(timeout: float | None, error: type[Exception]) -> float | None:
    deadline = getattr(_local, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the exchange's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname,
                                             _clamp(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend):
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options=None) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_tcp(host, port, _clamp(timeout, httpcore.ConnectTimeout),
                                               local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options=None) -> httpcore.NetworkStream:  # pragma: no cover - unused
        return _Stream(self._inner.connect_unix_socket(path, _clamp(timeout, httpcore.ConnectTimeout),
                                                       socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def deadline_transport(limits: httpx.Limits, *,
                       wrap: typing.Callable[[httpcore.NetworkBackend], httpcore.NetworkBackend] | None = None
                       ) -> httpx.HTTPTransport:
    """httpx's own transport with the deadline-aware network backend, itself wrapped by
    `wrap` (the address check, which may connect several times, each cut at the deadline).
    httpx does not take a network backend, so it is set on the connection pool it builds
    (httpcore >= 1.0 names it `_network_backend`; the fetch tests catch a rename)."""
    transport = httpx.HTTPTransport(limits=limits, trust_env=False)
    pool = transport._pool
    if not isinstance(pool, httpcore.ConnectionPool) or not hasattr(pool, "_network_backend"):
        raise RuntimeError("httpcore changed: cannot install the exchange deadline")  # pragma: no cover
    backend: httpcore.NetworkBackend = _Backend(pool._network_backend)
    pool._network_backend = wrap(backend) if wrap is not None else backend
    return transport
