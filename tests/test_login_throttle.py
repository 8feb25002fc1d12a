"""Wrong passwords are limited: per account and address, and per address.

After AXES_FAILURE_LIMIT wrong passwords for one account from one address, even the
right password is refused from there, with a plain page (429) saying for how long; an
address that tried too many wrong passwords in all is refused for every account. Both
hold on the studio's login page and on the admin's, and end after the cool-off.
"""

from datetime import timedelta

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
HERE = "203.0.113.7"
ELSEWHERE = "198.51.100.23"


def try_login(client, username: str, password: str, address: str = HERE, url: str = LOGIN):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def logged_in_as(client) -> str | None:
    from django.contrib.auth import get_user_model

    user_id = client.session.get("_auth_user_id")
    return get_user_model().objects.get(pk=user_id).username if user_id else None


def fail(client, username: str, times: int, address: str = HERE, url: str = LOGIN) -> list:
    return [try_login(client, username, "wrong password", address, url) for _ in range(times)]


def test_the_limits_are_set(settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.STUDIO_LOGIN_ADDRESS_FAILURE_LIMIT == 20
    assert settings.AXES_COOLOFF_TIME == timedelta(minutes=15)
    assert settings.AXES_RESET_ON_SUCCESS is True


def test_wrong_passwords_then_the_right_one_is_refused(client, alice, settings):
    answers = fail(client, "alice", settings.AXES_FAILURE_LIMIT)
    assert [a.status_code for a in answers[:-1]] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert answers[-1].status_code == 429

    response = try_login(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert logged_in_as(client) is None
    html = response.content.decode()
    assert "Too many failed logins" in html
    assert "15 minutes" in html
    assert PASSWORD not in html and "wrong password" not in html
    assert '<form method="post" action="/accounts/logout/"' not in html
    assert "registration/locked_out.html" in [t.name for t in response.templates]


def test_fewer_wrong_passwords_than_the_limit_do_not_lock(client, alice, settings):
    fail(client, "alice", settings.AXES_FAILURE_LIMIT - 1)
    response = try_login(client, "alice", PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("history")
    assert logged_in_as(client) == "alice"


def test_a_right_password_wipes_the_earlier_mistakes(client, alice, settings):
    fail(client, "alice", settings.AXES_FAILURE_LIMIT - 1)
    assert try_login(client, "alice", PASSWORD).status_code == 302
    client.logout()
    fail(client, "alice", settings.AXES_FAILURE_LIMIT - 1)
    assert try_login(client, "alice", PASSWORD).status_code == 302


def test_the_admin_login_is_limited_too(client, django_user_model, settings):
    django_user_model.objects.create_superuser("root", password=PASSWORD)
    answers = fail(client, "root", settings.AXES_FAILURE_LIMIT, url=ADMIN_LOGIN)
    assert answers[-1].status_code == 429
    response = try_login(client, "root", PASSWORD, url=ADMIN_LOGIN)
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert logged_in_as(client) is None
    assert client.get("/admin/").status_code == 302  # still the admin's login page


def test_another_address_keeps_its_own_attempts(client, alice, settings):
    fail(client, "alice", settings.AXES_FAILURE_LIMIT, address=HERE)
    assert try_login(client, "alice", PASSWORD, address=HERE).status_code == 429
    # Alice at home is not locked out by someone guessing her password elsewhere.
    response = try_login(client, "alice", PASSWORD, address=ELSEWHERE)
    assert response.status_code == 302
    assert logged_in_as(client) == "alice"


def test_another_account_from_the_same_address_is_not_locked_by_one_account(
    client, alice, bob, settings
):
    fail(client, "alice", settings.AXES_FAILURE_LIMIT)
    assert try_login(client, "bob", PASSWORD).status_code == 302


def test_an_address_guessing_across_accounts_is_locked_for_every_account(
    client, alice, bob, settings
):
    """Guessing one password for many names (below the per-account limit for each)
    still stops at the per-address limit."""
    limit = settings.STUDIO_LOGIN_ADDRESS_FAILURE_LIMIT
    answers = [try_login(client, f"name{n}", "Summer2024!") for n in range(limit)]
    assert [a.status_code for a in answers[:-1]] == [200] * (limit - 1)
    assert answers[-1].status_code == 429
    assert try_login(client, "bob", PASSWORD).status_code == 429
    assert logged_in_as(client) is None
    assert try_login(client, "bob", PASSWORD, address=ELSEWHERE).status_code == 302


def test_a_right_password_does_not_wipe_the_other_accounts_mistakes(client, alice, bob, settings):
    """Logging in to one's own account between guesses does not reset the address's count."""
    limit = settings.STUDIO_LOGIN_ADDRESS_FAILURE_LIMIT
    for n in range(limit - 1):
        try_login(client, f"name{n}", "Summer2024!")
        if n % 4 == 3:
            assert try_login(client, "bob", PASSWORD).status_code == 302
            client.logout()
    assert try_login(client, "name-last", "Summer2024!").status_code == 429


def test_the_lock_ends_after_the_cool_off(client, alice, settings):
    from axes.models import AccessAttempt

    fail(client, "alice", settings.AXES_FAILURE_LIMIT)
    assert try_login(client, "alice", PASSWORD).status_code == 429
    later = settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(
            attempt_time=attempt.attempt_time - later
        )
    assert try_login(client, "alice", PASSWORD).status_code == 302


def test_no_password_or_token_is_stored_with_the_attempts(client, alice):
    from axes.models import AccessAttempt

    client.post(
        LOGIN,
        {"username": "alice", "password": "hunter2-guess", "csrfmiddlewaretoken": "tok3n-value"},
        REMOTE_ADDR=HERE,
    )
    (attempt,) = AccessAttempt.objects.all()
    assert "hunter2-guess" not in attempt.post_data
    assert "tok3n-value" not in attempt.post_data


def test_forwarded_addresses_are_ignored_unless_configured(client, alice, settings):
    """Without a trusted proxy header, a client cannot dodge the limit by claiming
    another address in X-Forwarded-For."""
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGIN,
            {"username": "alice", "password": "wrong"},
            REMOTE_ADDR=HERE,
            HTTP_X_FORWARDED_FOR=f"10.9.9.{n}",
        )
    response = client.post(
        LOGIN,
        {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR=HERE,
        HTTP_X_FORWARDED_FOR="10.9.9.200",
    )
    assert response.status_code == 429


def test_behind_a_proxy_the_address_the_proxy_saw_counts(client, alice, settings):
    settings.STUDIO_CLIENT_IP_HEADER = "X-Forwarded-For"
    proxy = "10.0.0.2"

    def through_proxy(password: str, client_address: str, claimed: str = "1.2.3.4"):
        # The proxy appends the address it saw to whatever the client sent.
        return client.post(
            LOGIN,
            {"username": "alice", "password": password},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=f"{claimed}, {client_address}",
        )

    for n in range(settings.AXES_FAILURE_LIMIT):
        through_proxy("wrong", HERE, claimed=f"10.9.9.{n}")
    assert through_proxy(PASSWORD, HERE).status_code == 429
    assert through_proxy(PASSWORD, ELSEWHERE).status_code == 302


def test_a_malformed_forwarded_address_falls_back_to_the_connection(client, alice, settings):
    from studio.web.logins import client_address

    settings.STUDIO_CLIENT_IP_HEADER = "X-Forwarded-For"
    from django.test import RequestFactory

    request = RequestFactory().post(LOGIN, REMOTE_ADDR=HERE, HTTP_X_FORWARDED_FOR="not-an-ip")
    assert client_address(request) == HERE
    request = RequestFactory().post(LOGIN, REMOTE_ADDR=HERE)
    assert client_address(request) == HERE
    settings.STUDIO_CLIENT_IP_HEADER = ""
    request = RequestFactory().post(LOGIN, REMOTE_ADDR=HERE, HTTP_X_FORWARDED_FOR=ELSEWHERE)
    assert client_address(request) == HERE


@pytest.mark.parametrize("url", [LOGIN, ADMIN_LOGIN])
def test_the_login_pages_still_open(client, url):
    assert client.get(url).status_code == 200


def test_a_forwarded_address_from_a_client_that_is_no_proxy_is_not_believed(
    client, alice, settings
):
    """STUDIO_HTTPS behind no proxy: a client writing X-Forwarded-For itself, a new
    address each time, is still counted by its own address and locked out."""
    settings.STUDIO_CLIENT_IP_HEADER = "X-Forwarded-For"
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGIN,
            {"username": "alice", "password": "wrong"},
            REMOTE_ADDR=HERE,
            HTTP_X_FORWARDED_FOR=f"198.18.0.{n}",
        )
    response = client.post(
        LOGIN,
        {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR=HERE,
        HTTP_X_FORWARDED_FOR="198.18.0.99",
    )
    assert response.status_code == 429


def test_an_ipv6_client_counts_as_its_slash_64(client, alice, settings):
    """Every address of one /64 is one client: hopping within it does not reset the count."""
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGIN, {"username": "alice", "password": "wrong"}, REMOTE_ADDR=f"2001:db8:1:2::{n + 1}"
        )
    hop = {"REMOTE_ADDR": "2001:db8:1:2:ffff::1"}
    assert client.post(LOGIN, {"username": "alice", "password": PASSWORD}, **hop).status_code == 429
    other = {"REMOTE_ADDR": "2001:db8:1:3::1"}
    assert (
        client.post(LOGIN, {"username": "alice", "password": PASSWORD}, **other).status_code == 302
    )
