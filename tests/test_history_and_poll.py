import re

import pytest
from django.urls import reverse

from studio.models import Generation
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
