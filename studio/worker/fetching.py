"""Fetching what a provider's answer points at (result videos, covers) without letting
that answer point the worker anywhere else.

A result URL comes from the provider, or from a gateway in front of it, and is fetched
by the worker from inside the studio's network. So a link is followed only over http or
https, only to public addresses, and only a few redirects deep, each one checked like
the first. The address is checked where the connection is made: the name is resolved
once, each address it resolves to is checked, and the connection goes to a checked
address (`CheckedBackend`), so a name that answers one address to a check and another
to the connection (DNS rebinding) reaches nothing private. TLS still checks the
certificate against the name in the link.

Private addresses the studio does fetch from are listed in STUDIO_FETCH_PRIVATE_HOSTS:
the local simulator's own address when the studio uses it, an operator's own storage.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MAX_REDIRECTS = 5
SCHEMES = ("http", "https")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class NotFetched(ValueError):
    """A link the studio will not follow, or a file it stops reading."""

    def __init__(self, message: str, url: str | httpx.URL = ""):
        super().__init__(message)
        self.url = str(url)


class NotAllowed(NotFetched):
    """A link that is not http(s), or that leads to an address that is not public."""


class TooManyRedirects(NotFetched):
    pass


class TooLarge(NotFetched):
    """A body longer than what it stands for can weigh."""


@dataclass(frozen=True)
class Allowed:
    """One entry of STUDIO_FETCH_PRIVATE_HOSTS: a name, an address or a network, with
    or without a port."""

    name: str = ""
    network: Network | None = None
    port: int | None = None

    def admits(self, host: str, address: Address, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            return address in self.network
        return host.lower().rstrip(".") == self.name


def parse_allowed(entries: Iterable[str]) -> tuple[Allowed, ...]:
    """`127.0.0.1:8765`, `[::1]:8765`, `::1`, `10.0.0.0/8`, `minio`, `minio:9000`."""
    parsed = []
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        network = _network(entry)
        if network is not None:
            parsed.append(Allowed(network=network))
            continue
        parts = urlsplit(f"//{entry}")
        try:
            port = parts.port
        except ValueError:
            raise ImproperlyConfigured(
                f"STUDIO_FETCH_PRIVATE_HOSTS: {entry!r} is not a host, an address or a "
                "network (such as 127.0.0.1:8765, minio or 10.0.0.0/8)."
            ) from None
        host = (parts.hostname or "").rstrip(".")
        network = _network(host)
        if network is not None:
            parsed.append(Allowed(network=network, port=port))
        elif host:
            parsed.append(Allowed(name=host, port=port))
    return tuple(parsed)


def _network(text: str) -> Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries to its destination, if any: mapped (::ffff:),
    NAT64 (64:ff9b::/96), 6to4 and Teredo."""
    if address.version != 6:
        return None
    if address.ipv4_mapped or address.sixtofour:
        return address.ipv4_mapped or address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public(address: Address) -> bool:
    """An address on the internet at large: not loopback, private, link-local (the cloud
    metadata service at 169.254.169.254), shared, reserved or multicast."""
    inner = embedded_ipv4(address)
    if inner is not None:
        return is_public(inner)
    return address.is_global and not address.is_multicast


class CheckedBackend(httpcore.NetworkBackend):
    """httpcore's own socket backend, connecting only to addresses that are public or
    allowed. httpcore asks it for every connection, the first and each redirect's, and
    hands it the name from the link: it resolves that name itself and connects to the
    address it checked, never resolving again."""

    def __init__(self, allowed: tuple[Allowed, ...]):
        self.allowed = allowed
        self._inner = httpcore.SyncBackend()

    def permits(self, host: str, address: Address, port: int) -> bool:
        return is_public(address) or any(a.admits(host, address, port) for a in self.allowed)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable | None = None,
    ) -> httpcore.NetworkStream:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"could not resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(info[4][0] for info in found))
        failure: httpcore.ConnectError | None = None
        for text in addresses:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            if not self.permits(host, address, port):
                continue
            try:
                return self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # the next address, as socket.create_connection does
        if failure is not None:
            raise failure
        raise NotAllowed(f"{host} is not a public address ({', '.join(addresses)})")

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise NotAllowed("result links are fetched over TCP only")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class CheckedTransport(httpx.HTTPTransport):
    """httpx's transport over `CheckedBackend`. httpx takes no network backend of its
    own, so the transport's connection pool (the httpcore pool it always builds, in
    `_pool`) is built again here with one; every other part of the transport is httpx's.
    No proxy: a proxy would be the only address checked."""

    def __init__(self, allowed: tuple[Allowed, ...]):
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=10,
            keepalive_expiry=5.0,
            network_backend=CheckedBackend(allowed),
        )


def client(timeout: float = 120, allowed: Iterable[str] | None = None) -> httpx.Client:
    """An httpx client for links from a provider's answer; follow redirects with `get`."""
    entries = settings.STUDIO_FETCH_PRIVATE_HOSTS if allowed is None else allowed
    return httpx.Client(
        transport=CheckedTransport(parse_allowed(entries)),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        # Bodies are counted as they arrive: a compressed one could swell past any cap
        # inside a single chunk.
        headers={"Accept-Encoding": "identity"},
    )


def check_link(url: httpx.URL) -> None:
    if url.scheme not in SCHEMES or not url.host:
        raise NotAllowed(f"not an http(s) link ({url.scheme or 'no'} scheme)", url)


@contextmanager
def get(http: httpx.Client, url: str) -> Iterator[httpx.Response]:
    """GET `url`, following up to MAX_REDIRECTS redirects, each checked as the first;
    yields the last answer, its body not yet read."""
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL:
        raise NotAllowed("not a URL") from None
    for _ in range(MAX_REDIRECTS + 1):
        check_link(target)
        try:
            response = http.send(http.build_request("GET", target), stream=True)
        except NotAllowed as exc:
            exc.url = exc.url or str(target)
            raise
        try:
            if response.next_request is None:
                yield response
                return
            target = response.next_request.url
        finally:
            response.close()
    raise TooManyRedirects(f"more than {MAX_REDIRECTS} redirects", target)


def shown(url: str | httpx.URL) -> str:
    """A link as a log may show it: scheme, host, port and path; no query (a provider's
    signed links carry their signature there), no fragment, no user or password."""
    try:
        parts = httpx.URL(str(url))
    except httpx.InvalidURL:
        return "(a link that is not a URL)"
    port = f":{parts.port}" if parts.port else ""
    host = f"[{parts.host}]" if ":" in parts.host else parts.host
    return f"{parts.scheme}://{host}{port}{parts.path}"


QUERY = re.compile(r"\?[^\s'\"<>]*")


def described(exc: BaseException) -> str:
    """What went wrong, for a log line: which link (without its query) and why."""
    url = getattr(exc, "url", "") or ""
    if not url and isinstance(exc, httpx.HTTPError):
        try:
            url = exc.request.url
        except RuntimeError:
            url = ""
    if isinstance(exc, httpx.HTTPStatusError):
        reason = f"answered {exc.response.status_code}"
    else:
        reason = QUERY.sub("", str(exc)) or type(exc).__name__
    return f"{type(exc).__name__}: {reason}" + (f" ({shown(url)})" if url else "")
