"""The history and the team page against a long history: few queries, right rows."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from studio import budgets
from studio.models import TERMINAL, Creation, Generation, Membership, Star, State

pytestmark = pytest.mark.usefixtures("media_root")

MODELS = ["viduq3-turbo", "viduq2-turbo", "viduq1", "vidu2.0"]
WORDS = ["harbour at dawn", "misty forest", "neon street", "Desert Dunes", "quiet library"]
STATES = [State.SUCCESS] * 5 + [State.FAILED, State.CANCELLED, State.PROCESSING]
STATES += [State.UNCONFIRMED, State.SUCCESS, State.QUEUED, State.QUEUEING, State.SUBMITTING]
STATES += [State.CREATED]


def ids_in(html: str) -> list[str]:
    return re.findall(r'data-generation-id="([^"]+)"', html)


def next_link(html: str) -> str | None:
    match = re.search(r'href="\?([^"]*before=[^"]+)" rel="next"', html)
    return match[1].replace("&amp;", "&") if match else None


def history_of(team, authors, count: int) -> list[Generation]:
    """`count` generations of every kind, state and model, some sharing a moment (so the
    id breaks ties), some with a stored video, some with credits or a price in dollars."""
    now = timezone.now()
    generations, creations = [], []
    for i in range(count):
        state = STATES[i % len(STATES)]
        g = Generation(
            team=team,
            author=authors[i % len(authors)],
            endpoint="start-end2video" if i % 4 == 3 else "img2video",
            model=MODELS[i % len(MODELS)],
            prompt=f"a red fox in the {WORDS[i % len(WORDS)]}, shot {i}" if i % 9 else "",
            params={"duration": 4, "resolution": "720p"},
            state=state,
            provider="vtrix" if i % 10 == 7 else "official",
            estimated_credits=4,
            # Three at a time share a timestamp; spread over a few months.
            created_at=now - timedelta(hours=(i // 3) * 17),
        )
        if state == State.SUCCESS:
            g.result_status = "stored"
            if g.provider == "vtrix":
                g.cost_usd = Decimal("0.2")
            else:
                g.credits = 4
            creations.append(
                Creation(
                    generation=g,
                    provider_creation_id="c1",
                    video=f"creations/{g.id}/video.mp4",
                    cover=f"creations/{g.id}/cover.jpg",
                    duration=4.0,
                )
            )
        elif state in (State.FAILED, State.CANCELLED):
            g.error_message = "Vidu refused the prompt under its content policy."
        generations.append(g)
    Generation.objects.bulk_create(generations)
    Creation.objects.bulk_create(creations)
    return generations


def newest_first(generations) -> list[str]:
    ordered = sorted(generations, key=lambda g: (g.created_at, g.id), reverse=True)
    return [str(g.pk) for g in ordered]


@pytest.fixture
def long_history(team, alice, bob, charlie):
    mine = history_of(team, [alice, bob, bob], 90)
    history_of(charlie.memberships.get().team, [charlie], 20)  # never shown to Alice
    return mine


FILTERS = {
    "no filter": ({}, lambda g, user: True),
    "a word": ({"q": "harbour"}, lambda g, user: "harbour" in g.prompt),
    "a word in other case": ({"q": "DESERT dunes"}, lambda g, user: "Desert Dunes" in g.prompt),
    "a word nowhere": ({"q": "zeppelin"}, lambda g, user: False),
    "only mine": ({"mine": "1"}, lambda g, user: g.author_id == user.pk),
    "in progress": ({"state": "active"}, lambda g, user: g.state not in TERMINAL),
    "done": ({"state": "success"}, lambda g, user: g.state == State.SUCCESS),
    "failed": ({"state": "failed"}, lambda g, user: g.state == State.FAILED),
    "cancelled": ({"state": "cancelled"}, lambda g, user: g.state == State.CANCELLED),
    "a model": ({"model": "viduq1"}, lambda g, user: g.model == "viduq1"),
    "a kind": ({"kind": "start-end2video"}, lambda g, user: g.endpoint == "start-end2video"),
    "several at once": (
        {"mine": "1", "model": "viduq3-turbo", "q": "fox"},
        lambda g, user: g.author_id == user.pk and g.model == "viduq3-turbo" and "fox" in g.prompt,
    ),
}


@pytest.mark.parametrize("name", FILTERS)
def test_each_filter_paged_to_the_end_lists_exactly_its_generations_newest_first(
    client, alice, long_history, name, monkeypatch
):
    monkeypatch.setattr("studio.web.views.generations.PAGE_SIZE", 7)
    query, keep = FILTERS[name]
    expected = newest_first(g for g in long_history if keep(g, alice))
    client.force_login(alice)
    seen, html = [], client.get(reverse("history"), query).content.decode()
    while True:
        seen += ids_in(html)
        link = next_link(html)
        if link is None:
            break
        html = client.get(reverse("history") + "?" + link).content.decode()
    assert seen == expected
    if not expected:
        assert "No videos match these filters" in html


def test_in_progress_means_every_state_but_the_three_endings(client, alice, team, long_history):
    client.force_login(alice)
    html = client.get(reverse("history"), {"state": "active"}).content.decode()
    states = {Generation.objects.get(pk=pk).state for pk in ids_in(html)}
    assert states == set(State) - set(TERMINAL)


PAGES = {name: query for name, (query, _) in FILTERS.items()}


@pytest.mark.parametrize("name", PAGES)
def test_every_history_page_asks_at_most_eight_queries_of_a_long_history(
    client, alice, long_history, name, django_assert_max_num_queries
):
    client.force_login(alice)
    first = client.get(reverse("history"), PAGES[name]).content.decode()
    with django_assert_max_num_queries(8):
        response = client.get(reverse("history"), PAGES[name])
    assert response.status_code == 200
    link = next_link(first)
    if link:  # and the older page behind it
        with django_assert_max_num_queries(8):
            older = client.get(reverse("history") + "?" + link)
        assert older.status_code == 200 and ids_in(older.content.decode())


def test_most_stars_and_starred_only_page_to_the_end_in_few_queries(
    client, alice, bob, long_history, monkeypatch, django_assert_max_num_queries
):
    """Stars are counted in the page's own query (a subquery), never once per card; the
    "Most stars" order pages by number, and hidden videos are left out of both."""
    monkeypatch.setattr("studio.web.views.generations.PAGE_SIZE", 7)
    stars = [Star(generation=g, user=alice) for g in long_history[::3]]
    stars += [Star(generation=g, user=bob) for g in long_history[::5]]
    Star.objects.bulk_create(stars)
    hidden = long_history[::15]
    Generation.objects.filter(pk__in=[g.pk for g in hidden]).update(hidden_at=timezone.now())
    shown = [g for g in long_history if g not in hidden]
    count = {g.pk: sum(s.generation_id == g.pk for s in stars) for g in shown}
    client.force_login(alice)
    for query, expected in (
        ({"sort": "stars"}, sorted(shown, key=lambda g: (count[g.pk], g.created_at, g.id))),
        (
            {"starred": "1"},
            sorted(
                (g for g in shown if g in long_history[::3]), key=lambda g: (g.created_at, g.id)
            ),
        ),
    ):
        seen, url = [], reverse("history") + "?" + "&".join(f"{k}={v}" for k, v in query.items())
        while url:
            with django_assert_max_num_queries(8):
                html = client.get(url).content.decode()
            seen += ids_in(html)
            match = re.search(r'href="\?([^"]*)" rel="next"', html)
            url = reverse("history") + "?" + match[1].replace("&amp;", "&") if match else None
        assert seen == [str(g.pk) for g in reversed(expected)], query


def test_the_cards_show_their_videos_without_a_query_each(
    client, alice, long_history, django_assert_num_queries
):
    client.force_login(alice)
    # session, user, memberships, the page of generations, their videos
    with django_assert_num_queries(5):
        html = client.get(reverse("history"), {"state": "success"}).content.decode()
    assert len(ids_in(html)) == 24
    assert html.count('class="thumb playable"') == 24
    assert "4.0 s" in html


def test_the_team_page_asks_at_most_eight_queries_however_many_left_the_team(
    client, team, alice, bob, long_history, django_user_model, django_assert_max_num_queries
):
    former = [django_user_model.objects.create_user(f"former{i}") for i in range(3)]
    for user in former:
        Membership.objects.create(user=user, team=team)
    history_of(team, former, 9)
    Membership.objects.filter(user__in=former).delete()
    client.force_login(alice)
    with django_assert_max_num_queries(8):
        html = client.get(reverse("team")).content.decode()
    for user in former:
        assert f"{user.username} (no longer in the team)" in html


def test_the_report_adds_up_the_month_per_member_and_per_model(team, alice, bob, long_history):
    month = [g for g in long_history if g.created_at >= budgets.month_start()]
    report = budgets.report(team)

    def costs(rows):
        charged = sum(g.credits or 0 for g in rows)
        estimated = sum(
            g.estimated_credits
            for g in rows
            if g.credits is None and g.state not in budgets.UNCHARGED_ENDINGS
        )
        usd = sum((g.cost_usd or Decimal(0) for g in rows), Decimal(0))
        return (len(rows), charged, estimated, usd)

    def line(line):
        return (line.videos, line.charged, line.estimated, line.usd)

    assert line(report.total) == costs(month)
    assert {x.label: line(x) for x in report.by_member} == {
        user.username: costs([g for g in month if g.author_id == user.pk]) for user in (alice, bob)
    }
    models = {g.model for g in month}
    assert {x.label: line(x) for x in report.by_model} == {
        model: costs([g for g in month if g.model == model]) for model in models
    }
    totals = [x.total for x in report.by_model]
    assert totals == sorted(totals, reverse=True)


def test_the_report_names_deleted_users_and_people_who_left_apart(team, alice, bob):
    gone = get_user_model().objects.create_user("gone")
    history_of(team, [alice, bob, gone], 6)
    Generation.objects.filter(author=gone).update(author=None)
    bob.memberships.all().delete()
    labels = {line.label for line in budgets.report(team).by_member}
    assert labels == {"alice", "bob (no longer in the team)", "(deleted user)"}


def test_on_postgresql_the_prompt_search_has_a_trigram_index(db):
    if connection.vendor != "postgresql":
        pytest.skip("the trigram index is PostgreSQL's alone")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'generation_prompt_trgm'")
        [(definition,)] = cursor.fetchall()
    assert "gin" in definition and "upper(prompt)" in definition.lower()
    assert "gin_trgm_ops" in definition
