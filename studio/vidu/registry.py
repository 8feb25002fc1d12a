"""Which dialect speaks to which provider, and one HTTP client per connection and process.

Dialect modules are imported only when used (settings import this module to check
VIDU_PROVIDER). A generation records the connection it was sent to, so a task keeps
being followed by the dialect that created it after the configuration changes.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from django.utils.module_loading import import_string

from studio.vidu.base import ProviderError

# name -> (dialect class, the provider's documented origin)
PROVIDERS = {
    "official": ("studio.vidu.official.Official", "https://api.vidu.com"),
    "octopusx": ("studio.vidu.octopusx.Octopusx", "https://octopusx.ai"),
    "umodelverse": ("studio.vidu.umodelverse.Umodelverse", "https://api.umodelverse.ai"),
    "kkiai": ("studio.vidu.official.Kkiai", "https://www.kkiai.com"),
    "vtrix": ("studio.vidu.vtrix.Vtrix", "https://cloud.vtrix.ai"),
}


class UnknownProvider(ValueError):
    pass


@dataclass(frozen=True)
class Connection:
    """A provider and the origin the studio reaches it on."""

    provider: str
    base_url: str


def check(name: str) -> str:
    if name not in PROVIDERS:
        raise UnknownProvider(
            f"VIDU_PROVIDER={name!r} is not one the studio speaks; use one of "
            + ", ".join(PROVIDERS)
            + "."
        )
    return name


def default_base_url(name: str) -> str:
    return PROVIDERS[check(name)][1]


def dialect_class(name: str):
    return import_string(PROVIDERS[check(name)][0])


def current() -> Connection:
    from django.conf import settings

    return Connection(settings.VIDU_PROVIDER, settings.VIDU_BASE_URL)


class NoKey(ProviderError):
    """The studio has no key for a connection it sent tasks through before: nothing is
    sent there (another connection's key never is), and its tasks wait for a person."""

    permanent = True

    def __init__(self, connection: Connection):
        label = dialect_class(connection.provider).label
        variable = key_variable(connection)
        super().__init__(
            NO_KEY,
            f"no key for {connection.provider} at {connection.base_url}",
            plain=(
                f"The studio no longer has a key for {label} ({connection.base_url}), where "
                f"this video was sent: nothing more is asked of {label} about it until an "
                f"operator sets {variable}."
            ),
        )
        self.connection = connection


NO_KEY = "NoKeyForConnection"


def key_variable(connection: Connection) -> str:
    return f"VIDU_API_KEY_{connection.provider.upper()}"


def _same(a: Connection, b: Connection) -> bool:
    return a.provider == b.provider and a.base_url.rstrip("/") == b.base_url.rstrip("/")


def api_key_for(connection: Connection) -> str:
    """The key for a connection, and only its own: VIDU_API_KEY for the configured one;
    for one the studio used before, VIDU_API_KEY_<PROVIDER>. Raises NoKey when there is
    none: the configured key is never sent to another provider or origin."""
    from django.conf import settings

    if _same(connection, current()):
        return settings.VIDU_API_KEY
    kept = os.environ.get(key_variable(connection), "")
    if not kept:
        raise NoKey(connection)
    return kept


_clients: dict = {}
_lock = threading.Lock()


def connect(connection: Connection | None = None):
    """The dialect for `connection` (the configured one by default), with an HTTP client
    kept for this process: building one per call reloads the certificate bundle."""
    from django.conf import settings

    connection = connection or current()
    key = api_key_for(connection)
    cache_key = (os.getpid(), connection, key, settings.VIDU_TIMEOUT)
    with _lock:
        dialect = _clients.get(cache_key)
        if dialect is None:
            cls = dialect_class(connection.provider)
            dialect = cls(connection.base_url, key, timeout=settings.VIDU_TIMEOUT)
            _clients[cache_key] = dialect
    return dialect


def forget_clients() -> None:
    """Close every kept client (tests that change settings between calls)."""
    with _lock:
        for dialect in _clients.values():
            dialect.close()
        _clients.clear()
