"""pipeline.fetch.scope: host normalisation and the scope decision (pure, no network).
The same decisions over real HTTP are in test_ingest_untrusted.py."""
from __future__ import annotations

import pytest

from pipeline.fetch.scope import InvalidHost, Scope, host_of, normalize_host


@pytest.mark.parametrize("spelling", ["127.0.0.2", "0x7f000002", "0X7F000002", "2130706434", "0177.0.0.2",
                                      "0177.0.0.02", "127.2", "127.0.2", "0x7f.0.0.2", "127.0.0.2.",
                                      "[::ffff:127.0.0.2]", "::ffff:7f00:2"])
def test_every_spelling_of_an_ipv4_address_is_one_host(spelling):
    assert normalize_host(spelling) == "127.0.0.2"


@pytest.mark.parametrize("host, expected", [
    ("Example.ORG.", "example.org"),
    ("bücher.example", "xn--bcher-kva.example"),
    ("BÜCHER.example", "xn--bcher-kva.example"),
    ("[0:0:0:0:0:0:0:1]", "[::1]"),
    ("0x", "0.0.0.0"),
])
def test_names_and_ipv6(host, expected):
    assert normalize_host(host) == expected


@pytest.mark.parametrize("host", ["a..b", "", ".", "1.2.3.4.5", "256.0.0.1", "08.0.0.1", "0x1.2.3.4.5",
                                  "x" * 64 + ".example", "[::1", "a b", "\u2488.example"])
def test_what_cannot_be_a_host_is_an_error(host):
    with pytest.raises(InvalidHost):
        normalize_host(host)


def test_scope_of_a_registry_entry():
    scope = Scope.of(["https://example.org/", "https://feeds.example.org/rss", None],
                     ["cdn.example.net", "*.blog.example"])
    allowed = ["https://example.org/p/", "http://www.example.org/p/", "https://EXAMPLE.org.:8443/p/",
               "https://feeds.example.org/x", "https://www.feeds.example.org/x", "https://cdn.example.net/a.css",
               "https://a.blog.example/p/", "https://x.y.blog.example/p/"]
    refused = ["https://evil.example/", "https://example.org.evil.example/", "https://blog.example/",
               "https://other.example.org/", "http://127.0.0.1/", "ftp://example.org/", "http://a..b/x",
               "https://example.org:99999/", "http://[::1/"]
    assert all(scope.allows(u) for u in allowed)
    assert not any(scope.allows(u) for u in refused)


def test_loopback_scope_is_the_host_in_any_spelling():
    scope = Scope.of(["http://127.0.0.1:8000/"])
    assert scope.allows("http://0x7f000001:9000/admin") and scope.allows("http://2130706433/")
    assert not scope.allows("http://0x7f000002:8000/") and not scope.allows("http://127.2/")
    assert not scope.allows("http://[::1]:8000/") and not scope.allows("http://localhost:8000/")


def test_host_of_refuses_what_is_not_an_http_url():
    for url in ("javascript:alert(1)", "http:///path", "mailto:a@example.org", "http://[::1/"):
        with pytest.raises(InvalidHost):
            host_of(url)
    assert host_of("http://user:pw@Example.org:81/p?q#f") == "example.org"
