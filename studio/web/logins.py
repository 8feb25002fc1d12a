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
    """The address logins are counted against: the last entry of
    STUDIO_CLIENT_IP_HEADER (what the proxy in front saw) when that is set and holds an
    address, else the connection's own."""
    header = settings.STUDIO_CLIENT_IP_HEADER
    if header:
        value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        last = value.rsplit(",", 1)[-1].strip()
        try:
            return str(ipaddress.ip_address(last))
        except ValueError:
            pass  # no header, or not an address: the connection's address counts
    return request.META.get("REMOTE_ADDR") or None


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
