import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from tests.factories import attach_video, make_generation

pytestmark = pytest.mark.usefixtures("media_root")
VIDEO = bytes(range(256)) * 40  # 10240 bytes


@pytest.fixture
def finished(team, alice):
    g = make_generation(team, alice, state="success")
    attach_video(g, VIDEO)
    return g


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_it_serves_the_whole_video(client, alice, finished):
    client.force_login(alice)
    response = client.get(reverse("generation_video", args=[finished.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert response["Accept-Ranges"] == "bytes"
    assert body(response) == VIDEO


def test_it_serves_a_range(client, alice, finished):
    client.force_login(alice)
    response = client.get(
        reverse("generation_video", args=[finished.pk]), headers={"Range": "bytes=100-199"}
    )
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{len(VIDEO)}"
    assert body(response) == VIDEO[100:200]


def test_it_serves_an_open_ended_and_a_suffix_range(client, alice, finished):
    client.force_login(alice)
    url = reverse("generation_video", args=[finished.pk])
    assert body(client.get(url, headers={"Range": "bytes=10000-"})) == VIDEO[10000:]
    assert body(client.get(url, headers={"Range": "bytes=-40"})) == VIDEO[-40:]


def test_it_answers_416_past_the_end(client, alice, finished):
    client.force_login(alice)
    response = client.get(
        reverse("generation_video", args=[finished.pk]), headers={"Range": "bytes=99999-"}
    )
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(VIDEO)}"


@pytest.mark.parametrize(
    "who, status", [("alice", 200), ("bob", 200), ("vera", 200), ("charlie", 404), (None, 302)]
)
def test_media_follows_team_membership(client, finished, who, status, request):
    if who:
        client.force_login(request.getfixturevalue(who))
    for name in ("generation_video", "generation_cover"):
        assert client.get(reverse(name, args=[finished.pk])).status_code == status
    assert client.get(reverse("input_image", args=[finished.pk, 0])).status_code == status


def test_it_404s_a_video_not_yet_copied(client, alice, team):
    g = make_generation(team, alice, state="success")
    client.force_login(alice)
    assert client.get(reverse("generation_video", args=[g.pk])).status_code == 404


def test_it_serves_the_watermarked_copy_when_vidu_gave_one(client, alice, finished):
    client.force_login(alice)
    url = reverse("generation_watermarked", args=[finished.pk])
    assert client.get(url).status_code == 404  # none stored
    creation = finished.creations.get()
    creation.watermarked.save("video-watermarked.mp4", ContentFile(VIDEO[:500]))
    response = client.get(url, headers={"Range": "bytes=0-99"})
    assert response.status_code == 206 and body(response) == VIDEO[:100]
    assert "watermarked" in response["Content-Disposition"]


def test_team_media_stays_private_in_caches(client, alice, finished):
    client.force_login(alice)
    response = client.get(reverse("generation_video", args=[finished.pk]))
    assert response["Cache-Control"].startswith("private")
