"""Vidu's callback signature (HMAC-SHA256 over a canonical string), both directions.

The simulator signs with `sign_headers`; the studio checks with `verify`. The string is
METHOD, URI_PATH, CANONICAL_QUERY, ACCESS_KEY, DATE and one `Name:value` line per signed
header, each followed by a newline (../shared/VIDU-API.md, "Callbacks").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

ACCESS_KEY = "vidu"
ALGORITHM = "hmac-sha256"
SIGNED_HEADERS = ("Date", "x-request-nonce")


def signing_string(
    method: str, path: str, query: str, date: str, headers: list[tuple[str, str]]
) -> str:
    lines = [method.upper(), path or "/", query, ACCESS_KEY, date]
    signed = "".join(f"{name}:{value}\n" for name, value in headers)
    return "\n".join(lines) + "\n" + signed


def signature(key: str, text: str) -> str:
    digest = hmac.new(key.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign_headers(
    key: str,
    url: str,
    *,
    method: str = "POST",
    now: datetime | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers a callback to `url` carries."""
    parts = urlsplit(url)
    date = format_datetime(now or datetime.now(UTC), usegmt=True)
    nonce = nonce or str(uuid.uuid4())
    values = {"Date": date, "x-request-nonce": nonce}
    text = signing_string(
        method, parts.path, parts.query, date, [(h, values[h]) for h in SIGNED_HEADERS]
    )
    return {
        "Date": date,
        "x-request-nonce": nonce,
        "X-HMAC-SIGNED-HEADERS": ";".join(SIGNED_HEADERS),
        "X-HMAC-SIGNATURE": signature(key, text),
        "X-HMAC-ALGORITHM": ALGORITHM,
        "X-HMAC-ACCESS-KEY": ACCESS_KEY,
    }


class BadSignature(Exception):
    """A callback whose signature, date or nonce we refuse; the message says which."""


def verify(
    key: str,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    *,
    max_skew: int = 300,
    now: datetime | None = None,
) -> str:
    """Check a callback's signature and Date; return its nonce (the caller checks reuse).

    `headers` must be looked up case-insensitively (Django's request.headers is).
    """
    given = headers.get("X-HMAC-SIGNATURE", "")
    if not given:
        raise BadSignature("no signature")
    algorithm = headers.get("X-HMAC-ALGORITHM", ALGORITHM).lower()
    if algorithm != ALGORITHM:
        raise BadSignature(f"unsupported algorithm {algorithm!r}")
    if headers.get("X-HMAC-ACCESS-KEY", ACCESS_KEY) != ACCESS_KEY:
        raise BadSignature("unknown access key")
    names = [n.strip() for n in headers.get("X-HMAC-SIGNED-HEADERS", "").split(";") if n.strip()]
    if "date" not in {n.lower() for n in names} or "x-request-nonce" not in {
        n.lower() for n in names
    }:
        raise BadSignature("Date and x-request-nonce must be signed")
    date = headers.get("Date", "")
    signed = [(n, headers.get(n, "")) for n in names]
    expected = signature(key, signing_string(method, path, query, date, signed))
    # Bytes, not str: compare_digest refuses non-ASCII str, and a forged header may be any.
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise BadSignature("signature mismatch")
    try:
        sent = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        raise BadSignature("unreadable Date") from None
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    skew = abs(((now or datetime.now(UTC)) - sent).total_seconds())
    if skew > max_skew:
        raise BadSignature(f"Date is {int(skew)} s away from now")
    return headers.get("x-request-nonce", "")
