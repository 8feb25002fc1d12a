"""Cancel and retry-copy from a generation's page: who may, and what they are told."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from studio.models import Generation
from tests.conftest import drain_queue
from tests.factories import make_generation

pytestmark = pytest.mark.usefixtures("media_root")


def said(response) -> list[str]:
    return [m.message for m in get_messages(response.wsgi_request)]


def test_it_cancels_a_queued_generation(client, bob, team):
    g = make_generation(team, bob)
    client.force_login(bob)
    response = client.post(reverse("generation_cancel", args=[g.pk]))
    assert response.status_code == 302 and response["Location"] == reverse(
        "generation", args=[g.pk]
    )
    g.refresh_from_db()
    assert g.state == "cancelled"
    assert said(response) == ["Cancelled before it was sent to Vidu; nothing was charged."]


def test_it_says_why_a_running_task_cannot_be_cancelled(client, alice, team):
    g = make_generation(team, alice, state="processing", task_id="1")
    client.force_login(alice)
    response = client.post(reverse("generation_cancel", args=[g.pk]))
    assert "a running task cannot be cancelled" in said(response)[0]
    assert Generation.objects.get(pk=g.pk).state == "processing"


def test_it_retries_a_copy_that_failed(client, alice, team, django_capture_on_commit_callbacks):
    g = make_generation(
        team,
        alice,
        state="success",
        task_id="1",
        result_status="unavailable",
        error_message="could not be copied",
    )
    client.force_login(alice)
    drain_queue()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("generation_retry", args=[g.pk]))
    assert said(response) == ["Copying the video from Vidu again."]
    assert Generation.objects.get(pk=g.pk).result_status == ""
    assert drain_queue() == ["studio.worker.jobs.fetch_result"]


def test_there_is_nothing_to_retry_for_a_stored_video(client, alice, team):
    g = make_generation(team, alice, state="success", result_status="stored")
    client.force_login(alice)
    response = client.post(reverse("generation_retry", args=[g.pk]))
    assert "nothing to retry" in said(response)[0]


@pytest.mark.parametrize("name", ["generation_cancel", "generation_retry"])
@pytest.mark.parametrize(
    "who, status", [("alice", 302), ("bob", 302), ("vera", 403), ("charlie", 404), (None, 302)]
)
def test_actions_follow_roles(client, team, alice, bob, vera, charlie, request, name, who, status):
    g = make_generation(team, alice)
    if who:
        client.force_login(request.getfixturevalue(who))
    response = client.post(reverse(name, args=[g.pk]))
    assert response.status_code == status
    if who is None:
        assert "/accounts/login/" in response["Location"]
    if who in ("vera", "charlie", None):
        assert Generation.objects.get(pk=g.pk).state == "queued"


@pytest.mark.parametrize("name", ["generation_cancel", "generation_retry"])
def test_actions_refuse_get(client, alice, team, name):
    g = make_generation(team, alice)
    client.force_login(alice)
    assert client.get(reverse(name, args=[g.pk])).status_code == 405
