"""Request sizes: a request larger than the largest legal upload is refused before its
body is read, and form text past Django's limit is refused with a message, both 413."""

from __future__ import annotations

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from studio import catalog
from studio.models import Generation, StagedImage
from tests.conftest import png

pytestmark = pytest.mark.usefixtures("media_root")


class Unread:
    """A request body that must not be read."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def form(**extra) -> dict:
    return {"model": "viduq2-turbo", "prompt": "a slow pan", "images": upload(), **extra}


def upload(data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile("frame.png", data or png(), "image/png")


def test_the_limits_fit_the_largest_legal_form_and_little_more(settings):
    # Two images of up to 50 MB and the form's text; the text at most a few MB.
    assert settings.STUDIO_REQUEST_MAX_BYTES >= 2 * catalog.IMAGE_MAX_BYTES + (
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    )
    assert settings.STUDIO_REQUEST_MAX_BYTES <= 2 * catalog.IMAGE_MAX_BYTES + 16 * 1024 * 1024
    # A payload and metadata of their full length, every character four bytes in UTF-8.
    assert 2 * 4 * catalog.PAYLOAD_MAX_CHARS <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 16 * 1024 * 1024


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_request_over_the_limit_is_refused_before_its_body_is_read(client, alice, htmx):
    client.force_login(alice)
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(
        reverse("generate", args=["img2video"]),
        form(),
        headers=headers,
        CONTENT_LENGTH=str(250_000_000),
        **{"wsgi.input": Unread()},
    )
    assert response.status_code == 413
    text = response.content.decode()
    assert "This request is 250 MB; the studio takes at most 111 MB at once" in text
    assert "up to two images of 50 MB each" in text
    assert ("<html" in text) is not htmx  # a page, or for htmx the message alone
    assert not Generation.objects.exists() and not StagedImage.objects.exists()


def test_a_request_within_the_limit_goes_through(client, alice, settings):
    client.force_login(alice)
    # A payload of its full length in four-byte characters: over 4 MB of text.
    payload = "😀" * (catalog.PAYLOAD_MAX_CHARS - 200)
    response = client.post(reverse("generate", args=["img2video"]), form(payload=payload))
    assert response.status_code == 302
    assert Generation.objects.get().params["payload"] == payload


def test_form_text_over_the_limit_is_refused_with_a_message_not_echoed(client, alice, settings):
    client.force_login(alice)
    prompt = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post(reverse("generate", args=["img2video"]), form(prompt=prompt))
    assert response.status_code == 413
    text = response.content.decode()
    assert "The text in this form is more than 10 MB" in text
    assert "a prompt at most 5,000 characters" in text
    assert len(response.content) < 10_000  # not sent back
    assert not Generation.objects.exists() and not StagedImage.objects.exists()


def test_form_text_over_the_limit_is_refused_for_htmx_too(client, alice, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    client.force_login(alice)
    response = client.post(
        reverse("generate", args=["img2video"]),
        form(meta_data="x" * 200_000),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 413
    assert response.content.decode().startswith('<p class="error" role="alert">The text')


def test_a_long_prompt_is_refused_beside_the_prompt_and_kept(client, alice):
    client.force_login(alice)
    prompt = "w" * 2500  # over image to video's 2,000 characters
    response = client.post(reverse("generate", args=["img2video"]), form(prompt=prompt))
    assert response.status_code == 422
    text = response.content.decode()
    assert "The prompt is 2,500 characters; Vidu takes at most 2,000" in text
    assert prompt in text  # what was typed comes back to be shortened


def test_callbacks_carrying_a_full_payload_fit(settings):
    # Vidu sends the payload back in each callback, JSON-escaped: up to six bytes a
    # character.
    assert 6 * catalog.PAYLOAD_MAX_CHARS + 64 * 1024 <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_the_upload_folder_is_the_studio_s_own(settings):
    assert settings.FILE_UPLOAD_TEMP_DIR
    assert os.path.isdir(settings.FILE_UPLOAD_TEMP_DIR)
    assert os.path.basename(settings.FILE_UPLOAD_TEMP_DIR) == "uploads-tmp"
