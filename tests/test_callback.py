import json
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from studio.models import Generation
from studio.vidu import registry, signatures
from studio.vidu.base import Refused, Retryable
from studio.worker import reports
from tests.conftest import drain_queue
from tests.factories import make_generation

pytestmark = pytest.mark.usefixtures("media_root")
KEY = "callback-test-key"


@pytest.fixture(autouse=True)
def vidu_key(settings):
    settings.VIDU_API_KEY = KEY


class Provider:
    """What the provider itself answers when asked about a task (its query call).

    A callback is only news that a task changed: the studio asks the provider, and
    applies the answer, never the callback's body.
    """

    def __init__(self):
        self.tasks: dict[str, dict] = {}
        self.asked: list[str] = []
        self.down = False

    def query(self, task_id):
        self.asked.append(task_id)
        if self.down:
            raise Retryable("Timeout", "the provider did not answer")
        if task_id not in self.tasks:
            raise Refused("TaskNotFound", "no such task", status=404)
        return registry.connect().read_callback(json.dumps(self.tasks[task_id]).encode())


@pytest.fixture(autouse=True)
def provider(monkeypatch):
    global PROVIDER
    PROVIDER = Provider()
    monkeypatch.setattr(reports, "dialect_for", lambda generation: PROVIDER)
    return PROVIDER


PROVIDER: Provider


def body(task_id, state, **extra):
    return {
        "id": task_id,
        "state": state,
        "err_code": "",
        "credits": 4,
        "payload": "",
        "creations": [],
        **extra,
    }


def post(client, data, *, key=KEY, now=None, nonce=None, path=None, honest=True):
    """Send a signed callback; an honest provider reports the same when asked."""
    if honest:
        PROVIDER.tasks[data["id"]] = data
    path = path or reverse("vidu_callback")
    headers = signatures.sign_headers(key, "http://testserver" + path, now=now, nonce=nonce)
    return client.post(path, json.dumps(data), content_type="application/json", headers=headers)


@pytest.fixture
def submitted(team, alice):
    return make_generation(team, alice, state="created", task_id="900001")


def test_it_moves_the_state_forward(client, submitted):
    response = post(client, body("900001", "processing"))
    assert response.status_code == 200
    submitted.refresh_from_db()
    assert submitted.state == "processing"
    assert submitted.events.get(state="processing").source == "callback"


def test_success_stores_credits_and_queues_the_copy(
    client, submitted, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, body("900001", "success", credits=7))
    submitted.refresh_from_db()
    assert (submitted.state, submitted.credits) == ("success", 7)
    assert drain_queue() == ["studio.worker.jobs.fetch_result"]


def test_it_never_moves_backwards(client, submitted):
    post(client, body("900001", "success"))
    response = post(client, body("900001", "processing"))
    assert response.status_code == 200
    submitted.refresh_from_db()
    assert submitted.state == "success"
    assert list(submitted.events.values_list("state", flat=True)) == ["success"]


def test_a_duplicate_changes_nothing(client, submitted):
    post(client, body("900001", "processing"))
    post(client, body("900001", "processing"))
    assert submitted.events.filter(state="processing").count() == 1


def test_failure_keeps_the_providers_reason(client, submitted):
    post(client, body("900001", "failed", err_code="CreationPolicyViolation", credits=0))
    submitted.refresh_from_db()
    assert submitted.state == "failed"
    assert submitted.error_reason == "CreationPolicyViolation"
    assert "content policy" in submitted.error_message


def test_it_refuses_a_forged_signature(client, submitted):
    response = post(client, body("900001", "success"), key="not-the-key")
    assert response.status_code == 401
    submitted.refresh_from_db()
    assert submitted.state == "created"


def test_it_refuses_an_old_date(client, submitted):
    response = post(
        client, body("900001", "success"), now=datetime.now(UTC) - timedelta(minutes=10)
    )
    assert response.status_code == 401


def test_it_refuses_a_replayed_nonce(client, submitted):
    assert post(client, body("900001", "processing"), nonce="n-1").status_code == 200
    assert post(client, body("900001", "success"), nonce="n-1").status_code == 409
    submitted.refresh_from_db()
    assert submitted.state == "processing"


def test_it_404s_an_unknown_task(client, submitted):
    assert post(client, body("123", "success")).status_code == 404


def test_it_finds_a_task_by_payload_before_the_submit_answer_lands(client, team, alice):
    generation = make_generation(team, alice, state="submitting")
    post(client, body("900777", "processing", payload=str(generation.pk)))
    generation.refresh_from_db()
    assert (generation.state, generation.provider_task_id) == ("processing", "900777")


def test_it_checks_the_query_string(client, submitted):
    path = reverse("vidu_callback")
    headers = signatures.sign_headers(KEY, "http://testserver" + path + "?a=1")
    response = client.post(
        path + "?a=2",
        json.dumps(body("900001", "success")),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 401


def test_it_rejects_get(client, db):
    assert client.get(reverse("vidu_callback")).status_code == 405


def test_the_state_stays_when_the_body_is_garbage(client, submitted):
    path = reverse("vidu_callback")
    headers = signatures.sign_headers(KEY, "http://testserver" + path)
    response = client.post(path, "{not json", content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert Generation.objects.get(pk=submitted.pk).state == "created"


def test_a_non_ascii_signature_is_refused_not_a_crash(client, submitted):
    path = reverse("vidu_callback")
    headers = signatures.sign_headers(KEY, "http://testserver" + path)
    headers["X-HMAC-SIGNATURE"] = "é"
    response = client.post(
        path,
        json.dumps(body("900001", "success")),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 401


def test_it_checks_the_path_vidu_signed_behind_a_proxy(client, submitted, settings):
    # The studio is public at https://example.com/studio/; the proxy strips /studio.
    settings.STUDIO_PUBLIC_URL = "https://example.com/studio"
    headers = signatures.sign_headers(KEY, "https://example.com/studio/vidu/callback/")
    response = client.post(
        reverse("vidu_callback"),
        json.dumps(body("900001", "processing")),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 200


def test_a_signed_body_claiming_a_huge_cost_is_not_believed(client, submitted):
    """The signature covers the headers, not the body: the cost is the provider's."""
    PROVIDER.tasks["900001"] = body("900001", "success", credits=4)
    post(client, body("900001", "success", credits=2_000_000_000), honest=False)
    submitted.refresh_from_db()
    assert (submitted.state, submitted.credits) == ("success", 4)
    assert PROVIDER.asked == ["900001"]


def test_a_signed_body_claiming_success_moves_only_as_far_as_the_provider_says(client, submitted):
    PROVIDER.tasks["900001"] = body("900001", "processing")
    response = post(client, body("900001", "success", credits=-500), honest=False)
    assert response.status_code == 200
    submitted.refresh_from_db()
    assert (submitted.state, submitted.credits) == ("processing", 4)  # the provider's figures
    assert drain_queue() == []


def test_a_forged_failure_does_not_fail_a_running_task(client, submitted):
    PROVIDER.tasks["900001"] = body("900001", "processing")
    post(client, body("900001", "failed", err_code="CreationPolicyViolation"), honest=False)
    submitted.refresh_from_db()
    assert submitted.state == "processing"


def test_a_callback_naming_a_task_the_provider_does_not_know_changes_nothing(client, team, alice):
    generation = make_generation(team, alice, state="submitting")
    response = post(client, body("999", "success", payload=str(generation.pk)), honest=False)
    assert response.status_code == 200
    generation.refresh_from_db()
    assert (generation.state, generation.provider_task_id) == ("submitting", "")


def test_when_the_provider_cannot_be_asked_the_task_is_asked_about_soon(client, submitted):
    PROVIDER.down = True
    before = submitted.next_poll_at
    assert post(client, body("900001", "success")).status_code == 200
    submitted.refresh_from_db()
    assert submitted.state == "created"
    assert submitted.next_poll_at is not None and submitted.next_poll_at != before


def test_negative_or_absurd_costs_from_the_provider_are_refused(client, submitted):
    post(client, body("900001", "success", credits=-500))
    submitted.refresh_from_db()
    assert (submitted.state, submitted.credits) == ("success", None)
    second = make_generation(submitted.team, submitted.author, state="created", task_id="900002")
    post(client, body("900002", "success", credits=50_000))
    second.refresh_from_db()
    assert (second.state, second.credits) == ("success", None)


def test_a_nonce_longer_than_the_studio_keeps_is_refused_with_400(client, submitted):
    response = post(client, body("900001", "processing"), nonce="n" * 101)
    assert response.status_code == 400
    submitted.refresh_from_db()
    assert submitted.state == "created"
    assert post(client, body("900001", "processing"), nonce="n" * 100).status_code == 200


def test_a_nonce_is_spent_even_when_its_task_is_unknown(client, submitted):
    """A verified nonce cannot be replayed later, once the task it named exists."""
    assert post(client, body("900404", "processing"), nonce="n-2").status_code == 404
    assert post(client, body("900001", "success"), nonce="n-2").status_code == 409
    submitted.refresh_from_db()
    assert submitted.state == "created"


def test_a_task_whose_payload_names_another_generation_moves_neither(
    client, submitted, team, alice
):
    other = make_generation(team, alice, state="created", task_id="900002")
    response = post(client, body("900001", "success", payload=str(other.pk)))
    assert response.status_code == 404
    submitted.refresh_from_db()
    other.refresh_from_db()
    assert (submitted.state, other.state) == ("created", "created")


def test_the_providers_answer_must_be_about_this_generation(client, submitted, team, alice):
    """The body names this generation's task, but the provider answers that the task
    carries another generation's payload: nothing is applied."""
    other = make_generation(team, alice, state="created", task_id="900003")
    post(client, body("900001", "processing"))
    PROVIDER.tasks["900001"] = body("900001", "success", payload=str(other.pk))
    assert post(client, body("900001", "success"), honest=False).status_code == 200
    submitted.refresh_from_db()
    assert submitted.state == "processing"
