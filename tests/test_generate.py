import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from studio import staging
from studio.access import SESSION_TEAM
from studio.images import formats, uploads
from studio.models import Generation, InputImage, Membership, StagedImage, Team
from studio.web.forms.generation import GenerationForm
from tests.conftest import drain_queue, png
from tests.factories import make_generation

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
    assert drain_queue() == ["studio.worker.jobs.submit"]
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
    assert "Vidu Q1 makes 5-second videos only" in html
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
    assert generation.endpoint == "start-end2video"
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


# the options follow the model


def options_html(client, endpoint="img2video", **query) -> str:
    response = client.get(
        reverse("generate", args=[endpoint]),
        query,
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="options",
    )
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    return response.content.decode()


def test_it_offers_only_the_chosen_models_choices(client, alice):
    client.force_login(alice)
    html = client.get(reverse("generate", args=["img2video"]), {"model": "viduq1"}).content
    html = html.decode()
    assert '<option value="5" selected>5 s</option>' in html
    assert '<option value="6"' not in html
    assert '<option value="1080p" selected>1080p</option>' in html
    assert '<option value="720p"' not in html
    assert 'name="movement_amplitude"' in html and 'name="bgm"' in html
    assert "Vidu Q1 makes 5-second videos only" in html
    assert "≈ 8 credits" in html


def test_it_hides_what_does_not_apply_and_says_why(client, alice):
    client.force_login(alice)
    html = client.get(reverse("generate", args=["img2video"]), {"model": "viduq3-pro"}).content
    html = html.decode()
    for name in ("bgm", "movement_amplitude", "voice_id", "off_peak"):
        assert f'name="{name}"' not in html, name
    assert "Background music is not available on Vidu Q3 Pro (Q3 models)." in html
    assert "Movement amplitude has no effect on Vidu Q3 Pro" in html
    assert "Off-peak is not available with audio on Vidu Q3 Pro" in html
    assert 'name="audio" aria-describedby="id_audio_helptext" id="id_audio" checked' in html
    # The bgm rule's source, one click away.
    assert (
        'why?</summary><span class="why-body">From the official start-end2video docs.'
        " &#x27;BGM does not available in q3 models&#x27;." in html
    )


def test_an_htmx_request_answers_the_options_and_the_estimate_only(client, alice):
    client.force_login(alice)
    html = options_html(client, model="vidu2.0", duration="8", shown_model="vidu2.0")
    assert "<html" not in html and 'name="prompt"' not in html
    assert html.lstrip().startswith('<div id="options"')
    assert '<option value="720p" selected>720p</option>' in html
    assert '<option value="1080p"' not in html  # vidu2.0 at 8 s: 720p only
    assert 'id="estimate"' in html and 'hx-swap-oob="true"' in html
    assert 'data-credits="10"' in html


def test_a_new_model_starts_from_its_own_audio_default(client, alice):
    client.force_login(alice)
    # From viduq2-turbo (audio off, unticked) to viduq3-pro: Q3's default, on.
    html = options_html(client, model="viduq3-pro", shown_model="viduq2-turbo")
    assert 'id="id_audio" checked' in html
    # Back to viduq2-turbo with Q3's box still ticked: Q2's default, off.
    html = options_html(client, model="viduq2-turbo", shown_model="viduq3-pro", audio="on")
    assert 'id="id_audio" checked' not in html and 'name="off_peak"' in html
    # The same model with the box unticked: off, and off-peak is offered again.
    html = options_html(client, model="viduq3-pro", shown_model="viduq3-pro", duration="5")
    assert 'id="id_audio" checked' not in html and 'name="off_peak"' in html


def test_valid_choices_survive_a_model_change_and_invalid_ones_become_defaults(client, alice):
    client.force_login(alice)
    html = options_html(
        client, model="viduq3-pro", shown_model="viduq1", duration="5", resolution="1080p"
    )
    assert '<option value="1080p" selected>' in html
    html = options_html(
        client, model="viduq2-pro-fast", shown_model="viduq3-pro", duration="14", resolution="540p"
    )
    assert '<option value="5" selected>' in html and '<option value="720p" selected>' in html
    assert 'data-credits="5"' in html


def test_the_estimate_counts_off_peak_and_a_recommended_prompt(client, alice):
    client.force_login(alice)
    plain = options_html(client, model="viduq2-pro", shown_model="viduq2-pro", duration="8")
    assert 'data-credits="16"' in plain
    cheaper = options_html(
        client, model="viduq2-pro", shown_model="viduq2-pro", duration="8", off_peak="on"
    )
    assert 'data-credits="8"' in cheaper
    both = options_html(
        client,
        model="viduq2-pro",
        shown_model="viduq2-pro",
        duration="8",
        off_peak="on",
        is_rec="on",
    )
    assert 'data-credits="18"' in both and "+10 for a recommended prompt" in both


def test_it_refuses_an_option_the_model_does_not_have(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("generate", args=["img2video"]),
        {"model": "viduq3-pro", "bgm": "on", "images": upload()},
    )
    assert response.status_code == 422
    assert "Background music is not available on Vidu Q3 Pro" in response.content.decode()
    assert Generation.objects.count() == 0


def test_it_takes_the_models_default_audio_when_the_page_never_showed_it(client, alice):
    client.force_login(alice)
    client.post(
        reverse("generate", args=["start-end2video"]),
        {
            "model": "viduq3-turbo",
            "start_image": upload(data=png(320, 180)),
            "end_image": upload(data=png(320, 180)),
        },
    )
    assert Generation.objects.get().params["audio"] is True


def test_an_unticked_audio_box_means_no_audio(client, alice):
    client.force_login(alice)
    client.post(
        reverse("generate", args=["img2video"]),
        {"model": "viduq3-pro", "shown_model": "viduq3-pro", "off_peak": "on", "images": upload()},
    )
    params = Generation.objects.get().params
    assert params["audio"] is False and params["off_peak"] is True


def test_without_htmx_a_changed_model_shows_its_options_before_spending(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("generate", args=["img2video"]),
        {"model": "viduq3-pro", "shown_model": "viduq2-turbo", "images": upload()},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "These are the options for viduq3-pro" in html
    assert 'id="id_audio" checked' in html
    assert Generation.objects.count() == 0
    staged = StagedImage.objects.get()
    assert f'name="images_staged" value="{staged.pk}"' in html


def test_the_update_button_shows_the_options_without_spending(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("generate", args=["img2video"]),
        {"model": "vidu2.0", "shown_model": "vidu2.0", "duration": "8", "refresh": "1"},
    )
    assert response.status_code == 200 and Generation.objects.count() == 0
    assert '<option value="720p" selected>720p</option>' in response.content.decode()


def test_the_prompt_is_limited_per_endpoint(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("generate", args=["img2video"]),
        {"model": "viduq2-turbo", "prompt": "x" * 2001, "images": upload()},
    )
    assert response.status_code == 422 and 'id="error-prompt"' in response.content.decode()
    response = client.post(
        reverse("generate", args=["start-end2video"]),
        {
            "model": "viduq2-turbo",
            "prompt": "x" * 5000,
            "start_image": upload(data=png(320, 180)),
            "end_image": upload(data=png(320, 180)),
        },
    )
    assert response.status_code == 302


def test_it_reads_the_format_from_the_content_not_the_name(client, alice):
    client.force_login(alice)
    client.post(
        reverse("generate", args=["img2video"]),
        {"model": "viduq2-turbo", "images": upload("holiday.jpg", png(), "image/jpeg")},
    )
    image = InputImage.objects.get()
    assert image.format == "png" and image.file.name.endswith(".png")
    assert image.original_name == "holiday.jpg"


def test_it_refuses_an_image_over_50_mb_without_reading_it(alice):
    from django.core.files.uploadedfile import SimpleUploadedFile

    class Huge(SimpleUploadedFile):
        def read(self, *args):  # pragma: no cover - the point is that it is never called
            raise AssertionError("a 50 MB+ upload must be refused before it is read")

    huge = Huge("huge.png", b"", "image/png")
    huge.size = 50_000_001
    form = GenerationForm("img2video", {"model": "viduq2-turbo"}, {"images": huge})
    assert not form.is_valid()
    assert form.errors["images"] == [
        "This image is just over 50 MB; Vidu takes images up to 50 MB."
    ]


# big uploads: checked and stored a piece at a time


def noise_png(width: int, height: int) -> bytes:
    import io
    import os

    from PIL import Image

    out = io.BytesIO()
    picture = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    picture.save(out, "PNG", compress_level=1)
    return out.getvalue()


@pytest.fixture(scope="module")
def big_upload_bytes():
    """About 6 MB of PNG: more than Django keeps in memory, so it arrives as a file."""
    data = noise_png(1500, 1350)
    assert len(data) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    return data


def test_a_big_upload_is_checked_without_decoding_its_pixels(
    client, alice, big_upload_bytes, decoded_pictures
):
    client.force_login(alice)
    response = client.post(
        reverse("generate", args=["img2video"]),
        {"model": "viduq2-turbo", "images": upload("noise.png", big_upload_bytes)},
    )
    assert response.status_code == 302
    image = InputImage.objects.get()
    assert (image.format, image.width, image.height) == ("png", 1500, 1350)
    assert image.size == len(big_upload_bytes) and image.file.read() == big_upload_bytes
    assert decoded_pictures == []


def test_a_big_upload_is_never_read_whole_to_be_checked_kept_or_stored(
    alice, team, big_upload_bytes
):
    from django.core.files.uploadedfile import TemporaryUploadedFile

    from studio.web.views.generate import _create

    reads = []

    class Watched(TemporaryUploadedFile):
        def read(self, *args):
            data = self.file.read(*args)
            reads.append(len(data))
            return data

    def sent(data: bytes) -> Watched:
        upload = Watched("noise.png", "image/png", len(data), None)
        upload.write(data)
        upload.seek(0)
        return upload

    # A mistake elsewhere in the form: the image is checked, then kept for the next try.
    bad = {"model": "viduq2-turbo", "meta_data": "not json"}
    whose = {"team": team, "owner": alice}
    form = GenerationForm("img2video", bad, {"images": sent(big_upload_bytes)}, **whose)
    assert not form.is_valid() and "images" not in form.errors
    form.keep_uploads()
    assert StagedImage.objects.get().file.read() == big_upload_bytes
    # A good form: checked, then stored.
    good = {"model": "viduq2-turbo"}
    form = GenerationForm("img2video", good, {"images": sent(big_upload_bytes)}, **whose)
    assert form.is_valid(), form.errors
    _create(form, alice.memberships.get(), alice)
    assert InputImage.objects.get().file.read() == big_upload_bytes
    assert reads and max(reads) <= formats.PIECE < len(big_upload_bytes)


def test_a_kept_image_gone_before_it_is_stored_asks_for_it_again(client, alice, team, monkeypatch):
    staged = staging.keep(team, alice, png(), uploads.inspect(png()), "kept.png")
    checked = GenerationForm.clean

    def then_used_elsewhere(form):
        data = checked(form)
        staged.file.storage.delete(staged.file.name)  # e.g. by a second press of the button
        return data

    monkeypatch.setattr(GenerationForm, "clean", then_used_elsewhere)
    client.force_login(alice)
    response = client.post(
        reverse("generate", args=["img2video"]),
        {"model": "viduq2-turbo", "images_staged": str(staged.pk)},
    )
    assert response.status_code == 422
    assert "no longer available; upload it again" in response.content.decode()
    assert Generation.objects.count() == 0 and InputImage.objects.count() == 0


# images kept across a mistake


def test_it_keeps_the_uploaded_image_after_a_mistake(client, alice):
    client.force_login(alice)
    picture = png(640, 360, (10, 200, 90))
    response = client.post(
        reverse("generate", args=["img2video"]),
        {
            "model": "viduq2-turbo",
            "prompt": "keep me",
            "meta_data": "not json",
            "images": upload("meadow.png", picture),
        },
    )
    assert response.status_code == 422
    staged = StagedImage.objects.get()
    assert (staged.team.name, staged.owner, staged.width, staged.height) == (
        "Alpha",
        alice,
        640,
        360,
    )
    html = response.content.decode()
    assert f'name="images_staged" value="{staged.pk}"' in html
    assert reverse("staged_image", args=[staged.pk]) in html
    assert "meadow.png" in html and "keep me" in html
    thumb = client.get(reverse("staged_image", args=[staged.pk]))
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"

    response = client.post(
        reverse("generate", args=["img2video"]),
        {"model": "viduq2-turbo", "prompt": "keep me", "images_staged": str(staged.pk)},
    )
    assert response.status_code == 302
    image = InputImage.objects.get()
    assert image.file.read() == picture
    assert (image.width, image.original_name) == (640, "meadow.png")
    assert not StagedImage.objects.exists()
    assert not (Path(settings.MEDIA_ROOT) / staged.file.name).exists()


def test_a_kept_image_is_only_its_owners_in_the_same_team(client, alice, bob, charlie):
    client.force_login(alice)
    client.post(
        reverse("generate", args=["img2video"]),
        {"model": "viduq1", "duration": "8", "images": upload()},
    )
    staged = StagedImage.objects.get()
    for person in (bob, charlie):
        client.force_login(person)
        assert client.get(reverse("staged_image", args=[staged.pk])).status_code == 404
        response = client.post(
            reverse("generate", args=["img2video"]),
            {"model": "viduq2-turbo", "images_staged": str(staged.pk)},
        )
        assert response.status_code == 422
        assert "no longer available; upload it again" in response.content.decode()
    assert Generation.objects.count() == 0
    client.force_login(alice)
    assert client.get(reverse("staged_image", args=[staged.pk])).status_code == 200


def test_a_new_file_replaces_the_kept_image(client, alice):
    client.force_login(alice)
    client.post(
        reverse("generate", args=["img2video"]),
        {"model": "viduq1", "duration": "8", "images": upload(data=png(320, 180))},
    )
    old = StagedImage.objects.get()
    newer = png(400, 300, (250, 0, 0))
    response = client.post(
        reverse("generate", args=["img2video"]),
        {"model": "viduq1", "images_staged": str(old.pk), "images": upload("new.png", newer)},
    )
    assert response.status_code == 302
    assert InputImage.objects.get().file.read() == newer
    assert not StagedImage.objects.exists()


def test_an_image_vidu_would_refuse_is_not_kept(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("generate", args=["img2video"]),
        {"model": "viduq2-turbo", "images": upload(data=png(500, 100))},
    )
    assert response.status_code == 422 and not StagedImage.objects.exists()


def test_start_and_end_frames_are_kept_while_one_is_replaced(client, alice):
    client.force_login(alice)
    client.post(
        reverse("generate", args=["start-end2video"]),
        {
            "model": "viduq2-turbo",
            "start_image": upload("start.png", png(320, 180)),
            "end_image": upload("end.png", png(180, 320)),
        },
    )
    kept = {s.original_name: s for s in StagedImage.objects.all()}
    assert set(kept) == {"start.png", "end.png"}
    response = client.post(
        reverse("generate", args=["start-end2video"]),
        {
            "model": "viduq2-turbo",
            "start_image_staged": str(kept["start.png"].pk),
            "end_image_staged": str(kept["end.png"].pk),
            "end_image": upload("end2.png", png(330, 180)),
        },
    )
    assert response.status_code == 302
    generation = Generation.objects.get()
    assert list(generation.images.values_list("original_name", "width")) == [
        ("start.png", 320),
        ("end2.png", 330),
    ]
    assert not StagedImage.objects.exists()


def test_images_kept_longer_than_a_day_are_forgotten(client, alice, team):
    old = staging.keep(team, alice, png(), uploads.inspect(png()), "old.png")
    StagedImage.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    staging.keep(team, alice, png(), uploads.inspect(png()), "new.png")
    assert list(StagedImage.objects.values_list("original_name", flat=True)) == ["new.png"]


# generate again


def test_generate_again_prefills_everything_and_reuses_the_images(client, alice, bob, team):
    params = {
        "duration": 10,
        "resolution": "1080p",
        "audio": True,
        "voice_id": "warm-voice",
        "seed": 4242,
        "is_rec": True,
        "watermark": True,
        "wm_position": 2,
        "payload": "mine",
    }
    earlier = make_generation(
        team, alice, model="viduq2-pro", prompt="gulls over the pier", params=params
    )
    original = earlier.images.get().file.read()
    client.force_login(bob)  # a teammate may start from anyone's generation in the team
    response = client.get(reverse("generate", args=["img2video"]), {"from": str(earlier.pk)})
    assert response.status_code == 200
    html = response.content.decode()
    assert "gulls over the pier" in html and "Generating again" in html
    assert '<option value="viduq2-pro" selected>' in html
    assert '<option value="10" selected>' in html and '<option value="1080p" selected>' in html
    assert 'value="warm-voice"' in html and 'value="4242"' in html
    staged = StagedImage.objects.get()
    assert staged.owner == bob and f'name="images_staged" value="{staged.pk}"' in html

    response = client.post(
        reverse("generate", args=["img2video"]),
        {
            "model": "viduq2-pro",
            "shown_model": "viduq2-pro",
            "prompt": "gulls over the pier",
            "duration": "10",
            "resolution": "1080p",
            "audio": "on",
            "voice_id": "warm-voice",
            "seed": "4242",
            "is_rec": "on",
            "watermark": "on",
            "wm_position": "2",
            "payload": "mine",
            "images_staged": str(staged.pk),
        },
    )
    assert response.status_code == 302
    again = Generation.objects.exclude(pk=earlier.pk).get()
    assert again.params == params and again.author == bob
    assert again.images.get().file.read() == original


def test_vary_seed_sets_a_new_random_seed(client, alice, team):
    earlier = make_generation(team, alice, params={"duration": 2, "resolution": "540p", "seed": 7})
    client.force_login(alice)
    seeds = set()
    for _ in range(3):
        html = client.get(
            reverse("generate", args=["img2video"]), {"from": str(earlier.pk), "vary_seed": "1"}
        ).content.decode()
        seed = int(re.search(r'name="seed" value="(\d+)"', html)[1])
        assert 1 <= seed <= 2**31 - 1
        seeds.add(seed)
    assert len(seeds - {7}) >= 2 and "new seed" in html


def test_generate_again_is_only_for_the_teams_generations(client, alice, charlie, team):
    earlier = make_generation(team, alice)
    client.force_login(charlie)
    url = reverse("generate", args=["img2video"])
    assert client.get(url, {"from": str(earlier.pk)}).status_code == 404
    assert client.get(url, {"from": "not-a-uuid"}).status_code == 404
    assert not StagedImage.objects.exists()


def test_generate_again_goes_to_the_generations_own_form(client, alice, team):
    earlier = make_generation(team, alice)
    client.force_login(alice)
    response = client.get(reverse("generate", args=["start-end2video"]), {"from": str(earlier.pk)})
    assert response.status_code == 302
    assert response["Location"] == f"/generate/img2video/?from={earlier.pk}"


def test_a_kept_image_stays_in_the_team_it_was_kept_in(client, alice, team):
    other = Team.objects.create(name="Beta")
    Membership.objects.create(user=alice, team=other, role=Membership.OWNER)
    staged = staging.keep(team, alice, png(), uploads.inspect(png()), "alpha.png")
    client.force_login(alice)
    session = client.session
    session[SESSION_TEAM] = other.pk
    session.save()
    assert client.get(reverse("staged_image", args=[staged.pk])).status_code == 404
    response = client.post(
        reverse("generate", args=["img2video"]),
        {"model": "viduq2-turbo", "images_staged": str(staged.pk)},
    )
    assert response.status_code == 422 and Generation.objects.count() == 0


def test_a_payload_is_measured_as_it_will_be_sent(client, alice):
    from studio import catalog

    client.force_login(alice)
    # Quotes are escaped when the studio wraps the payload: this one doubles in size.
    quoted = '"' * (catalog.PAYLOAD_MAX_CHARS // 2 + 10)
    response = client.post(
        reverse("generate", args=["img2video"]),
        {"model": "viduq2-turbo", "payload": quoted, "images": upload()},
    )
    assert response.status_code == 422
    assert "characters too long" in response.content.decode()
    plain = "x" * (catalog.PAYLOAD_MAX_CHARS - 100)
    response = client.post(
        reverse("generate", args=["img2video"]),
        {"model": "viduq2-turbo", "payload": plain, "images": upload()},
    )
    assert response.status_code == 302


def test_a_broker_failure_does_not_lose_the_generation_or_show_an_error(
    client, alice, monkeypatch, django_capture_on_commit_callbacks
):
    # A broker that is down: nothing real can be made to fail this way on demand.
    def broker_down(*args, **kwargs):
        raise ConnectionError("the broker is down")

    monkeypatch.setattr("studio.worker.queue.async_task", broker_down)
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("generate", args=["img2video"]), {"model": "viduq2-turbo", "images": upload()}
        )
    assert response.status_code == 302
    assert Generation.objects.get().state == "queued"  # the reconciler queues it again


@pytest.mark.parametrize("name", ["off_peak", "bgm", "is_rec", "audio", "watermark"])
def test_a_box_that_is_neither_ticked_nor_unticked_is_refused_beside_it(client, alice, name):
    client.force_login(alice)
    form = {"model": "viduq2-turbo", "prompt": "a slow pan", "images": upload(), name: "maybe"}
    response = client.post(reverse("generate", args=["img2video"]), form)
    assert response.status_code == 422
    html = response.content.decode()
    assert "“maybe” is neither yes nor no" in html
    assert Generation.objects.count() == 0


@pytest.mark.parametrize("word", ["on", "true", "1", "yes", "TRUE"])
def test_the_usual_spellings_of_a_ticked_box_are_taken(client, alice, word):
    client.force_login(alice)
    form = {"model": "viduq2-turbo", "images": upload(), "duration": "5", "off_peak": word}
    assert client.post(reverse("generate", args=["img2video"]), form).status_code == 302
    assert Generation.objects.get().params["off_peak"] is True


def test_a_file_name_too_long_to_parse_gets_a_page_that_says_so(client, alice):
    """Each part's headers must fit in 1 KB: the whole upload is unreadable, so the
    answer says why (the page's script sends such a file under a shorter name)."""
    client.force_login(alice)
    boundary = "studio-boundary"
    name = "a" * 990 + ".png"
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="prompt"\r\n\r\nkeep me\r\n'
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="images"; filename="{name}"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + png()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.generic(
        "POST",
        reverse("generate", args=["img2video"]),
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "A file whose name is very long" in html
    assert 'href="/generate/img2video/"' in html
    assert Generation.objects.count() == 0


# a member made viewer while the form was open


def test_a_submit_refused_by_a_changed_role_answers_the_form_with_what_was_typed(
    client, alice, bob
):
    client.force_login(bob)
    Membership.objects.filter(user=bob).update(role=Membership.VIEWER)
    response = client.post(
        reverse("generate", args=["img2video"]),
        {"model": "viduq1", "prompt": "keep my words", "images": upload("harbour.png")},
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert "Your role in Alpha is now viewer, which does not allow generating videos" in html
    assert "team owner (alice)" in html  # who can change it
    assert "keep my words" in html
    assert '<option value="viduq1" selected>' in html
    kept = StagedImage.objects.get(owner=bob)
    assert f'name="images_staged" value="{kept.pk}"' in html
    assert Generation.objects.count() == 0
    # Still nothing to see by a plain visit.
    assert client.get(reverse("generate", args=["img2video"])).status_code == 403


# the words a newcomer reads


def test_the_form_speaks_of_models_by_name_and_keeps_sources_one_click_away(client, alice):
    client.force_login(alice)
    html = client.get(reverse("generate", args=["img2video"])).content.decode()
    # The model's name and character are shown; its id is what is sent.
    assert '<option value="viduq2-turbo" selected>Vidu Q2 Turbo — fast, good detail' in html
    assert "gateway name" not in html
    assert not re.search(r"\[(0\d\d|api)[,\]]", html)  # no "[000, 001]" tags
    assert (
        html.count(
            '<details class="why"><summary title="Where this rule comes from">why?</summary>'
        )
        > 10
    )
    assert "From Octopusx&#x27;s img2video docs, official format" in html
    # Payload and metadata wait under "Advanced", inside "More options".
    advanced = html[html.index('<details class="advanced"') :]
    assert 'name="payload"' in advanced and 'name="meta_data"' in advanced
    assert 'name="payload"' not in html[: html.index('<details class="advanced"')]
    assert "data-ask-notify" in html
    # No maxlength: a long paste is kept and counted, not cut.
    assert 'data-count-max="2000"' in html and "maxlength" not in html
