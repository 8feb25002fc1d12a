import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from studio.models import Membership


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
    assert authenticate(username="dana", password="a long enough secret")


def test_it_updates_role_and_password(db):
    run("dana", "--team", "A", "--password-stdin", stdin="first secret pass\n")
    run("dana", "--team", "A", "--role", "viewer", "--password-stdin", stdin="second secret pass\n")
    assert Membership.objects.get(user__username="dana").role == "viewer"
    assert authenticate(username="dana", password="second secret pass")
    assert not authenticate(username="dana", password="first secret pass")


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
