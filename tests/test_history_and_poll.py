import re
from datetime import timedelta
from html import escape as html_escape

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from studio.models import Generation, GenerationEvent, Team
from studio.worker import cancelling
from tests.factories import attach_video, make_generation

pytestmark = pytest.mark.usefixtures("media_root")


def test_history_lists_the_teams_generations(client, alice, bob, charlie, team):
    mine = make_generation(team, alice)
    bobs = make_generation(team, bob, state="success")
    other = make_generation(charlie.memberships.get().team, charlie)
    client.force_login(alice)
    html = client.get(reverse("history")).content.decode()
    assert f'data-generation-id="{mine.pk}"' in html
    assert f'data-generation-id="{bobs.pk}"' in html
    assert str(other.pk) not in html


def test_history_polls_once_for_all_in_flight_cards(client, alice, team):
    flying = [make_generation(team, alice, state=s) for s in ("queued", "processing")]
    done = make_generation(team, alice, state="failed")
    client.force_login(alice)
    html = client.get(reverse("history")).content.decode()
    assert html.count('hx-trigger="every') == 1
    poller = re.search(r'id="poller".*?hx-get="([^"]+)"', html, re.S)[1]
    for g in flying:
        assert str(g.pk) in poller
    assert str(done.pk) not in poller


def test_history_does_not_poll_when_nothing_is_in_flight(client, alice, team):
    make_generation(team, alice, state="failed")
    client.force_login(alice)
    assert 'id="poller"' not in client.get(reverse("history")).content.decode()


def test_viewers_see_the_history(client, vera, alice, team):
    g = make_generation(team, alice)
    client.force_login(vera)
    assert str(g.pk) in client.get(reverse("history")).content.decode()


def test_the_detail_page_shows_state_and_parameters(client, alice, team):
    g = make_generation(team, alice, state="processing", task_id="777")
    client.force_login(alice)
    html = client.get(reverse("generation", args=[g.pk])).content.decode()
    assert f'data-generation-id="{g.pk}" data-state="processing"' in html
    assert "777" in html and "540p" in html


def test_the_detail_page_plays_a_stored_video(client, alice, team):
    g = make_generation(team, alice, state="success")
    attach_video(g)
    client.force_login(alice)
    html = client.get(reverse("generation", args=[g.pk])).content.decode()
    assert "<video" in html and reverse("generation_video", args=[g.pk]) in html
    assert 'id="poller"' not in html


def test_the_detail_page_is_404_for_outsiders(client, alice, charlie, team):
    g = make_generation(team, alice)
    client.force_login(charlie)
    assert client.get(reverse("generation", args=[g.pk])).status_code == 404


def poll(client, generations, view="card"):
    query = "&".join(f"g={g.pk}.{g.state}-none" for g in generations)
    return client.get(f"{reverse('poll')}?view={view}&{query}")


def test_poll_answers_only_what_changed(client, alice, team):
    a = make_generation(team, alice, state="queued")
    b = make_generation(team, alice, state="queued")
    client.force_login(alice)
    Generation.objects.filter(pk=a.pk).update(state="processing")
    response = poll(client, [a, b])
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="gen-{a.pk}"' in html and 'data-state="processing"' in html
    assert f'id="gen-{b.pk}"' not in html
    assert 'id="poller" hx-swap-oob="true"' in html


def test_poll_answers_286_when_nothing_is_in_flight(client, alice, team):
    a = make_generation(team, alice, state="processing")
    client.force_login(alice)
    Generation.objects.filter(pk=a.pk).update(state="failed", error_message="policy")
    response = poll(client, [a], view="status")
    assert response.status_code == 286
    html = response.content.decode()
    assert 'data-state="failed"' in html and 'id="poller"' not in html


def test_poll_keeps_polling_while_the_video_is_copied(client, alice, team):
    a = make_generation(team, alice, state="processing")
    client.force_login(alice)
    Generation.objects.filter(pk=a.pk).update(state="success")
    assert poll(client, [a]).status_code == 200


def test_poll_query_count_does_not_grow_with_cards(
    client, alice, team, django_assert_max_num_queries
):
    generations = [make_generation(team, alice, state="processing") for _ in range(12)]
    client.force_login(alice)
    with django_assert_max_num_queries(8):
        poll(client, generations[:2])
    with django_assert_max_num_queries(8):
        poll(client, generations)


def test_poll_ignores_other_teams(client, alice, charlie, team):
    theirs = make_generation(charlie.memberships.get().team, charlie, state="processing")
    client.force_login(alice)
    response = poll(client, [theirs])
    assert str(theirs.pk) not in response.content.decode()


# Filters, search and keyset pagination


def ids_in(html: str) -> list[str]:
    return re.findall(r'data-generation-id="([^"]+)"', html)


def history(client, **query):
    return client.get(reverse("history"), query).content.decode()


def test_history_filters_by_author_state_model_and_kind(client, alice, bob, team):
    mine = make_generation(team, alice, state="success", model="viduq1")
    bobs = make_generation(team, bob, state="processing", endpoint="start-end2video")
    failed = make_generation(team, bob, state="failed")
    client.force_login(alice)
    assert ids_in(history(client, mine="on")) == [str(mine.pk)]
    assert ids_in(history(client, state="active")) == [str(bobs.pk)]
    assert ids_in(history(client, state="failed")) == [str(failed.pk)]
    assert ids_in(history(client, model="viduq1")) == [str(mine.pk)]
    assert ids_in(history(client, kind="start-end2video")) == [str(bobs.pk)]
    assert ids_in(history(client, state="success", mine="1", model="viduq2-turbo")) == []


def test_history_searches_the_prompts(client, alice, team):
    harbour = make_generation(team, alice, prompt="Boats in the HARBOUR at dawn")
    make_generation(team, alice, prompt="a forest in the rain")
    client.force_login(alice)
    assert ids_in(history(client, q="harbour")) == [str(harbour.pk)]
    assert "No videos match these filters" in history(client, q="desert")


def test_history_explains_a_bad_filter_and_applies_the_rest(client, alice, team):
    g = make_generation(team, alice, model="viduq1")
    make_generation(team, alice)
    client.force_login(alice)
    html = history(client, state="exploded", model="viduq1")
    assert 'id="error-state"' in html and "Select a valid choice" in html
    assert ids_in(html) == [str(g.pk)]


def test_history_pages_by_creation_time_and_id(client, alice, team, monkeypatch):
    monkeypatch.setattr("studio.web.views.generations.PAGE_SIZE", 3)
    same_moment = timezone.now()
    generations = [make_generation(team, alice) for _ in range(7)]
    # Four of them share one timestamp: the id breaks the tie, so none is lost or repeated.
    Generation.objects.filter(pk__in=[g.pk for g in generations[1:5]]).update(
        created_at=same_moment
    )
    expected = [
        str(g.pk) for g in Generation.objects.filter(team=team).order_by("-created_at", "-pk")
    ]
    client.force_login(alice)
    seen, url = [], reverse("history")
    while url:
        html = client.get(url).content.decode()
        seen += ids_in(html)
        match = re.search(r'href="(\?[^"]*before=[^"]+)" rel="next"', html)
        url = reverse("history") + match[1].replace("&amp;", "&") if match else None
    assert seen == expected


def test_the_next_page_keeps_the_filters(client, alice, bob, team, monkeypatch):
    monkeypatch.setattr("studio.web.views.generations.PAGE_SIZE", 2)
    for _ in range(3):
        make_generation(team, alice, model="viduq1")
        make_generation(team, bob, model="viduq1")
    client.force_login(alice)
    html = history(client, mine="on", model="viduq1")
    next_url = re.search(r'href="\?([^"]+)" rel="next"', html)[1].replace("&amp;", "&")
    assert "mine=1" in next_url and "model=viduq1" in next_url
    html = client.get(reverse("history") + "?" + next_url).content.decode()
    assert len(ids_in(html)) == 1
    assert all(Generation.objects.get(pk=i).author == alice for i in ids_in(html))


def test_a_broken_page_link_shows_the_newest(client, alice, team):
    g = make_generation(team, alice)
    client.force_login(alice)
    html = history(client, before="yesterday_nope")
    assert "link to an older page is broken" in html
    assert ids_in(html) == [str(g.pk)]


def test_htmx_filtering_gets_only_the_results(client, alice, team):
    make_generation(team, alice, state="processing")
    client.force_login(alice)
    response = client.get(
        reverse("history"),
        {"state": "active"},
        headers={"HX-Request": "true", "HX-Target": "results"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results">')
    assert 'id="poller"' in html and "<header" not in html
    assert "HX-Request" in response["Vary"]


def test_history_polls_for_in_flight_cards_when_filtered(client, alice, team):
    flying = make_generation(team, alice, state="processing", model="viduq1")
    make_generation(team, alice, state="processing")
    client.force_login(alice)
    html = history(client, model="viduq1")
    poller = re.search(r'id="poller".*?hx-get="([^"]+)"', html, re.S)[1]
    assert poller.count("g=") == 1 and str(flying.pk) in poller


@pytest.mark.parametrize("count", [2, 30])
def test_history_query_count_does_not_grow(
    client, alice, bob, team, count, django_assert_num_queries
):
    for i in range(count):
        g = make_generation(team, alice if i % 2 else bob, state="success", credits=3)
        attach_video(g)
    client.force_login(alice)
    # session, user, memberships, the page of generations, their videos
    with django_assert_num_queries(5):
        html = client.get(reverse("history"), {"q": "pan", "model": "viduq2-turbo"}).content
    assert len(ids_in(html.decode())) == min(count, 24)


# Cards play on demand


def test_cards_load_their_video_only_on_demand(client, alice, team):
    g = make_generation(team, alice, state="success")
    attach_video(g)
    client.force_login(alice)
    html = history(client)
    assert "<video" not in html
    assert f'hx-get="{reverse("generation_player", args=[g.pk])}"' in html
    assert f'href="{reverse("generation", args=[g.pk])}"' in html  # without JavaScript
    player = client.get(reverse("generation_player", args=[g.pk]), headers={"HX-Request": "true"})
    assert player.status_code == 200
    assert f'src="{reverse("generation_video", args=[g.pk])}"' in player.content.decode()


def test_the_player_without_htmx_opens_the_page(client, alice, team):
    g = make_generation(team, alice, state="success")
    attach_video(g)
    client.force_login(alice)
    response = client.get(reverse("generation_player", args=[g.pk]))
    assert response.status_code == 302 and response["Location"] == reverse(
        "generation", args=[g.pk]
    )


def test_the_player_is_404_without_a_video(client, alice, team):
    g = make_generation(team, alice, state="processing")
    client.force_login(alice)
    response = client.get(reverse("generation_player", args=[g.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 404


# The generation's page


def test_the_detail_page_shows_every_parameter_and_credits(client, alice, team):
    g = make_generation(
        team,
        alice,
        state="success",
        credits=4,
        params={"duration": 3, "resolution": "720p", "seed": 0, "off_peak": True, "bgm": False},
    )
    client.force_login(alice)
    html = client.get(reverse("generation", args=[g.pk])).content.decode()
    for text in ("Duration (s)", "720p", "Seed</dt><dd>random", "Off-peak</dt><dd>yes"):
        assert text in html
    assert "<strong>4</strong> credits" in html and "~2 credits" in html


def test_the_detail_page_explains_a_failure_in_plain_words(client, alice, team):
    g = make_generation(
        team,
        alice,
        state="failed",
        error_reason="TaskPromptPolicyViolation",
        error_message="Vidu refused the prompt under its content policy.",
    )
    GenerationEvent.objects.create(generation=g, state="failed", source="callback")
    client.force_login(alice)
    html = client.get(reverse("generation", args=[g.pk])).content.decode()
    assert "Vidu refused the prompt under its content policy." in html
    assert "TaskPromptPolicyViolation" in html
    assert re.search(r"<time data-local[^>]*>\d\d:\d\d:\d\d UTC</time> Failed", html)


def test_the_detail_page_offers_to_make_it_again(client, bob, team):
    g = make_generation(team, bob, state="success")
    client.force_login(bob)
    html = client.get(reverse("generation", args=[g.pk])).content.decode()
    again = reverse("generate", args=["img2video"]) + f"?from={g.pk}"
    assert f'href="{again}"' in html
    assert f'href="{again}&amp;vary_seed=1"' in html


def test_viewers_get_no_actions(client, vera, team, alice):
    g = make_generation(team, alice, state="queued")
    client.force_login(vera)
    html = client.get(reverse("generation", args=[g.pk])).content.decode()
    assert "?from=" not in html
    assert "Cancel this video" not in html


def test_the_cancel_button_shows_only_while_in_flight(client, bob, team):
    flying = make_generation(team, bob, state="queueing", params={"off_peak": True})
    done = make_generation(team, bob, state="failed")
    client.force_login(bob)
    html = client.get(reverse("generation", args=[flying.pk])).content.decode()
    assert f'action="{reverse("generation_cancel", args=[flying.pk])}"' in html
    assert (
        "Cancel this video"
        not in client.get(reverse("generation", args=[done.pk])).content.decode()
    )


@pytest.mark.parametrize(
    "state, params, offered",
    [
        ("queued", {}, True),
        ("queueing", {"off_peak": True}, True),
        ("created", {"off_peak": True}, True),
        ("created", {}, False),
        ("queueing", {}, False),
        ("processing", {"off_peak": True}, False),
        ("submitting", {}, False),
    ],
)
def test_cancel_is_offered_only_where_it_can_work(client, bob, team, state, params, offered):
    g = make_generation(team, bob, state=state, task_id="t1", params=params)
    client.force_login(bob)
    html = client.get(reverse("generation", args=[g.pk])).content.decode()
    assert ("Cancel this video" in html) is offered
    assert ('class="muted small no-cancel"' in html) is not offered
    if not offered:
        # The line says why, and a press would have been refused with the same words.
        with pytest.raises(cancelling.CannotCancel) as refused:
            cancelling.cancel(g)
        assert html_escape(str(refused.value)) in html


def test_a_made_at_once_task_says_why_it_has_no_cancel(client, bob, team):
    g = make_generation(team, bob, state="processing", task_id="t1")
    client.force_login(bob)
    html = client.get(reverse("generation", args=[g.pk])).content.decode()
    assert "a running task cannot be cancelled" in html
    assert "only off-peak tasks still waiting for their slot" in html


def test_a_video_that_could_not_be_copied_can_be_retried(client, bob, team):
    g = make_generation(team, bob, state="success", result_status="unavailable")
    client.force_login(bob)
    html = client.get(reverse("generation", args=[g.pk])).content.decode()
    assert "could not be copied" in html
    assert f'action="{reverse("generation_retry", args=[g.pk])}"' in html


def test_the_detail_page_offers_every_download(client, bob, team):
    g = make_generation(team, bob, state="success")
    creation = attach_video(g)
    client.force_login(bob)
    html = client.get(reverse("generation", args=[g.pk])).content.decode()
    assert f'href="{reverse("generation_video", args=[g.pk])}" download' in html
    assert f'href="{reverse("generation_cover", args=[g.pk])}" download' in html
    assert reverse("generation_watermarked", args=[g.pk]) not in html  # none stored
    creation.watermarked.save("video-watermarked.mp4", ContentFile(b"wm"))
    html = client.get(reverse("generation", args=[g.pk])).content.decode()
    assert f'href="{reverse("generation_watermarked", args=[g.pk])}" download' in html


def test_the_status_poll_keeps_the_actions(client, bob, team):
    g = make_generation(team, bob, state="queued", params={"off_peak": True})
    client.force_login(bob)
    Generation.objects.filter(pk=g.pk).update(state="queueing")
    html = poll(client, [g], view="status").content.decode()
    assert "Cancel this video" in html


def ran(team, author, seconds, *, ago_minutes=10, **fields):
    """A finished generation that took `seconds` from creation to the provider's done."""
    g = make_generation(team, author, state=fields.pop("state", "success"), **fields)
    made = timezone.now() - timedelta(minutes=ago_minutes)
    Generation.objects.filter(pk=g.pk).update(
        created_at=made, finished_at=made + timedelta(seconds=seconds)
    )
    return g


def test_the_usual_time_is_the_median_of_the_teams_recent_runs_of_that_model(
    alice, team, django_assert_num_queries
):
    other_team = Team.objects.create(name="Other")
    for minutes, seconds in enumerate((30, 50, 40, 1000)):
        ran(team, alice, seconds, ago_minutes=minutes + 1)
    ran(team, alice, 600, ago_minutes=5, state="failed")
    ran(team, alice, 900, ago_minutes=5, model="viduq1")
    ran(team, alice, 900, ago_minutes=5, provider="kkiai")
    ran(team, alice, 900, ago_minutes=5, params={"off_peak": True, "duration": 2})
    ran(other_team, alice, 900, ago_minutes=5)
    with django_assert_num_queries(1):
        assert Generation.objects.typical_seconds(team, "viduq2-turbo", "official") == 45
    assert Generation.objects.typical_seconds(team, "viduq2-turbo", "official", runs=3) == 40
    assert Generation.objects.typical_seconds(team, "viduq2-pro", "official") is None


def test_only_the_last_twenty_runs_count(alice, team):
    for minutes in range(25):  # the five oldest took an hour; the twenty newest, 20 s
        ran(team, alice, 3600 if minutes >= 20 else 20, ago_minutes=minutes + 1)
    assert Generation.objects.typical_seconds(team, "viduq2-turbo", "official") == 20


def test_durations_and_moments_in_words():
    from studio.web.templatetags.times import ago, span, span_between

    now = timezone.now()
    assert [span(s) for s in (0, 9, 59.4, 60, 100, 3600, 3720, 90000)] == [
        "0 s",
        "9 s",
        "59 s",
        "1 min",
        "1 min 40 s",
        "1 h",
        "1 h 2 min",
        "1 d 1 h",
    ]
    assert span_between(now, now + timedelta(seconds=9)) == "9 s"
    assert span_between(now, None) == ""
    assert ago(now - timedelta(seconds=20), now) == "just now"
    assert ago(now - timedelta(seconds=150), now) == "2 min ago"


def test_a_nine_second_run_says_so_on_its_page(client, alice, team):
    g = ran(team, alice, 9, task_id="t9")
    client.force_login(alice)
    html = client.get(reverse("generation", args=[g.pk])).content.decode()
    assert "(took 9 s)" in html and "minutes" not in html


def test_the_status_poll_brings_the_side_panel_too(client, bob, team):
    g = make_generation(team, bob, state="processing")
    client.force_login(bob)
    Generation.objects.filter(pk=g.pk).update(
        state="success", provider_task_id="vidu-42", finished_at=timezone.now()
    )
    html = poll(client, [g], view="status").content.decode()
    assert f'id="facts-{g.pk}" hx-swap-oob="true"' in html
    assert "<dt>Finished</dt>" in html and "vidu-42" in html


@pytest.mark.parametrize("simulated", [True, False])
def test_the_simulators_figures_are_labelled_as_simulated(client, alice, team, settings, simulated):
    settings.VIDU_USING_SIMULATOR = simulated
    g = make_generation(team, alice, state="success", credits=5)
    client.force_login(alice)
    html = client.get(reverse("generation", args=[g.pk])).content.decode()
    assert ("Simulated charge" in html) is simulated
    assert ("(the simulator spends nothing)" in html) is simulated
    assert ("Charged by Vidu" in html) is not simulated
    assert "<strong>5</strong> credits" in html


def test_a_card_says_just_now_the_models_name_and_a_simulated_charge(client, alice, team):
    fresh = make_generation(team, alice, state="success", credits=5)
    older = make_generation(team, alice, state="success", credits=1)
    Generation.objects.filter(pk=older.pk).update(
        created_at=timezone.now() - timedelta(hours=3, minutes=5)
    )
    client.force_login(alice)
    html = client.get(reverse("history")).content.decode()
    card = html[html.index(f'id="gen-{fresh.pk}"') :][:3000]
    assert "just now" in card and "0 minutes" not in card
    assert "Vidu Q2 Turbo" in card  # the model's name for people; its id in the tooltip
    assert "5 credits (simulated)" in card  # the tests run on the simulator
    assert "3 h 5 min ago" in html[html.index(f'id="gen-{older.pk}"') :][:3000]
