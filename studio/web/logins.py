"""Limits on wrong passwords, through django-axes (settings: AXES_*, STUDIO_LOGIN_*).

Axes counts failed logins per (account, address) and per address, and refuses a login
once a count reaches its limit. This module gives it the client's address (behind a
proxy too), a second, higher limit for the per-address count, and the page a refused
person sees.
"""

from __future__ import annotations

import ipaddress

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_address(request: HttpRequest) -> str | None:
    """The address logins are counted against. Behind a trusted proxy (the connection
    comes from STUDIO_TRUSTED_PROXIES), the last entry of STUDIO_CLIENT_IP_HEADER: what
    the proxy saw. Else, and when that holds no address, the connection's own. An IPv6
    address counts as its /64, the block one home or host is usually given."""
    connection = _address(request.META.get("REMOTE_ADDR", ""))
    header = settings.STUDIO_CLIENT_IP_HEADER
    if header and connection is not None and _trusted(connection):
        value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        forwarded = _address(value.rsplit(",", 1)[-1])
        if forwarded is not None:
            return _counted(forwarded)
    return _counted(connection) if connection is not None else None


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address) -> bool:
    return any(
        address in ipaddress.ip_network(network, strict=False)
        for network in settings.STUDIO_TRUSTED_PROXIES
    )


def _counted(address) -> str:
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


class LoginAttempts(AxesDatabaseHandler):
    """Axes' database handler with a separate limit for the per-address count.

    Axes compares its largest count with one limit (AXES_FAILURE_LIMIT). Here the
    per-account count (first in AXES_LOCKOUT_PARAMETERS) meets that limit, and the
    per-address count (second) its own, STUDIO_LOGIN_ADDRESS_FAILURE_LIMIT.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        per_account, per_address = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if per_address >= settings.STUDIO_LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(per_account, get_failure_limit(request, credentials))
        return per_account

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """A right password wipes that account's mistakes from that address; the
        address's guesses at other accounts still count."""
        per_account = self.filter_user_attempts(request, credentials)[0]
        count, _ = per_account.delete()
        return count


def locked_out(request: HttpRequest, response=None, credentials=None) -> HttpResponse:
    """The page for a refused login (429), on the studio's login page and the admin's."""
    cool_off = get_cool_off(request)
    minutes = round(cool_off.total_seconds() / 60) if cool_off else None
    return render(
        request,
        "registration/locked_out.html",
        {"minutes": minutes},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
