"""Each member's monthly limit: set by owners on the team page, shown on the form,
enforced with the team's budget at submit time."""

from __future__ import annotations

import pytest
from django.urls import reverse

from studio import budgets
from studio.models import Generation, Membership, Team
from tests.factories import make_generation
from tests.test_generate import upload

pytestmark = pytest.mark.usefixtures("media_root")
URL = reverse("generate", args=["img2video"])
# viduq2-turbo, 3 s at 540p: the catalog estimates 3 credits.
FORM = {"model": "viduq2-turbo", "prompt": "a slow pan", "duration": "3", "resolution": "540p"}


def limit_of(person, team) -> int | None:
    return Membership.objects.get(user=person, team=team).monthly_limit


def set_limit(person, team, credits) -> Membership:
    Membership.objects.filter(user=person, team=team).update(monthly_limit=credits)
    return Membership.objects.get(user=person, team=team)


def limit_url(person, team) -> str:
    return reverse("member_limit", args=[Membership.objects.get(user=person, team=team).pk])


# Setting limits


def test_an_owner_sets_and_clears_a_members_limit(client, team, alice, bob):
    client.force_login(alice)
    response = client.post(limit_url(bob, team), {"monthly_limit": "40"})
    assert response.status_code == 302 and response["Location"].endswith("#budget")
    assert limit_of(bob, team) == 40
    assert "bob may spend 40 credits a month." in client.get(response["Location"]).content.decode()
    client.post(limit_url(bob, team), {"monthly_limit": ""})
    assert limit_of(bob, team) is None


def test_htmx_gets_the_budget_section_back_with_the_limit(client, team, alice, bob):
    client.force_login(alice)
    response = client.post(
        limit_url(bob, team), {"monthly_limit": "12"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith(
        '<section class="panel" id="budget">'
    )
    assert 'value="12"' in html and "12 left this month" in html


def test_a_bad_limit_is_explained_in_its_row(client, team, alice, bob):
    client.force_login(alice)
    response = client.post(limit_url(bob, team), {"monthly_limit": "-3"})
    assert response.status_code == 422
    assert "greater than or equal to 0" in response.content.decode()
    assert limit_of(bob, team) is None


def test_only_owners_set_limits(client, team, alice, bob, vera, charlie):
    for person, status in ((bob, 403), (vera, 403), (charlie, 404)):
        client.force_login(person)
        assert client.post(limit_url(bob, team), {"monthly_limit": "1"}).status_code == status
    assert limit_of(bob, team) is None


def test_the_per_member_table_shows_each_limit(client, team, alice, bob, vera):
    set_limit(bob, team, 30)
    make_generation(team, bob, credits=10)
    client.force_login(vera)
    html = client.get(reverse("team")).content.decode()
    table = html[html.index('id="by-member"') : html.index('id="by-model"')]
    assert "Monthly limit" in table
    assert "30 credits" in table and "20 left this month" in table  # bob's
    assert table.count("no limit") == 2  # alice and vera, who spent nothing
    assert "/limit/" not in table and "<form" not in table  # a viewer sets nothing


def test_owners_get_a_form_per_member(client, team, alice, bob, vera):
    client.force_login(alice)
    html = client.get(reverse("team")).content.decode()
    for person in (alice, bob, vera):
        assert limit_url(person, team) in html
    assert 'aria-label="Monthly limit of bob, in credits"' in html


# Enforcing them


def test_a_submit_past_the_persons_limit_is_refused_saying_what_is_left(client, team, bob, alice):
    set_limit(bob, team, 5)
    make_generation(team, bob, credits=3)
    make_generation(team, alice, credits=100)  # someone else's spending does not count
    client.force_login(bob)
    response = client.post(URL, {**FORM, "images": upload()})
    html = response.content.decode()
    assert response.status_code == 422
    assert "past your own monthly limit of 5 credits" in html
    assert "you have 2 credits left this month" in html
    assert Generation.objects.count() == 2


def test_within_the_limit_it_is_made(client, team, bob):
    set_limit(bob, team, 6)
    make_generation(team, bob, credits=3)
    client.force_login(bob)
    assert client.post(URL, {**FORM, "images": upload()}).status_code == 302


def test_the_persons_spending_is_counted_as_the_teams(team, alice, bob):
    make_generation(team, bob, credits=4)
    make_generation(team, bob, state="failed")  # never charged: 0
    make_generation(team, bob, state="processing")  # the estimate: 2
    make_generation(team, alice, credits=50)
    assert budgets.spent_by(team, bob) == 6
    assert budgets.spent_this_month(team) == 56


def test_the_teams_budget_still_applies_to_someone_with_a_limit(client, team, bob):
    set_limit(bob, team, 1000)
    Team.objects.filter(pk=team.pk).update(monthly_budget=2)
    client.force_login(bob)
    response = client.post(URL, {**FORM, "images": upload()})
    assert "past its monthly budget of 2 credits" in response.content.decode()


# What the form says is left


def left_on_form(client) -> str:
    html = client.get(URL).content.decode()
    estimate = html[html.index('id="estimate"') :]
    return estimate[: estimate.index("</output>")]


def test_the_form_says_nothing_when_neither_is_set(client, team, bob):
    client.force_login(bob)
    assert 'id="allowance"' not in left_on_form(client)


def test_the_form_says_what_the_team_has_left(client, team, bob, alice):
    Team.objects.filter(pk=team.pk).update(monthly_budget=100)
    make_generation(team, alice, credits=10)
    client.force_login(bob)
    assert "90 credits left this month (the team&#x27;s budget)" in left_on_form(client)


def test_the_form_says_the_smaller_of_the_two(client, team, bob, alice):
    Team.objects.filter(pk=team.pk).update(monthly_budget=100)
    set_limit(bob, team, 20)
    make_generation(team, bob, credits=8)
    client.force_login(bob)
    assert "12 credits left this month (your monthly limit)" in left_on_form(client)
    Team.objects.filter(pk=team.pk).update(monthly_budget=15)
    assert "7 credits left this month (the team&#x27;s budget)" in left_on_form(client)


def test_the_form_warns_when_what_is_left_is_not_enough(client, team, bob):
    set_limit(bob, team, 4)  # the default video, 5 s at 720p, is more
    client.force_login(bob)
    assert "4 credits left this month (your monthly limit): not enough for this" in left_on_form(
        client
    )


def test_the_options_swap_refreshes_what_is_left_against_the_total(client, team, bob):
    set_limit(bob, team, 12)
    client.force_login(bob)
    swap = client.get(
        f"{URL}?model=viduq2-turbo&duration=3&resolution=540p&variants=4",
        headers={"HX-Request": "true", "HX-Target": "options"},
    ).content.decode()
    assert "≈ 12 credits for 4 videos" in swap
    assert "12 credits left this month (your monthly limit)</span>" in swap
