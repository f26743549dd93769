"""The built-in demo: serve the bundled sample partner sites on 127.0.0.1 and run the
whole pipeline against them into a fresh database.

`StaticSiteServer` is also what the integration tests use to serve sites over real HTTP:
files under a root folder, `{{base}}` in them replaced by the server's own base URL,
directory URLs served from index.html/index.xml, ETag and Last-Modified with conditional
GET, and a redirect for a directory URL without its trailing slash.
"""
from __future__ import annotations

import hashlib
import mimetypes
import os
import threading
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEMO_SITES = PROJECT_ROOT / "demo" / "sites"
DEMO_SOURCES = PROJECT_ROOT / "sources"
DEMO_BASE_VAR = "SYNDICATE_DEMO_BASE"
TYPES = {".html": "text/html; charset=utf-8", ".xml": "application/xml", ".atom": "application/atom+xml",
         ".txt": "text/plain; charset=utf-8", ".json": "application/json"}


class _Handler(BaseHTTPRequestHandler):
    server_version = "SyndicateDemo/1.0"

    def do_GET(self) -> None:  # noqa: N802
        server: StaticSiteServer = self.server  # type: ignore[assignment]
        path = unquote(urlsplit(self.path).path)
        target = (server.root / path.lstrip("/")).resolve()
        if server.root != target and server.root not in target.parents:
            return self.send_error(404)
        if target.is_dir():
            if not path.endswith("/"):
                self.send_response(301)
                self.send_header("Location", server.base + path + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            target = next((target / n for n in ("index.html", "index.xml") if (target / n).is_file()), target)
        if not target.is_file():
            return self.send_error(404)
        data = target.read_bytes().replace(b"{{base}}", server.base.encode())
        etag = '"%s"' % hashlib.sha256(data).hexdigest()[:24]
        last_modified = formatdate(target.stat().st_mtime, usegmt=True)
        if self._not_modified(etag, target.stat().st_mtime):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0]
                         or "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_modified)
        self.end_headers()
        self.wfile.write(data)

    def _not_modified(self, etag: str, mtime: float) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            return etag in [t.strip().removeprefix("W/") for t in inm.split(",")] or inm.strip() == "*"
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                return int(mtime) <= parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                return False
        return False

    def log_message(self, fmt: str, *args) -> None:
        if not self.server.quiet:  # type: ignore[attr-defined]
            super().log_message(fmt, *args)


class StaticSiteServer(ThreadingHTTPServer):
    """Serves `root` on host:port (0 = a free port) in a daemon thread; `with` stops it."""

    daemon_threads = True

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0, quiet: bool = True):
        super().__init__((host, port), _Handler)
        self.root = Path(root).resolve()
        self.quiet = quiet
        self.base = f"http://{host}:{self.server_port}"
        self._thread: threading.Thread | None = None

    def start(self) -> "StaticSiteServer":
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def __enter__(self) -> "StaticSiteServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def demo_environment(base: str) -> None:
    """Point the bundled registry (sources/*.toml uses ${SYNDICATE_DEMO_BASE}) at `base`,
    and let the demo's own run reach it: its sites are served on 127.0.0.1, a loopback
    address no run reaches otherwise (SYNDICATE_ALLOW_PRIVATE, pipeline/fetch/_address.py)."""
    from .fetch import ALLOW_PRIVATE_VAR

    os.environ[DEMO_BASE_VAR] = base
    os.environ[ALLOW_PRIVATE_VAR] = "1"
