import pytest
from django.urls import reverse

from studio.models import Generation, InputImage
from tests.conftest import drain_queue, png

pytestmark = pytest.mark.usefixtures("media_root")


def upload(name="frame.png", data=None, content_type="image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data if data is not None else png(), content_type)


def test_it_shows_the_form(client, alice):
    client.force_login(alice)
    response = client.get(reverse("generate", args=["img2video"]))
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("model", "prompt", "duration", "resolution", "images", "seed", "off_peak"):
        assert f'name="{name}"' in html


def test_it_shows_two_frames_for_start_end(client, alice):
    client.force_login(alice)
    html = client.get(reverse("generate", args=["start-end2video"])).content.decode()
    assert 'name="start_image"' in html and 'name="end_image"' in html
    assert 'name="images"' not in html and 'name="watermark"' not in html


def test_it_stores_and_queues_a_valid_generation(client, alice, django_capture_on_commit_callbacks):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("generate", args=["img2video"]),
            {
                "model": "viduq2-turbo",
                "prompt": "a slow pan",
                "duration": "3",
                "resolution": "540p",
                "images": upload(),
            },
        )
    generation = Generation.objects.get()
    assert response.status_code in (302, 303)
    assert response["Location"] == reverse("generation", args=[generation.pk])
    assert generation.author == alice and generation.state == "queued"
    assert generation.params["duration"] == 3 and generation.params["resolution"] == "540p"
    assert generation.estimated_credits == 3
    image = InputImage.objects.get()
    assert (image.format, image.width, image.height) == ("png", 320, 180)
    assert drain_queue() == ["studio.jobs.submit"]
    assert list(generation.events.values_list("state", flat=True)) == ["queued"]


def test_it_fills_in_the_model_defaults(client, alice):
    client.force_login(alice)
    client.post(reverse("generate", args=["img2video"]), {"model": "vidu2.0", "images": upload()})
    params = Generation.objects.get().params
    assert params["duration"] == 4 and params["resolution"] == "360p"
    assert params["movement_amplitude"] == "auto"


def test_it_answers_422_with_errors_beside_fields_and_keeps_input(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("generate", args=["img2video"]),
        {"model": "viduq1", "prompt": "keep me please", "duration": "8", "images": upload()},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="error-duration"' in html
    assert "viduq1 makes 5-second videos only" in html
    assert "keep me please" in html
    assert Generation.objects.count() == 0


def test_it_refuses_a_file_that_is_not_an_image(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("generate", args=["img2video"]),
        {"model": "viduq2-turbo", "images": upload("x.png", b"not an image")},
    )
    assert response.status_code == 422
    assert "not an image" in response.content.decode()


def test_it_refuses_a_wide_image(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("generate", args=["img2video"]),
        {"model": "viduq2-turbo", "images": upload(data=png(500, 100))},
    )
    assert response.status_code == 422
    assert "This image is 5:1; Vidu needs an aspect ratio between 1:4 and 4:1." in (
        response.content.decode()
    )


def test_it_refuses_start_and_end_of_different_shapes(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("generate", args=["start-end2video"]),
        {
            "model": "viduq2-turbo",
            "start_image": upload(data=png(320, 180)),
            "end_image": upload(data=png(180, 320)),
        },
    )
    assert response.status_code == 422
    assert "start frame is 16:9 and the end frame 9:16" in response.content.decode()


def test_it_stores_both_frames(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("generate", args=["start-end2video"]),
        {
            "model": "viduq2-turbo",
            "start_image": upload(data=png(320, 180)),
            "end_image": upload(data=png(330, 180, (200, 50, 50))),
        },
    )
    assert response.status_code == 302
    generation = Generation.objects.get()
    assert generation.kind == "start-end2video"
    assert list(generation.images.values_list("position", "width")) == [(0, 320), (1, 330)]


def test_an_htmx_post_redirects_with_a_header(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("generate", args=["img2video"]),
        {"model": "viduq2-turbo", "images": upload()},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/generations/")


def test_it_refuses_viewers(client, vera):
    client.force_login(vera)
    assert client.get(reverse("generate", args=["img2video"])).status_code == 403


def test_it_requires_login(client, db):
    response = client.get(reverse("generate", args=["img2video"]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_404s_an_unknown_endpoint(client, alice):
    client.force_login(alice)
    assert client.get("/generate/text2video/").status_code == 404
