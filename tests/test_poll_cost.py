"""The page's poll when nothing changed: answered 204 from one query, with no session,
user or membership loaded, but only for the session and team its signed token names."""

from __future__ import annotations

import re

import pytest
from django.core import signing
from django.urls import reverse

from studio.models import Generation
from studio.web.views import polls
from tests.factories import make_generation

pytestmark = pytest.mark.django_db


def poller_url(client, generation) -> str:
    """The poll URL the detail page gives its poller."""
    html = client.get(reverse("generation", args=[generation.pk])).content.decode()
    return re.search(r'hx-get="([^"]+)"', html.split('id="poller"')[1])[1].replace("&amp;", "&")


def test_an_unchanged_poll_is_answered_204_with_one_query(
    client, alice, team, django_assert_num_queries
):
    g = make_generation(team, alice, state="processing")
    client.force_login(alice)
    url = poller_url(client, g)
    with django_assert_num_queries(1):
        response = client.get(url)
    assert response.status_code == 204 and response.content == b""


def test_a_change_is_answered_with_the_fragment_and_a_fresh_poller(client, alice, team):
    g = make_generation(team, alice, state="processing")
    client.force_login(alice)
    url = poller_url(client, g)
    Generation.objects.filter(pk=g.pk).update(state="failed", error_message="It broke.")
    response = client.get(url)
    assert response.status_code == 286
    assert f'id="gen-{g.pk}"' in response.content.decode()


def test_the_page_polls_faster_while_a_video_is_about_to_appear(client, alice, team):
    queued = make_generation(team, alice, state="queued")
    off_peak = make_generation(
        team, alice, state="queueing", params={"duration": 2, "off_peak": True}
    )
    processing = make_generation(team, alice, state="processing")
    client.force_login(alice)
    for slow in (queued, off_peak):
        html = client.get(reverse("generation", args=[slow.pk])).content.decode()
        assert 'hx-trigger="every 2s"' in html
    html = client.get(reverse("generation", args=[processing.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in html


def test_a_token_from_another_session_takes_the_full_way(client, alice, team, django_user_model):
    g = make_generation(team, alice, state="processing")
    client.force_login(alice)
    url = poller_url(client, g)
    client.logout()  # the session ends; the token names it
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_token_does_not_answer_for_another_teams_generations(client, alice, charlie, team):
    theirs = make_generation(charlie.memberships.get().team, charlie, state="processing")
    mine = make_generation(team, alice, state="processing")
    client.force_login(alice)
    url = poller_url(client, mine).replace(str(mine.pk), str(theirs.pk))
    response = client.get(url)
    assert response.status_code != 204
    assert str(theirs.pk) not in response.content.decode()


def test_a_forged_or_expired_token_takes_the_full_way(client, alice, team, monkeypatch):
    g = make_generation(team, alice, state="processing")
    client.force_login(alice)
    url = poller_url(client, g)
    forged = re.sub(r"t=[^&]+", "t=1%3A1%3Aabc%3Aforged", url)
    assert client.get(forged).status_code == 200  # the full answer: a fresh poller
    later = signing.time.time() + polls.TOKEN_MAX_AGE + 5
    monkeypatch.setattr(signing.time, "time", lambda: later)
    response = client.get(url)
    assert response.status_code == 200 and 'id="poller"' in response.content.decode()
