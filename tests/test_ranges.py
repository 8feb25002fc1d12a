"""Media serving: byte ranges a browser may ask for, and ranges nobody could satisfy.

A team's video and a shared link's video go through the same ranged responder; an
absurd Range header (a number of thousands of digits, an end before its start) answers
416 with the size, never a server error. The media views and the shared pages answer GET
only.
"""

import pytest
from django.urls import reverse

from studio.models import ShareLink
from tests.factories import attach_video, make_generation

pytestmark = pytest.mark.usefixtures("media_root")
VIDEO = bytes(range(256)) * 40  # 10240 bytes
SIZE = len(VIDEO)
HUGE = "5" * 5000


@pytest.fixture
def finished(team, alice):
    g = make_generation(team, alice, state="success")
    attach_video(g, VIDEO, cover=b"\xff\xd8cover")
    return g


@pytest.fixture
def share(finished, alice):
    return ShareLink.objects.create(generation=finished, created_by=alice)


@pytest.fixture(params=["team", "shared"])
def video_url(request, client, alice, finished):
    """The same video, as the team sees it (logged in) and through a shared link."""
    if request.param == "team":
        client.force_login(alice)
        return reverse("generation_video", args=[finished.pk])
    share = request.getfixturevalue("share")
    return reverse("share_video", args=[share.token])


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(
    "header",
    [
        f"bytes={HUGE}-",  # a start no file could reach
        f"bytes=0-{HUGE}",  # an end written with thousands of digits
        f"bytes={HUGE}-{HUGE}",
        f"bytes=-{HUGE}",  # the last <absurd number> of bytes
        f"bytes={SIZE}-",  # starts just past the end
        "bytes=500-100",  # ends before it starts
        "bytes=-0",  # the last zero bytes
    ],
)
def test_an_unsatisfiable_or_absurd_range_answers_416(client, video_url, header):
    response = client.get(video_url, headers={"Range": header})
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SIZE}"


@pytest.mark.parametrize(
    "header, start, end",
    [
        ("bytes=0-0", 0, 0),
        ("bytes=100-199", 100, 199),
        ("bytes=10000-", 10000, SIZE - 1),
        ("bytes=-40", SIZE - 40, SIZE - 1),
        ("bytes=10200-99999", 10200, SIZE - 1),  # an end past the file is cut to it
        (f"bytes=-{SIZE + 5}", 0, SIZE - 1),  # more than the file: all of it
    ],
)
def test_a_valid_range_answers_206_with_those_bytes(client, video_url, header, start, end):
    response = client.get(video_url, headers={"Range": header})
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{SIZE}"
    assert response["Content-Length"] == str(end - start + 1)
    assert body(response) == VIDEO[start : end + 1]


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-5", "bytes=٣-", "bytes=-"])
def test_a_range_it_does_not_serve_gets_the_whole_file(client, video_url, header):
    # RFC 9110 lets a server ignore a Range it does not support: 200 with everything.
    response = client.get(video_url, headers={"Range": header})
    assert response.status_code == 200
    assert body(response) == VIDEO


# Methods: media and shared pages are read-only.

WRONG_METHODS = ["put", "patch", "delete", "options", "post"]


def team_urls(g) -> dict[str, str]:
    return {
        "generation_video": reverse("generation_video", args=[g.pk]),
        "generation_cover": reverse("generation_cover", args=[g.pk]),
        "generation_watermarked": reverse("generation_watermarked", args=[g.pk]),
        "input_image": reverse("input_image", args=[g.pk, 0]),
    }


def shared_urls(share) -> dict[str, str]:
    return {
        name: reverse(name, args=[share.token])
        for name in ("share", "share_embed", "share_video", "share_cover")
    }


@pytest.mark.parametrize(
    "name", ["generation_video", "generation_cover", "generation_watermarked", "input_image"]
)
@pytest.mark.parametrize("method", WRONG_METHODS)
def test_team_media_answers_405_to_other_methods(client, alice, finished, name, method):
    client.force_login(alice)
    response = getattr(client, method)(team_urls(finished)[name])
    assert response.status_code == 405
    assert response["Allow"] == "GET"


@pytest.mark.parametrize("name", ["share", "share_embed", "share_video", "share_cover"])
@pytest.mark.parametrize("method", WRONG_METHODS)
def test_shared_links_answer_405_to_other_methods(client, share, name, method):
    response = getattr(client, method)(shared_urls(share)[name])
    assert response.status_code == 405
    assert response["Allow"] == "GET"


@pytest.mark.parametrize("name", ["share_create", "share_revoke"])
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "options"])
def test_making_and_revoking_links_answer_405_to_other_methods(client, bob, share, name, method):
    client.force_login(bob)
    args = [share.generation_id] if name == "share_create" else [share.generation_id, share.pk]
    response = getattr(client, method)(reverse(name, args=args))
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_static_files_ignore_an_absurd_range(client):
    # whitenoise serves static files itself: an absurd Range gets the whole file.
    response = client.get("/static/css/studio.css", headers={"Range": f"bytes={HUGE}-"})
    assert response.status_code == 200
