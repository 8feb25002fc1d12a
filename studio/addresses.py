"""The studio's public address: where links sent outside point (callbacks for the
provider, signed image links, shared videos, invites).

STUDIO_PUBLIC_URL when it is set; otherwise the address the request came in on, and
nothing at all where there is no request (a job cannot guess an address the provider
reaches).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def public_base(request: HttpRequest | None = None) -> str | None:
    """The scheme and host (and any path prefix) that public links start with."""
    if settings.STUDIO_PUBLIC_URL:
        return settings.STUDIO_PUBLIC_URL
    if request is None:
        return None
    return f"{request.scheme}://{request.get_host()}"


def public_url(path: str, request: HttpRequest | None = None) -> str | None:
    """An absolute URL for `path` (from `reverse`) that people and services outside can
    open, or None without STUDIO_PUBLIC_URL nor a request."""
    base = public_base(request)
    return None if base is None else base + path
