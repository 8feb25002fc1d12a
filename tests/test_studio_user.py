import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from studio.models import Membership


def can_log_in(username: str, password: str) -> bool:
    # A login comes with its request: the wrong-password limits count per address.
    request = RequestFactory().post("/accounts/login/")
    return authenticate(request, username=username, password=password) is not None


def run(*args, stdin=""):
    out = io.StringIO()
    import sys

    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command("studio_user", *args, stdout=out)
    finally:
        sys.stdin = old
    return out.getvalue()


def test_it_creates_the_user_and_the_team(db):
    out = run(
        "dana",
        "--team",
        "Studio A",
        "--role",
        "owner",
        "--password-stdin",
        stdin="a long enough secret\n",
    )
    assert "Created dana: owner of Studio A" in out
    membership = Membership.objects.get(user__username="dana")
    assert membership.team.name == "Studio A" and membership.role == "owner"
    assert can_log_in("dana", "a long enough secret")


def test_it_updates_role_and_password(db):
    run("dana", "--team", "A", "--password-stdin", stdin="first secret pass\n")
    run("dana", "--team", "A", "--role", "viewer", "--password-stdin", stdin="second secret pass\n")
    assert Membership.objects.get(user__username="dana").role == "viewer"
    assert can_log_in("dana", "second secret pass")
    assert not can_log_in("dana", "first secret pass")


def test_it_adds_a_second_team(db):
    run("dana", "--team", "A")
    run("dana", "--team", "B", "--role", "viewer")
    assert sorted(Membership.objects.values_list("team__name", "role")) == [
        ("A", "member"),
        ("B", "viewer"),
    ]


def test_it_refuses_a_weak_password(db):
    with pytest.raises(CommandError):
        run("dana", "--team", "A", "--password-stdin", stdin="123\n")
