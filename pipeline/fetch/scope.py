"""A partner's fetch scope: which hosts a source's requests may reach. Pure: no network.

A partner is untrusted input: a feed item's <link>, a redirect, a <link rel="alternate">
feed or a sitemap child may name any host, including one inside our own network
(`http://127.0.0.2:18201/admin.html?action=delete`, also written `http://0x7f000002/`).
The fetcher asks `Scope.check` before every request and every redirect hop; nothing else
in the package decides scope.

Which addresses a host may resolve to is not decided here but where the connection is
made (`_address.py`): a name is only a name until it is resolved. `allow_private` carries
the source's permission to reach non-public addresses to that check.

The scope of a source is the set of hosts named by its registry entry (homepage, feeds,
sitemap, blog index) plus its optional `allowed_hosts` (a CDN, a blog on a subdomain;
`*.example.org` allows every subdomain). A host and its `www.` form count as one site:
`example.org` redirecting to `www.example.org` is the most common redirect there is.
Ports are not part of the scope: a site's http and https ports are the same site.

Hosts are compared after normalisation, so that one host has one spelling:
- IPv4 in any notation the resolver accepts (WHATWG URL rules, which follow inet_aton):
  `0x7f000002`, `2130706434`, `0177.0.0.2`, `127.2` all become `127.0.0.2`;
- IPv6 compressed and bracketed, an IPv4-mapped IPv6 address as its IPv4 address;
- names lower-cased, the root dot dropped, internationalised names as IDNA A-labels
  (UTS #46); a name that is not a valid host (`a..b`, a label over 63 characters) is an
  error, not a guess.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Iterable
from urllib.parse import urlsplit

import idna

_LABEL = re.compile(r"^[a-z0-9_-]{1,63}$")
_NUMBER = re.compile(r"^(?:0[xX][0-9a-fA-F]*|[0-9]+)$")


class InvalidHost(ValueError):
    """The host of a URL cannot be a real host (bad IDNA, empty label, bad IP literal)."""


def normalize_host(host: str) -> str:
    """The one spelling of `host` (see the module docstring). Raises InvalidHost."""
    h = host.strip()
    if not h:
        raise InvalidHost("empty host")
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    if ":" in h:  # only an IPv6 literal has a colon once the port is gone
        try:
            addr = ipaddress.IPv6Address(h.split("%", 1)[0])
        except ValueError as e:
            raise InvalidHost(f"not an IPv6 address: {host!r}") from e
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return f"[{addr.compressed}]"
    h = h.rstrip(".") if h != "." else h
    labels = h.split(".")
    if labels and _NUMBER.match(labels[-1]):
        # WHATWG: a host whose last label is a number is an IPv4 address or invalid.
        return _ipv4(labels, host)
    if not h.isascii():
        try:
            h = idna.encode(h, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError) as e:
            raise InvalidHost(f"not a valid internationalised host name: {host!r} ({e})") from e
    h = h.lower()
    if len(h) > 253:
        raise InvalidHost(f"host name longer than 253 characters: {host[:60]!r}...")
    for label in h.split("."):
        if not _LABEL.match(label):
            raise InvalidHost(f"not a valid host name: {host!r}")
    return h


def _ipv4(labels: list[str], host: str) -> str:
    if len(labels) > 4 or any(not _NUMBER.match(p) for p in labels):
        raise InvalidHost(f"not a valid IPv4 address: {host!r}")
    numbers = []
    for part in labels:
        if part[:2] in ("0x", "0X"):
            numbers.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            if any(c in "89" for c in part):
                raise InvalidHost(f"not a valid IPv4 address (bad octal part): {host!r}")
            numbers.append(int(part, 8))
        else:
            numbers.append(int(part))
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        raise InvalidHost(f"not a valid IPv4 address (part out of range): {host!r}")
    value = last
    for i, n in enumerate(head):
        value += n << (8 * (3 - i))
    return str(ipaddress.IPv4Address(value))


def host_of(url: str) -> str:
    """The normalised host of an absolute http(s) URL. Raises InvalidHost."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as e:
        raise InvalidHost(f"not a valid URL: {e}") from e
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise InvalidHost("not an http(s) URL with a host")
    if "[" in parts.netloc and not parts.netloc.rsplit("@", 1)[-1].startswith("["):
        raise InvalidHost("misplaced bracket in the host")
    return normalize_host(host)


def _site_forms(host: str) -> set[str]:
    if host.startswith("[") or _is_ipv4(host):
        return {host}
    bare = host[4:] if host.startswith("www.") else host
    return {bare, "www." + bare}


def _is_ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
        return True
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Scope:
    """The hosts one source may fetch from. `Scope.of(...)` builds it; `allows` decides."""

    hosts: frozenset[str]
    suffixes: tuple[str, ...] = ()  # ".example.org" for an allowed "*.example.org"
    # The source may connect to private, loopback and link-local addresses (its registry
    # entry's `allow_private`); checked by the fetcher where names resolve (_address.py).
    allow_private: bool = False

    @classmethod
    def of(cls, urls: Iterable[str | None], allowed_hosts: Iterable[str] = (), *,
           allow_private: bool = False) -> "Scope":
        """The scope of a registry entry: the hosts of its URLs, plus `allowed_hosts`
        (host names or `*.domain`). Raises InvalidHost for an allowed host that is not one."""
        hosts: set[str] = set()
        suffixes: list[str] = []
        for url in urls:
            if url:
                hosts |= _site_forms(host_of(url))
        for entry in allowed_hosts:
            entry = entry.strip()
            if entry.startswith("*."):
                suffixes.append("." + normalize_host(entry[2:]))
            else:
                hosts |= _site_forms(normalize_host(entry))
        return cls(frozenset(hosts), tuple(sorted(set(suffixes))), allow_private)

    def allows_host(self, host: str) -> bool:
        """`host` must already be normalised (`normalize_host`)."""
        return host in self.hosts or any(host.endswith(s) for s in self.suffixes)

    def allows(self, url: str) -> bool:
        """True when `url` is a valid http(s) URL on one of the scope's hosts."""
        try:
            return self.allows_host(host_of(url))
        except InvalidHost:
            return False

    def describe(self) -> str:
        return ", ".join(sorted(self.hosts) + ["*" + s for s in self.suffixes])
