"""Building on a finished video: its real last frame staged as the first (or start)
frame of a new form, and its settings read without touching the form."""

from __future__ import annotations

import io
import json

import av
import pytest
from django.urls import reverse
from PIL import Image

from studio import staging
from studio.models import StagedImage
from tests.factories import attach_video, make_generation
from tests.test_compare import real_video

pytestmark = pytest.mark.usefixtures("media_root")

RED, GREEN = (220, 30, 30), (30, 200, 60)


@pytest.fixture
def made(team, alice, tmp_path):
    """A finished video that fades from red to green: its last frame is green."""
    generation = make_generation(team, alice, state="success")
    real_video(generation, tmp_path, [RED, GREEN])
    return generation


def centre(staged: StagedImage) -> tuple[int, int, int]:
    with staging.open_file(staged) as fh:
        picture = Image.open(io.BytesIO(fh.read())).convert("RGB")
    return picture.getpixel((picture.width // 2, picture.height // 2))


def close_to(pixel, color, tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, color, strict=True))


def test_the_last_frame_is_the_videos_real_last_frame(client, alice, made):
    client.force_login(alice)
    response = client.post(reverse("generation_last_frame", args=[made.pk]), {"as": "first"})
    staged = StagedImage.objects.get(owner=alice)
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("generate", args=["img2video"]) + f"?staged_first={staged.pk}"
    )
    assert close_to(centre(staged), GREEN), centre(staged)
    creation = made.creations.get()
    assert (staged.width, staged.height) == (creation.width, creation.height)
    assert staged.format == "png"


def keyframed_video(path, seconds: int, fps: int = 8) -> None:
    """Red, turning green for its final second, with a keyframe every second, as
    providers' videos have."""
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
        stream.gop_size = fps
        for index in range(seconds * fps):
            color = GREEN if index >= (seconds - 1) * fps else RED
            frame = av.VideoFrame.from_image(Image.new("RGB", (64, 36), color))
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def test_the_last_frame_is_found_from_near_the_end_not_by_decoding_it_all(tmp_path):
    path = tmp_path / "long.mp4"
    keyframed_video(path, seconds=20)
    with open(path, "rb") as fh:
        frame, decoded = staging.last_frame(fh)
    assert close_to(frame.to_image().getpixel((32, 18)), GREEN)
    assert decoded <= 4 * 8  # a few seconds' worth of the 160 frames
    with open(path, "rb") as fh:
        picture = Image.open(io.BytesIO(staging.last_frame_png(fh))).convert("RGB")
    assert close_to(picture.getpixel((5, 5)), GREEN)


def test_the_form_shows_the_last_frame_kept_as_the_first_frame(client, alice, made):
    client.force_login(alice)
    response = client.post(
        reverse("generation_last_frame", args=[made.pk]), {"as": "first"}, follow=True
    )
    staged = StagedImage.objects.get(owner=alice)
    page = response.content.decode()
    assert response.status_code == 200
    assert f'name="images_staged" value="{staged.pk}"' in page
    assert f'data-kept="{staged.pk}"' in page
    assert "The last frame of the earlier video is the first frame here." in page


def test_as_start_opens_the_start_and_end_form_with_it_as_the_start_frame(client, alice, made):
    client.force_login(alice)
    response = client.post(
        reverse("generation_last_frame", args=[made.pk]), {"as": "start"}, follow=True
    )
    staged = StagedImage.objects.get(owner=alice)
    page = response.content.decode()
    assert response.redirect_chain[-1][0].startswith(reverse("generate", args=["start-end2video"]))
    assert f'name="start_image_staged" value="{staged.pk}"' in page
    assert 'name="end_image_staged" value=' not in page


def test_someone_elses_staged_image_is_not_taken_by_query(client, alice, bob, made):
    client.force_login(alice)
    client.post(reverse("generation_last_frame", args=[made.pk]), {"as": "first"})
    staged = StagedImage.objects.get(owner=alice)
    client.force_login(bob)
    page = client.get(reverse("generate", args=["img2video"]) + f"?staged_first={staged.pk}")
    assert str(staged.pk) not in page.content.decode()
    page = client.get(reverse("generate", args=["img2video"]) + "?staged_first=nonsense")
    assert page.status_code == 200


def test_a_member_may_viewers_and_outsiders_may_not(client, bob, vera, charlie, made):
    url = reverse("generation_last_frame", args=[made.pk])
    client.force_login(bob)
    assert client.post(url, {"as": "first"}).status_code == 302
    client.force_login(vera)
    assert client.post(url, {"as": "first"}).status_code == 403
    client.force_login(charlie)
    assert client.post(url, {"as": "first"}).status_code == 404
    assert not StagedImage.objects.filter(owner__in=[vera, charlie]).exists()
    client.force_login(bob)
    assert client.get(url).status_code == 405  # a change, so a POST only


def test_a_video_that_cannot_be_read_says_so(client, alice, team):
    broken = make_generation(team, alice, state="success")
    attach_video(broken)  # bytes that are no video
    client.force_login(alice)
    response = client.post(
        reverse("generation_last_frame", args=[broken.pk]), {"as": "first"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("generation", args=[broken.pk])
    assert "could not be read" in response.content.decode()
    assert not StagedImage.objects.exists()


def test_the_page_offers_both_uses_to_members_only(client, alice, vera, made):
    client.force_login(alice)
    page = client.get(reverse("generation", args=[made.pk])).content.decode()
    assert reverse("generation_last_frame", args=[made.pk]) in page
    assert 'value="first"' in page and 'value="start"' in page
    client.force_login(vera)
    page = client.get(reverse("generation", args=[made.pk])).content.decode()
    assert reverse("generation_last_frame", args=[made.pk]) not in page


def test_the_form_has_an_opener_for_earlier_settings_outside_the_form(client, alice):
    client.force_login(alice)
    page = client.get(reverse("generate", args=["img2video"])).content.decode()
    opener = page.index("Settings of earlier videos")
    assert opener < page.index('<form method="post" enctype')
    assert reverse("recent_settings") + "?endpoint=img2video" in page
    assert 'id="settings-panel"' in page and "js/settings_panel.js" in page


def test_the_list_shows_the_teams_finished_videos_of_the_forms_kind(
    client, alice, team, charlie, made
):
    other_kind = make_generation(team, alice, state="success", endpoint="start-end2video")
    attach_video(other_kind)
    flying = make_generation(team, alice, state="queued")
    theirs = make_generation(charlie.memberships.first().team, charlie, state="success")
    attach_video(theirs)
    client.force_login(alice)
    url = reverse("recent_settings") + "?endpoint=img2video"
    page = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in page
    assert reverse("generation_settings", args=[made.pk]) in page
    for absent in (other_kind, flying, theirs):
        assert str(absent.pk) not in page
    assert "<html" in client.get(url).content.decode()  # a page of its own without htmx


def test_the_settings_panel_carries_what_copy_sets_and_a_link_without_js(client, alice, team):
    earlier = make_generation(
        team,
        alice,
        state="success",
        model="viduq1",
        prompt="a lighthouse at dusk",
        params={"duration": 5, "resolution": "1080p", "movement_amplitude": "large", "seed": 7},
    )
    client.force_login(alice)
    url = reverse("generation_settings", args=[earlier.pk])
    panel = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in panel
    assert "a lighthouse at dusk" in panel
    again = reverse("generate", args=["img2video"]) + f"?from={earlier.pk}"
    assert f'href="{again}" data-settings-copy' in panel
    carried = json.loads(
        __import__("html").unescape(panel.split('data-settings="')[1].split('"')[0])
    )
    assert carried == {
        "model": "viduq1",
        "prompt": "a lighthouse at dusk",
        "duration": 5,
        "resolution": "1080p",
        "movement_amplitude": "large",
        "seed": 7,
    }
    assert "Copy into the form" in client.get(url).content.decode()


def test_a_viewer_reads_settings_without_a_copy_button(client, vera, made):
    client.force_login(vera)
    page = client.get(reverse("generation_settings", args=[made.pk])).content.decode()
    assert "a slow pan over the bay" in page
    assert "Copy into the form" not in page
