"""The built-in demo: serve the bundled sample partner sites on 127.0.0.1 and run the
whole pipeline against them, through the library API, into a fresh database and a digest.

Owns the demo's output folder: it is used only when it is new, empty, or was made by an
earlier demo (a marker file, `.syndicate-demo`, lists what the demo wrote there, and only
that is replaced: a user's own files are never touched). Beside the digest it keeps copies
of the partner pages it served (`partners/`), and the digest's article links point at
them under `base_url` (default http://127.0.0.1:8000, where
`python3 -m http.server 8000 --bind 127.0.0.1 --directory OUT` serves the folder), so the
links keep working after the demo's own server is gone.

`StaticSiteServer` is also what the integration tests use to serve sites over real HTTP:
files under a root folder, `{{base}}` in them replaced by the server's own base URL,
directory URLs served from index.html/index.xml, ETag and Last-Modified with conditional
GET, and a redirect for a directory URL without its trailing slash.
"""
from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import shutil
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .core import ALLOW_PRIVATE_VAR, DigestResult, RunEvents, Syndicate, Week
from .errors import ConfigError
from .package_data import folder
from .types import RunResult

DEMO_SITES = folder("demo_sites")  # demo/sites/ in the repository, inside the package once installed
DEMO_SOURCES = folder("demo_sources")  # sources/ in the repository: the four fictional partners
DEMO_BASE_VAR = "SYNDICATE_DEMO_BASE"
MARKER = ".syndicate-demo"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
PARTNERS = "partners"  # the folder, inside the output, of the partner pages the digest links to
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
    os.environ[DEMO_BASE_VAR] = base
    os.environ[ALLOW_PRIVATE_VAR] = "1"


# --- the demo ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DemoResult:
    out_dir: Path
    database: Path
    run: RunResult
    articles: int
    claims: int
    merged_claims: int  # stated by two or more partners
    digest: DigestResult
    base_url: str  # where `out_dir` must be served for the digest's links to open


def run_demo(out_dir: Path, *, base_url: str = DEFAULT_BASE_URL, events: RunEvents | None = None) -> DemoResult:
    """Serve the sample sites on loopback, run the pipeline into a fresh database in
    `out_dir`, and write the digest of the newest article's week there, its partner links
    pointing at the copies in `out_dir/partners/` under `base_url`. `ConfigError` when
    `out_dir` is not a folder the demo may use (nothing is changed then)."""
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"the demo's base URL must be an http(s) URL: {base_url!r}")
    base_url = base_url.rstrip("/")
    before = claim_output_folder(out_dir)
    database = out_dir / "syndicate.sqlite"
    partners_base = f"{base_url}/{PARTNERS}"
    with StaticSiteServer(DEMO_SITES) as server:
        demo_environment(server.base)
        if events is not None:
            events.note(f"serving the sample partner sites at {server.base}/")
        with Syndicate(database, DEMO_SOURCES) as syn:
            run = syn.run(events=events)
            counts = syn.counts()
            merged = len(syn.list_claims(min_partners=2))
            newest = max((a["published"] for a in syn.export("articles") if a["published"]), default=None)
            week = Week.containing(datetime.fromisoformat(newest.replace("Z", "+00:00")) if newest
                                   else datetime.now(timezone.utc))
            copy_sites(DEMO_SITES, out_dir / PARTNERS, partners_base)

            def link(url: str) -> str:  # the served page -> its copy beside the digest
                return partners_base + url[len(server.base):] if url.startswith(server.base + "/") else url

            digest = syn.digest(week, out=out_dir, base_url=base_url, link=link)
    record_output(out_dir, before)
    return DemoResult(out_dir, database, run, counts.articles, counts.claims, merged, digest, base_url)


def claim_output_folder(out_dir: Path) -> set[str]:
    """Make `out_dir` ready for a demo and return the names in it that are not the demo's
    (kept as they are). A new or empty folder is used; a folder an earlier demo made has
    what that demo wrote removed (only that); any other non-empty folder is refused."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{out_dir} exists and is not a folder")
    marker = out_dir / MARKER
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not marker.is_file() or marker.is_symlink():
            raise ConfigError(f"{out_dir} is not empty and was not made by `syndicate demo` (it has no {MARKER} "
                              "marker); nothing was changed. Give a new or empty folder with --out, or, if it is "
                              "an older demo's output, remove it yourself")
        for name in _written(marker):
            _remove(out_dir / name)
    out_dir.mkdir(parents=True, exist_ok=True)
    mine = {"syndicate.sqlite", "syndicate.sqlite-wal", "syndicate.sqlite-shm", "syndicate.sqlite-journal", PARTNERS}
    kept = {p.name for p in out_dir.iterdir()} - {MARKER}
    _write_marker(marker, sorted(mine - kept))  # before anything is written: a demo cut short is still ours
    return kept


def record_output(out_dir: Path, before: set[str]) -> None:
    """List in the marker every name the demo wrote (what was there before is not ours)."""
    names = {p.name for p in out_dir.iterdir()} - before - {MARKER}
    _write_marker(out_dir / MARKER, sorted(names))


def _written(marker: Path) -> list[str]:
    try:
        names = json.loads(marker.read_text("utf-8")).get("written", [])
    except (OSError, ValueError, AttributeError) as e:
        raise ConfigError(f"{marker} is not a demo marker ({e}); nothing was changed") from e
    # names directly inside the folder only: never a path that leads out of it
    return [n for n in names if isinstance(n, str) and n not in ("", ".", "..") and "/" not in n and "\\" not in n]


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def _write_marker(marker: Path, written: list[str]) -> None:
    marker.write_text(json.dumps({"made_by": "syndicate demo", "written": written}, indent=1) + "\n", "utf-8")


def copy_sites(sites: Path, target: Path, base: str) -> None:
    """The sample sites as a static copy under `target`, their `{{base}}` set to `base`."""
    for path in sorted(sites.rglob("*")):
        if path.is_file():
            dest = target / path.relative_to(sites)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(path.read_bytes().replace(b"{{base}}", base.encode()))
