"""Shared fixtures: real HTTP servers on loopback, real database files.

- `shared_dir`: ../shared (third-party partner pages and gold); tests that need it skip
  with a clear reason when it is absent.
- `partner_servers`: ../shared/partners/serve.py's per-site servers (127.0.0.2-.6).
- `demo_server`: the bundled sample sites served by pipeline.demo.StaticSiteServer.
- `db_url`: a fresh SQLite file per test; `store`: a `Store` opened on it.
- `server`: a `fixtures.ingest.hostile.HostileServer` on loopback, routes set by the test.
- `pg_url`: a fresh PostgreSQL database per test, from SYNDICATE_TEST_PG_URL.
- `chromium`: a headless Chromium for a test module (tests/chromium.py); skipped where it
  is absent, failed under CI=true (`.ci/run` installs Debian's chromium).
- every test runs with SYNDICATE_ALLOW_PRIVATE=1 (its servers are on loopback) unless it
  deletes the variable to test the private-address rule.
"""
from __future__ import annotations

import importlib.util
import os
import threading
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = next((p / "shared" for p in ROOT.parents if (p / "shared" / "gold").is_dir()),
              ROOT.parent / "shared")  # ../shared (from a git worktree: the nearest ancestor's)
PARTNERS = {  # site id -> (name, article path) as documented in ../shared/partners/README.md
    "archway": ("Archway Behavioral Health", "/archway/blog/how-does-heroin-work-in-the-brain/"),
    "omnia": ("Omnia Recovery", "/omnia/blog/understanding-heroins-impact-on-the-brain/"),
    "alana": ("ALANA Recovery", "/alana/blog/heroin-and-the-brain/"),
    "civiq": ("CIVIQ Health", "/civiq/blog/what-makes-heroin-so-addictive/"),
}


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    from fixtures.loaders import require_shared

    return require_shared("partners/serve.py")


def _serve_module(shared: Path):
    spec = importlib.util.spec_from_file_location("partner_serve", shared / "partners" / "serve.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class PartnerSites:
    """The shared partner sites served on their own loopback hosts; `week(2)` switches
    to the week-2 scenario without changing host or port."""

    def __init__(self, shared: Path):
        self.module = _serve_module(shared)
        self.servers = self.module.make_servers(0, week=1, quiet=True)
        for server in self.servers.values():
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def base(self, site: str) -> str:
        return self.servers[site].base

    def week(self, n: int) -> None:
        for server in self.servers.values():
            server.week = n

    def close(self) -> None:
        for server in self.servers.values():
            server.shutdown()
            server.server_close()

    def write_sources(self, folder: Path, sites=tuple(PARTNERS)) -> Path:
        """A registry with only `name` and `homepage` for each partner."""
        folder.mkdir(parents=True, exist_ok=True)
        for site in sites:
            name = PARTNERS[site][0]
            (folder / f"{site}.toml").write_text(
                f'name = "{name}"\nhomepage = "{self.base(site)}/{site}/"\n', "utf-8")
        return folder


@pytest.fixture()
def partner_sites(shared_dir):
    sites = PartnerSites(shared_dir)
    yield sites
    sites.close()


@pytest.fixture()
def demo_server():
    from pipeline.demo import DEMO_SITES, StaticSiteServer, demo_environment
    with StaticSiteServer(DEMO_SITES) as server:
        old = os.environ.get("SYNDICATE_DEMO_BASE")
        demo_environment(server.base)
        yield server
        if old is None:
            os.environ.pop("SYNDICATE_DEMO_BASE", None)
        else:
            os.environ["SYNDICATE_DEMO_BASE"] = old


@pytest.fixture()
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'syndicate.sqlite'}"


@pytest.fixture()
def store(db_url):
    from pipeline.store import Store

    s = Store.open(db_url)
    yield s
    s.close()


@pytest.fixture()
def server():
    from fixtures.ingest.hostile import HostileServer

    with HostileServer() as s:
        yield s


@pytest.fixture()
def pg_url():
    base = os.environ.get("SYNDICATE_TEST_PG_URL")
    if not base:
        if os.environ.get("CI") == "true":
            pytest.fail("SYNDICATE_TEST_PG_URL is not set and CI=true: PostgreSQL tests must run")
        pytest.skip("SYNDICATE_TEST_PG_URL is not set (.ci/run sets it to the local PostgreSQL server)")
    import sqlalchemy as sa
    from pipeline.store import normalize_db_url

    admin_url = normalize_db_url(base)
    name = f"syndicate_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {base} is unreachable and CI=true: {e}")
        pytest.skip(f"PostgreSQL at {base} is unreachable: {e}")
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(autouse=True, scope="session")
def _loopback_allowed():
    # Every test server listens on loopback, which a run refuses to reach unless allowed
    # (SYNDICATE_ALLOW_PRIVATE=1, as the demo sets for its own run). Session-wide, so that
    # module-scoped fixtures that run the pipeline have it too; the tests of that rule
    # delete the variable (monkeypatch.delenv) and see the refusal.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYNDICATE_ALLOW_PRIVATE", "1")
        yield


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    # Loopback traffic must never go through a proxy the environment may define.
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def chromium():
    from chromium import Chromium, find_chromium
    exe = find_chromium()
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is absent under CI=true: .ci/run installs the Debian chromium package")
        pytest.skip("Chromium is absent (apt-get install chromium; .ci/run installs it)")
    with Chromium(exe) as browser:
        yield browser
