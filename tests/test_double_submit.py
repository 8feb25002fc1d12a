"""One render of the generation form makes at most one generation: a double click, a
resent POST or two submits at the same instant pay once."""

import re
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from studio.models import Generation, InputImage
from studio.web.views import generate as generate_view
from tests.conftest import drain_queue, fresh_form_token, png
from tests.factories import make_generation

pytestmark = pytest.mark.usefixtures("media_root")

URL = reverse("generate", args=["img2video"])


def form(token: str | None, prompt: str = "a slow pan") -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {
        "model": "viduq2-turbo",
        "prompt": prompt,
        "duration": "3",
        "resolution": "540p",
        "images": SimpleUploadedFile("frame.png", png(), "image/png"),
    }
    if token is not None:
        data["form_token"] = token
    return data


def rendered_token(client) -> str:
    html = client.get(URL).content.decode()
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def test_each_render_of_the_form_carries_its_own_token(client, alice):
    client.force_login(alice)
    first, second = rendered_token(client), rendered_token(client)
    assert first != second and len(first) >= 32


def test_the_same_render_sent_twice_makes_one_generation(
    client, alice, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    token = rendered_token(client)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(URL, form(token))
        second = client.post(URL, form(token))
    generation = Generation.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == reverse("generation", args=[generation.pk])
    assert InputImage.objects.count() == 1
    assert drain_queue() == ["studio.worker.jobs.submit"]
    page = client.get(second["Location"]).content.decode()
    assert "This form was already sent: here is the video it started." in page


def test_a_resent_form_answers_htmx_with_the_same_redirect(client, alice):
    client.force_login(alice)
    token = rendered_token(client)
    client.post(URL, form(token))
    again = client.post(URL, form(token), headers={"HX-Request": "true"})
    assert again.status_code == 204
    assert again["HX-Redirect"] == reverse("generation", args=[Generation.objects.get().pk])


def test_a_second_render_is_a_second_generation(client, alice):
    client.force_login(alice)
    client.post(URL, form(rendered_token(client)))
    client.post(URL, form(rendered_token(client)))
    assert Generation.objects.count() == 2


def test_a_form_without_a_token_is_refused_and_keeps_what_was_typed(alice):
    client = Client()  # not the suite's client, which sends a token as a render would
    client.force_login(alice)
    response = client.post(URL, form(None, prompt="keep me please"))
    html = response.content.decode()
    assert response.status_code == 422
    assert "was not sent from the studio&#x27;s page" in html
    assert "keep me please" in html
    assert 'name="images_staged"' in html  # the image is kept for the next press
    assert re.search(r'name="form_token" value="[A-Za-z0-9_-]{32}"', html)
    assert Generation.objects.count() == 0


def test_a_made_up_token_is_refused(client, alice):
    client.force_login(alice)
    response = client.post(URL, form("not a token"))
    assert response.status_code == 422 and Generation.objects.count() == 0


def test_another_teams_token_reveals_nothing_and_makes_nothing(client, alice, charlie):
    other = make_generation(charlie.memberships.get().team, charlie)
    other.form_token = fresh_form_token()
    other.save(update_fields=["form_token"])
    client.force_login(alice)
    response = client.post(URL, form(other.form_token))
    assert response.status_code == 422
    assert str(other.pk) not in response.content.decode()
    assert Generation.objects.filter(team__memberships__user=alice).count() == 0


def test_the_loser_of_a_race_is_sent_to_the_winners_generation(client, alice, monkeypatch):
    """Both submits pass the "already made?" look-up before either has stored anything;
    the unique token then stops the second insert."""
    client.force_login(alice)
    token = rendered_token(client)
    client.post(URL, form(token))
    winner = Generation.objects.get()
    real = generate_view._made_by
    calls = []

    def not_yet_on_first_look(*args):
        calls.append(args)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(generate_view, "_made_by", not_yet_on_first_look)
    response = client.post(URL, form(token))
    assert response.status_code == 302
    assert response["Location"] == reverse("generation", args=[winner.pk])
    assert Generation.objects.count() == 1 and InputImage.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_identical_posts_at_the_same_instant_make_one_generation(alice):
    token = fresh_form_token()
    barrier = threading.Barrier(2)
    statuses, errors = [], []

    def post():
        try:
            client = Client()
            client.force_login(alice)
            data = form(token)
            barrier.wait(timeout=30)
            statuses.append(client.post(URL, data).status_code)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert statuses == [302, 302]
    assert Generation.objects.count() == 1 and InputImage.objects.count() == 1
