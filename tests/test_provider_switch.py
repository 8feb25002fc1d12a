"""After the deployment moves to another provider, each key goes only to the connection
it belongs to: tasks still in flight at the old provider are asked about with that
provider's own key, or not at all (and the page says why), never with the new one's."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import RequestFactory

from studio.models import Generation
from studio.vidu import registry
from studio.web.views import callbacks
from studio.worker import follower, jobs, polling
from tests.factories import make_generation

pytestmark = pytest.mark.django_db


class OldProvider:
    """An HTTP server on loopback standing in for the provider the studio used before:
    it records the Authorization header of every request and says each task is running."""

    def __init__(self):
        seen = self.authorizations = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                seen.append(self.headers.get("Authorization", ""))
                body = json.dumps({"code": 200, "data": {"status": "running"}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def old_provider(settings, monkeypatch):
    """The studio now on the official API with its own key; Vtrix was used before."""
    server = OldProvider()
    settings.VIDU_PROVIDER = "official"
    settings.VIDU_BASE_URL = "http://127.0.0.1:9"  # the new provider: never reached here
    settings.VIDU_API_KEY = "the-official-key"
    settings.VIDU_TIMEOUT = 1
    monkeypatch.delenv("VIDU_API_KEY_VTRIX", raising=False)
    registry.forget_clients()
    yield server
    registry.forget_clients()
    server.stop()


@pytest.fixture
def at_vtrix(team, alice, old_provider):
    return make_generation(
        team,
        alice,
        state="processing",
        task_id="vtrix-task-1",
        provider="vtrix",
        provider_base_url=old_provider.url,
        model="viduq1",
        params={"duration": 5, "resolution": "1080p"},
    )


def test_the_follower_never_sends_the_new_key_to_the_old_provider(old_provider, at_vtrix):
    Generation.objects.filter(pk=at_vtrix.pk).update(next_poll_at=at_vtrix.created_at)
    follower.tick(follower.Pace(100))
    polling.poll(at_vtrix)
    assert old_provider.authorizations == []
    at_vtrix.refresh_from_db()
    assert at_vtrix.state == "processing"  # not failed: a person sets the key
    assert at_vtrix.waits_for_a_key
    assert "no longer has a key for Vtrix" in at_vtrix.error_message
    assert "VIDU_API_KEY_VTRIX" in at_vtrix.error_message
    assert at_vtrix.next_poll_at > at_vtrix.created_at  # not asked about again at once


def test_the_page_says_the_video_is_not_followed(client, alice, old_provider, at_vtrix):
    polling.poll(at_vtrix)
    client.force_login(alice)
    page = client.get(f"/generations/{at_vtrix.pk}/").content.decode()
    assert "not following this video at Vtrix" in page
    assert "the-official-key" not in page


def test_the_old_providers_own_key_is_used_when_it_is_set(old_provider, at_vtrix, monkeypatch):
    polling.poll(at_vtrix)  # no key yet: stopped, and said so
    monkeypatch.setenv("VIDU_API_KEY_VTRIX", "the-vtrix-key")
    registry.forget_clients()
    polling.poll(Generation.objects.get(pk=at_vtrix.pk))
    assert old_provider.authorizations == ["Bearer the-vtrix-key"]
    at_vtrix.refresh_from_db()
    assert not at_vtrix.waits_for_a_key and at_vtrix.error_message == ""


def test_a_submit_claim_at_the_old_provider_is_never_resent_with_the_new_key(
    old_provider, team, alice
):
    from django.utils import timezone

    sent = make_generation(
        team, alice, state="submitting", provider="vtrix", provider_base_url=old_provider.url
    )
    now = timezone.now()
    Generation.objects.filter(pk=sent.pk).update(claimed_at=now, sent_at=now)
    assert jobs.resume_submit(str(sent.pk), now.isoformat()) == "unconfirmed"
    assert old_provider.authorizations == []
    sent.refresh_from_db()
    assert sent.state == "unconfirmed" and "no longer has a key for Vtrix" in sent.error_message


def test_a_callback_for_a_task_of_a_keyless_connection_is_unknown_not_an_error(
    old_provider, at_vtrix, monkeypatch
):
    from studio.vidu import signatures

    monkeypatch.setattr(signatures, "verify", lambda *args, **kwargs: "nonce-1")
    body = json.dumps({"id": "vtrix-task-1", "state": "success", "payload": ""})
    request = RequestFactory().post(
        "/vidu/callback/", body, content_type="application/json", HTTP_HOST="localhost"
    )
    response = callbacks.vidu_callback(request)
    assert response.status_code == 404
    assert old_provider.authorizations == []


def test_a_finished_video_at_a_keyless_connection_is_not_copied_with_the_new_key(
    old_provider, at_vtrix
):
    from studio.worker import copying

    Generation.objects.filter(pk=at_vtrix.pk).update(state="success", result_status="")
    assert copying.copy(str(at_vtrix.pk)) == "no key"
    assert old_provider.authorizations == []
    at_vtrix.refresh_from_db()
    assert at_vtrix.result_status == "unavailable"  # not left "fetching" for ever
    assert "no longer has a key for Vtrix" in at_vtrix.error_message
