"""Comparing finished videos side by side: only the team's, two to four at a time, with
the parameters that differ marked."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.files import File
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from studio.models import Creation, Generation
from studio.simulator import render as renderer
from tests.factories import attach_video, make_generation

pytestmark = pytest.mark.usefixtures("media_root")


def solid(color, size=(64, 36)) -> bytes:
    """A PNG of one colour, so any pixel of a frame made from it is that colour."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def real_video(generation, tmp_path: Path, colors, seconds: int = 2) -> Creation:
    """A real H.264 video for `generation`: it blends from the first colour to the last, so
    its last frame is the last colour."""
    out = tmp_path / f"render-{generation.pk}"
    pictures = [solid(color) for color in colors]
    made = renderer.render(pictures, duration=seconds, resolution="360p", fps=8, out_dir=out)
    creation = Creation(
        generation=generation,
        provider_creation_id="c1",
        duration=float(seconds),
        width=made.width,
        height=made.height,
        codec="h264",
    )
    with open(made.video, "rb") as fh:
        creation.video.save("video.mp4", File(fh), save=False)
    creation.video_size = creation.video.size
    with open(made.cover, "rb") as fh:
        creation.cover.save("cover.jpg", File(fh), save=False)
    creation.save()
    Generation.objects.filter(pk=generation.pk).update(result_status="stored")
    generation.refresh_from_db()
    return creation


def finished(team, author, **fields):
    generation = make_generation(team, author, state="success", **fields)
    attach_video(generation)
    return generation


def compare_url(*generations) -> str:
    return reverse("compare") + "?" + "&".join(f"ids={g.pk}" for g in generations)


@pytest.fixture
def three(team, alice, bob):
    return [
        finished(team, alice, params={"duration": 5, "resolution": "720p", "seed": 1}),
        finished(team, bob, params={"duration": 5, "resolution": "1080p", "seed": 2}),
        finished(team, alice, params={"duration": 5, "resolution": "720p", "seed": 3}),
    ]


def test_two_to_four_of_the_teams_videos_play_side_by_side(client, alice, three):
    client.force_login(alice)
    response = client.get(compare_url(*three))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("data-compare-video") == 3
    for generation in three:
        assert reverse("generation_video", args=[generation.pk]) in page
    # The shared controls wait for the script; without it each video keeps its own.
    assert "data-compare-controls hidden" in page
    assert page.count(" controls playsinline") == 3
    assert "1 of 3" in page
    assert "css/compare.css" in page and "js/compare.js" in page


def test_the_rows_that_differ_are_marked_and_the_same_ones_dimmed(client, alice, three):
    client.force_login(alice)
    html = client.get(compare_url(*three)).content.decode()
    rows = {
        m.group(2): m.group(1)
        for m in re.finditer(r'<tr class="(differs|same)" data-row="([^"]+)"', html)
    }
    assert rows["Resolution"] == "differs"
    assert rows["Seed"] == "differs"
    assert rows["Duration (s)"] == "same"
    assert rows["Model"] == "same"
    assert rows["Prompt"] == "same"
    differing = re.search(r'data-row="Resolution">\s*<th scope="row">(.*?)</th>', html, re.S)
    assert "●" in differing.group(1) and "(differs)" in differing.group(1)
    same = re.search(r'data-row="Model">\s*<th scope="row">(.*?)</th>', html, re.S)
    assert "●" not in same.group(1)
    assert "2 settings differ<" in html


def test_a_parameter_only_some_have_differs(client, alice, team):
    one = finished(team, alice, params={"duration": 5})
    two = finished(team, alice, params={"duration": 5, "audio": True})
    client.force_login(alice)
    html = client.get(compare_url(one, two)).content.decode()
    assert '<tr class="differs" data-row="Audio">' in html
    assert "<td>—</td>" in html


@pytest.mark.parametrize("count", [0, 1, 5])
def test_fewer_than_two_or_more_than_four_is_a_page_saying_so(client, alice, team, count):
    videos = [finished(team, alice) for _ in range(count)]
    client.force_login(alice)
    response = client.get(compare_url(*videos))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose 2 to 4 finished videos to compare" in page
    assert f'href="{reverse("history")}"' in page
    assert "data-compare-video" not in page


def test_the_same_id_twice_counts_once(client, alice, team):
    one = finished(team, alice)
    client.force_login(alice)
    assert client.get(compare_url(one, one)).status_code == 400


def test_another_teams_video_is_not_found(client, alice, team, charlie):
    mine = finished(team, alice)
    theirs = finished(charlie.memberships.first().team, charlie)
    client.force_login(alice)
    assert client.get(compare_url(mine, theirs)).status_code == 404
    client.force_login(charlie)
    response = client.get(compare_url(mine, theirs))
    assert response.status_code == 404
    assert str(mine.pk) not in response.content.decode()


def test_the_teams_unfinished_or_hidden_videos_are_left_out_and_named(client, alice, team):
    one, two = finished(team, alice), finished(team, alice)
    flying = make_generation(team, alice, state="queued", prompt="still on its way")
    hidden = finished(team, alice, prompt="put away")
    Generation.objects.filter(pk=hidden.pk).update(hidden_at=timezone.now(), hidden_by=alice)
    client.force_login(alice)
    response = client.get(compare_url(one, flying, two, hidden))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("data-compare-video") == 2
    assert "still on its way</a> (not finished)" in page
    assert "put away</a> (hidden)" in page
    # With fewer than two left to play, the page says so and names the others.
    response = client.get(compare_url(one, flying))
    assert response.status_code == 400
    assert "1 of them cannot be played here" in response.content.decode()
    assert "still on its way</a> (not finished)" in response.content.decode()


def test_a_malformed_id_is_not_found(client, alice, team):
    one = finished(team, alice)
    client.force_login(alice)
    assert client.get(reverse("compare") + f"?ids={one.pk}&ids=nope").status_code == 404


def test_a_viewer_may_compare(client, vera, three):
    client.force_login(vera)
    assert client.get(compare_url(*three[:2])).status_code == 200
