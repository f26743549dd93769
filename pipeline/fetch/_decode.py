"""Content-Encoding decoding with the decoded size capped as it inflates.

Why here rather than by httpx: httpx inflates a gzip chunk in one call, so 64 KB of a
gzip bomb becomes ~64 MB before any limit can look at it. zlib's `max_length` keeps memory
bounded by the limit whatever the ratio.
"""
from __future__ import annotations

import zlib

from ..errors import FetchError, TooLarge


class Decoder:
    """Content-Encoding identity, gzip or deflate, with the decoded size capped as it
    inflates (max_length), so a bomb never takes more than `limit` bytes of memory.

    Over the limit, TooLarge; with `truncate`, the first `limit` bytes are kept instead
    and `full` turns true (the caller stops reading)."""

    def __init__(self, encoding: str, limit: int, url: str, *, truncate: bool = False):
        self.encodings = [e.strip().lower() for e in encoding.split(",") if e.strip() and e.strip() != "identity"]
        if len(self.encodings) > 1 or any(e not in ("gzip", "x-gzip", "deflate") for e in self.encodings):
            raise FetchError(f"unsupported Content-Encoding {encoding!r}", url, kind="bad-encoding")
        self.kind = self.encodings[0] if self.encodings else None
        self.limit = limit
        self.url = url
        self.truncate = truncate
        self.full = False
        self.parts: list[bytes] = []
        self.size = 0
        self.raw_size = 0
        self.z = self._new()

    def _new(self):
        if self.kind in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self.kind == "deflate":
            return None  # zlib-wrapped or raw: decided on the first bytes
        return None

    def _add(self, data: bytes) -> None:
        if self.full:
            return
        if self.truncate and self.size + len(data) > self.limit:
            data = data[:self.limit - self.size]
            self.full = True
        self.size += len(data)
        if self.size > self.limit:
            what = "decoded body" if self.kind else "body"
            raise TooLarge(f"{what} over the {self.limit:,}-byte limit (cut off)", self.url)
        self.parts.append(data)

    def feed(self, raw: bytes) -> None:
        if self.full:
            return
        self.raw_size += len(raw)
        if self.kind is None:
            self._add(raw)
            return
        if self.raw_size > self.limit and not self.truncate:
            raise TooLarge(f"body over the {self.limit:,}-byte limit (cut off)", self.url)
        if self.z is None:  # deflate: RFC 9110 says zlib format, some servers send raw deflate
            wrapped = len(raw) >= 2 and (raw[0] & 0x0F) == 8 and ((raw[0] << 8) | raw[1]) % 31 == 0
            self.z = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        data = raw
        try:
            while data and not self.full:
                out = self.z.decompress(data, self.limit - self.size + 1)
                self._add(out)
                data = self.z.unconsumed_tail
                if self.z.eof and self.z.unused_data:  # concatenated gzip members
                    data = self.z.unused_data
                    self.z = self._new()
        except zlib.error as e:
            raise FetchError(f"could not decode the {self.kind} body: {e}", self.url, kind="bad-encoding") from e

    def finish(self) -> bytes:
        if self.z is not None and not self.full:
            try:
                self._add(self.z.flush())
            except zlib.error as e:
                raise FetchError(f"could not decode the {self.kind} body: {e}", self.url,
                                 kind="bad-encoding") from e
        return b"".join(self.parts)
