"""Which IP addresses a request may connect to, checked where the connection is made.

A partner's host name is untrusted: `blog.partner.example` may resolve to 127.0.0.1, to
169.254.169.254 (a cloud's metadata service) or to a host of our own network, and a name
may resolve to a public address when looked at and to a private one a second later (DNS
rebinding). So the check is not on names: the network backend below resolves the name
once, refuses every address that is not public, and connects to the address it vetted.
The HTTP client still speaks to the name (Host header, TLS SNI and certificate check are
the URL's host), only the socket goes to the vetted address. Every new connection, hence
every redirect to another host, goes through it; a kept-alive connection was vetted when
it was opened, and the fetcher keeps connections that may reach private addresses in a
pool of their own.

Non-public: whatever `ipaddress` does not call global (private, loopback, link-local,
shared address space, documentation and benchmark ranges, unspecified), plus multicast
and reserved addresses, and IPv6 forms that carry an IPv4 address (IPv4-mapped, NAT64,
6to4, Teredo) when the address they carry is not public.

Allowed anyway per source (`allow_private = true` in its registry entry) or for a whole
run (`SYNDICATE_ALLOW_PRIVATE=1`, which the demo and the loopback tests set).
"""
from __future__ import annotations

import ipaddress
import os
import socket
import typing

import httpcore

from ..errors import PrivateAddress

ALLOW_PRIVATE_VAR = "SYNDICATE_ALLOW_PRIVATE"
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def private_allowed_by_environment(environ: typing.Mapping[str, str] | None = None) -> bool:
    """True when SYNDICATE_ALLOW_PRIVATE is set to 1 (or true/yes)."""
    value = (os.environ if environ is None else environ).get(ALLOW_PRIVATE_VAR, "")
    return value.strip().lower() in ("1", "true", "yes")


def is_public_address(address: str) -> bool:
    """True for an IP address on the public internet. Pure."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return is_public_address(str(embedded))
    return bool(ip.is_global and not ip.is_multicast and not ip.is_reserved and not ip.is_unspecified
                and not ip.is_loopback and not ip.is_link_local and not ip.is_private)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's address
    return None


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, in the resolver's order, without repeats.
    `socket.getaddrinfo` is looked up at each call, so a test can stand in for DNS."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def vetted_addresses(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The addresses a connection to host:port may use. Raises PrivateAddress when the
    name has no public address (and private ones are not allowed); OSError when it does
    not resolve. Of a name with both kinds, only the public addresses are used."""
    addresses = resolve(host, port)
    if allow_private:
        return addresses
    public = [a for a in addresses if is_public_address(a)]
    if not public:
        shown = ", ".join(addresses[:4]) or "nothing"
        raise PrivateAddress(f"{host} resolves to a non-public address ({shown}); not fetched "
                             f"(allow_private in the source's registry entry, or {ALLOW_PRIVATE_VAR}=1, "
                             f"allows it)")
    return public


class AddressCheckingBackend(httpcore.NetworkBackend):
    """httpcore's network backend, connecting only to vetted addresses (see the module
    docstring). Wraps the backend httpx built; TLS is started by the connection above
    with the URL's host as server name, so certificates are checked against the name."""

    def __init__(self, inner: httpcore.NetworkBackend, *, allow_private: bool):
        self._inner = inner
        self.allow_private = allow_private

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options=None) -> httpcore.NetworkStream:
        try:
            addresses = vetted_addresses(host, port, allow_private=self.allow_private)
        except socket.gaierror as e:
            raise httpcore.ConnectError(f"cannot resolve {host}: {e}") from e
        error: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                error = e  # the next address of the name, as socket.create_connection does
        assert error is not None
        raise error

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options=None) -> httpcore.NetworkStream:  # pragma: no cover - unused
        raise PrivateAddress(f"unix socket {path!r} refused")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
