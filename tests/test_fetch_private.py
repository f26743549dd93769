"""No request to a private, loopback, link-local or otherwise non-public address unless
allowed (issue 17, finding 1): checked on the address actually connected to, after name
resolution and at every redirect, so that neither a partner's DNS nor DNS rebinding gets
around it; `allow_private` in a registry entry and SYNDICATE_ALLOW_PRIVATE=1 allow it.

Real HTTP on loopback. DNS is the test's own: `socket.getaddrinfo` is replaced by a
mapping (names under `.test`), and `socket.socket.connect` by a guard that refuses, and
records, every connection to an address outside loopback, so no traffic leaves the
machine even where the code under test would send it (today's main does)."""
from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from pipeline import clustering
from pipeline.cli import cli
from pipeline.errors import ConfigError, FetchError
from pipeline.fetch import Fetcher, FetchConfig
from pipeline.fetch.scope import Scope
from pipeline.orchestrator import run_sources
from pipeline.registry import load_source
from pipeline.types import Source

from fixtures.ingest.hostile import redirect, static

FAST = FetchConfig(connect_timeout=1.0, read_timeout=1.0, total_timeout=2.0, retries=2, backoff=0.0)
SECRET = "ami-id instance-id iam/security-credentials"  # what a metadata service answers
PUBLIC = "93.184.215.14"  # a global address: connections to it are refused by the guard below
RSS = "application/rss+xml"


@pytest.fixture(autouse=True)
def _no_clustering(monkeypatch):
    monkeypatch.setattr(clustering, "cluster_new_mentions", lambda store, now, **kw: 0)


@pytest.fixture()
def strict(monkeypatch):
    """The rule as it is outside the tests: non-public addresses refused."""
    monkeypatch.delenv("SYNDICATE_ALLOW_PRIVATE", raising=False)


class Network:
    """The test's DNS (`answers`: name -> list of addresses, or a function of the call
    count returning them) and a guard on outgoing connections."""

    def __init__(self, monkeypatch):
        self.answers: dict[str, object] = {}
        self.lookups: dict[str, int] = {}
        self.refused: list[str] = []  # non-loopback addresses something tried to connect to
        real_getaddrinfo = socket.getaddrinfo
        real_connect = socket.socket.connect

        def getaddrinfo(host, port, *args, **kwargs):
            name = host.decode() if isinstance(host, bytes) else host
            if name not in self.answers:
                return real_getaddrinfo(host, port, *args, **kwargs)
            self.lookups[name] = self.lookups.get(name, 0) + 1
            answer = self.answers[name]
            addresses = answer(self.lookups[name]) if callable(answer) else answer
            return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                    for a in addresses]

        def connect(sock, address):
            if not (address[0].startswith("127.") or address[0] == "::1"):
                self.refused.append(address[0])
                raise ConnectionRefusedError(f"the test refuses connections outside loopback ({address[0]})")
            return real_connect(sock, address)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture()
def net(monkeypatch):
    return Network(monkeypatch)


def secret_site(server) -> None:
    page = (f"<!doctype html><html><head><title>Metadata</title></head><body><article><h1>Metadata</h1>"
            f"<p>{SECRET}. Sleep problems are common in early recovery from alcohol use disorder.</p>"
            f"<p>Regular exercise can improve sleep quality in adults.</p></article></body></html>")
    for path in ("/", "/p/", "/latest/meta-data/"):
        server.route(path, static(page, "text/html; charset=utf-8"))


def rss_of(base: str, paths: list[str]) -> str:
    items = "".join(f"<item><title>P{i}</title><link>{base}{p}</link></item>" for i, p in enumerate(paths))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'


# --- the classification (pure) ------------------------------------------------------------------

@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "255.255.255.255", "224.0.0.1", "240.0.0.1", "192.0.2.1", "198.18.0.1",
    "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "ff02::1", "not an address"])
def test_non_public_addresses(address):
    from pipeline.fetch._address import is_public_address
    assert not is_public_address(address)


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses(address):
    from pipeline.fetch._address import is_public_address
    assert is_public_address(address)


# --- a partner's name resolving to a private address ----------------------------------------------

@pytest.mark.parametrize("address", ["127.0.0.1", "169.254.169.254"])
def test_a_partner_whose_name_resolves_to_a_private_address_is_not_fetched(server, store, net, strict, address):
    secret_site(server)
    server.route("/feed/", static(rss_of(f"http://partner.test:{server.server_port}", ["/p/"]), RSS))
    net.answers["partner.test"] = [address]  # 169.254.169.254 stands for a cloud's metadata service
    base = f"http://partner.test:{server.server_port}"
    sources = [Source(id="p", name="P", homepage=base + "/", feeds=(base + "/feed/",)),
               Source(id="q", name="Q", homepage=base + "/latest/meta-data/")]
    report = run_sources(sources, store, fetch_config=FAST)
    assert server.hits == [] and net.refused == [], "a request reached the private address"
    for r in report.sources:
        assert not r.ok and [e.kind for e in r.errors] == ["private-address"], r.errors
        assert address in r.errors[0].message and "allow_private" in r.errors[0].message
    assert store.counts().articles == 0
    assert not any(SECRET in m["text"] for m in store.export_mentions())


def test_an_allowed_host_resolving_to_a_private_address_is_not_fetched(server, store, net, strict):
    """A partner on a public address whose feed links to an `allowed_hosts` name that
    resolves inside our network: the public part is tried (and refused by the test's guard:
    nothing leaves loopback), the private one is never connected to."""
    secret_site(server)
    net.answers["www.partner.test"] = [PUBLIC]
    net.answers["cdn.partner.test"] = ["127.0.0.1"]
    port = server.server_port
    src = Source(id="p", name="P", homepage=f"http://www.partner.test:{port}/",
                 feeds=(f"http://www.partner.test:{port}/feed/",), allowed_hosts=("cdn.partner.test",))
    (r,) = run_sources([src], store, fetch_config=FAST).sources
    assert server.hits == [] and set(net.refused) == {PUBLIC}
    assert [e.kind for e in r.errors] == ["connection"]  # the public host is down, as far as we know
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError) as e:
        fetcher.get(f"http://cdn.partner.test:{port}/p/", scope=Scope.of([src.homepage], src.allowed_hosts))
    assert e.value.kind == "private-address" and e.value.url.startswith("http://cdn.partner.test")
    assert server.hits == []


@pytest.mark.parametrize("spelling", ["127.0.0.1", "0x7f000001", "2130706433", "127.1", "[::ffff:127.0.0.1]"])
def test_an_ip_literal_is_refused_before_anything_is_sent(server, strict, spelling):
    url = f"http://{spelling}:{server.server_port}/p/"
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError) as e:
        fetcher.get(url)
    assert server.hits == []  # not even robots.txt
    assert e.value.kind == "private-address"


def test_dns_rebinding_gains_nothing(server, net, strict):
    """The name answers a public address the first time and loopback afterwards (a
    rebinding attack against a check-then-connect fetcher). The address connected to is
    the one vetted: the public one, tried (and refused by the guard), then the retry's
    fresh answer, loopback, refused before any connection."""
    secret_site(server)
    net.answers["rebind.test"] = lambda n: [PUBLIC] if n == 1 else ["127.0.0.1"]
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError) as e:
        fetcher.get(f"http://rebind.test:{server.server_port}/p/")
    assert server.hits == [], "the rebound name reached loopback"
    assert net.refused == [PUBLIC] and net.lookups["rebind.test"] >= 2
    assert e.value.kind == "private-address"


def test_a_name_with_public_and_private_addresses_connects_only_to_the_public_ones(server, net, strict):
    net.answers["mixed.test"] = ["127.0.0.1", PUBLIC]
    with Fetcher(FetchConfig(retries=0)) as fetcher, pytest.raises(FetchError) as e:
        fetcher.get(f"http://mixed.test:{server.server_port}/p/")
    assert e.value.kind == "connection" and net.refused == [PUBLIC] and server.hits == []


def test_a_redirect_to_a_private_address_is_refused(server, net, strict, monkeypatch):
    """A partner on a (stand-in) public address redirects to the metadata service by
    name and by address: neither is connected to. 127.0.0.1 plays the public partner
    here, so the classification is widened to it for this test alone."""
    import pipeline.fetch._address as address_module
    real = address_module.is_public_address
    monkeypatch.setattr(address_module, "is_public_address", lambda a: a == "127.0.0.1" or real(a))
    secret_site(server)
    net.answers["www.partner.test"] = ["127.0.0.1"]
    net.answers["metadata.partner.test"] = ["169.254.169.254"]
    server.route("/by-name/", redirect("http://metadata.partner.test/latest/meta-data/", 302))
    server.route("/by-address/", redirect("http://169.254.169.254/latest/meta-data/", 302))
    base = f"http://www.partner.test:{server.server_port}"
    scope = Scope.of([base + "/"], ["metadata.partner.test", "169.254.169.254"])  # in scope: only addresses stop it
    with Fetcher(FAST) as fetcher:
        for path in ("/by-name/", "/by-address/"):
            with pytest.raises(FetchError) as e:
                fetcher.get(base + path, scope=scope)
            assert e.value.kind == "private-address" and "169.254.169.254" in e.value.message
    assert net.refused == [] and "/latest/meta-data/" not in server.paths()


# --- what allows it ---------------------------------------------------------------------------------

def test_allow_private_in_the_registry_allows_that_source_only(server, store, net, strict, tmp_path):
    secret_site(server)
    net.answers["partner.test"] = ["127.0.0.1"]
    base = f"http://partner.test:{server.server_port}"
    server.route("/feed/", static(rss_of(base, ["/p/"]), RSS))
    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "inside.toml").write_text(f'name = "Inside"\nhomepage = "{base}/"\nfeeds = ["{base}/feed/"]\n'
                                        f"allow_private = true\n")
    (folder / "other.toml").write_text(f'name = "Other"\nhomepage = "{base}/latest/meta-data/"\n')
    inside, other = load_source(folder / "inside.toml"), load_source(folder / "other.toml")
    assert inside.allow_private and not other.allow_private
    report = run_sources([inside, other], store, fetch_config=FAST, workers=1)
    by_id = {r.source_id: r for r in report.sources}
    assert by_id["inside"].ok and by_id["inside"].new_articles == 1
    assert [e.kind for e in by_id["other"].errors] == ["private-address"]
    assert "/latest/meta-data/" not in server.paths()


def test_a_connection_opened_for_an_allowed_source_is_not_reused_for_another(server, strict):
    secret_site(server)
    url = server.url("/p/")
    with Fetcher(FAST) as fetcher:
        assert fetcher.get(url, scope=Scope.of([url], allow_private=True)).status == 200
        hits = len(server.hits)
        with pytest.raises(FetchError) as e:
            fetcher.get(url, scope=Scope.of([url]))
    assert len(server.hits) == hits and e.value.kind == "private-address"


def test_allow_private_must_be_a_boolean(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('name = "P"\nhomepage = "https://example.org/"\nallow_private = "yes"\n')
    with pytest.raises(ConfigError, match="allow_private"):
        load_source(path)


def test_the_environment_allows_it_for_the_whole_run(server, monkeypatch):
    secret_site(server)
    monkeypatch.setenv("SYNDICATE_ALLOW_PRIVATE", "1")
    with Fetcher(FAST) as fetcher:
        assert fetcher.get(server.url("/p/")).status == 200
    monkeypatch.setenv("SYNDICATE_ALLOW_PRIVATE", "0")
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError) as e:
        fetcher.get(server.url("/p/"))
    assert e.value.kind == "private-address"


# --- syndicate extract URL ----------------------------------------------------------------------------

def test_extract_refuses_a_private_address(server, strict):
    secret_site(server)
    result = CliRunner().invoke(cli, ["extract", server.url("/p/")])
    assert result.exit_code == 1
    assert "not a public address" in result.output and SECRET not in result.output
    assert server.hits == []


def test_extract_does_not_follow_a_redirect_to_the_metadata_service(server, net, strict, monkeypatch):
    import pipeline.fetch._address as address_module
    real = address_module.is_public_address
    monkeypatch.setattr(address_module, "is_public_address", lambda a: a == "127.0.0.1" or real(a))
    secret_site(server)
    net.answers["news.partner.test"] = ["127.0.0.1"]  # the stand-in public partner
    server.route("/post/", redirect("http://169.254.169.254/latest/meta-data/", 302))
    result = CliRunner().invoke(cli, ["extract", f"http://news.partner.test:{server.server_port}/post/"])
    assert result.exit_code == 1 and "169.254.169.254" in result.output, result.output
    assert net.refused == [], "extract connected to the metadata address"
    assert server.paths()[-1] == "/post/"
