"""Shared links: made and revoked by the team, opened by anyone who has them."""

import re

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from studio.models import Generation, Membership, ShareLink, Team
from tests.factories import attach_video, make_generation

pytestmark = pytest.mark.usefixtures("media_root")
VIDEO = bytes(range(256)) * 40
HTMX = {"HX-Request": "true"}


@pytest.fixture
def finished(team, alice):
    g = make_generation(team, alice, state="success", prompt="Boats drift across the bay")
    attach_video(g, VIDEO, cover=b"\xff\xd8cover")
    return g


@pytest.fixture
def share(finished, alice):
    return ShareLink.objects.create(generation=finished, created_by=alice)


def meta(html: str, key: str) -> str:
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', html)
    assert match, f"no {key} in the page"
    return match[1]


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_member_shares_a_result(client, bob, finished):
    client.force_login(bob)
    response = client.post(reverse("share_create", args=[finished.pk]), {"show_prompt": "on"})
    assert response.status_code == 302
    share = ShareLink.objects.get()
    assert share.generation == finished and share.created_by == bob and share.show_prompt
    assert len(share.token) >= 43  # 256 bits from secrets.token_urlsafe(32)
    html = client.get(reverse("generation", args=[finished.pk])).content.decode()
    assert f"http://testserver/s/{share.token}/" in html


def test_htmx_gets_the_share_section_back(client, bob, finished):
    client.force_login(bob)
    response = client.post(reverse("share_create", args=[finished.pk]), headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="shares" id="shares">')
    share = ShareLink.objects.get()
    assert f"/s/{share.token}/" in html and not share.show_prompt


def section_of(html: str) -> str:
    start = html.index('<section class="shares" id="shares">')
    return html[start : html.index("</section>", start)]


def messages_of(html: str) -> str:
    start = html.index('id="messages"')
    return html[start : html.index("</div>", start)]


def test_without_javascript_the_confirmation_is_beside_the_new_link(client, bob, finished):
    client.force_login(bob)
    response = client.post(reverse("share_create", args=[finished.pk]))
    assert response["Location"] == reverse("generation", args=[finished.pk]) + "#shares"
    html = client.get(response["Location"]).content.decode()
    share = ShareLink.objects.get()
    item = section_of(html).split(f'<li id="share-{share.pk}"', 1)[1].split("</li>", 1)[0]
    assert f"/s/{share.token}/" in item and "Link made" in item
    assert "Link made" not in messages_of(html)
    assert "Copy" in item  # shown by studio.js
    # Said once: the next visit has no confirmation.
    assert "Link made" not in client.get(response["Location"]).content.decode()


def test_with_htmx_the_confirmation_comes_with_the_section(client, bob, finished):
    client.force_login(bob)
    ShareLink.objects.create(generation=finished, created_by=bob)
    html = client.post(reverse("share_create", args=[finished.pk]), headers=HTMX).content.decode()
    newest = ShareLink.objects.latest("created_at")
    item = html.split(f'<li id="share-{newest.pk}" class="new"', 1)[1].split("</li>", 1)[0]
    assert "Link made" in item
    assert html.count("Link made") == 1  # not in the out-of-band messages too


def test_it_refuses_to_share_what_has_no_video(client, bob, team):
    g = make_generation(team, bob, state="processing")
    client.force_login(bob)
    response = client.post(reverse("share_create", args=[g.pk]))
    assert response.status_code == 422
    assert "There is no video to share yet" in response.content.decode()
    assert not ShareLink.objects.exists()


def test_viewers_cannot_share(client, vera, finished):
    client.force_login(vera)
    assert client.post(reverse("share_create", args=[finished.pk])).status_code == 403
    html = client.get(reverse("generation", args=[finished.pk])).content.decode()
    assert reverse("share_create", args=[finished.pk]) not in html


def test_anyone_with_the_link_sees_the_video(client, share, finished):
    response = client.get(reverse("share", args=[share.token]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'src="/s/{share.token}/video.mp4"' in html
    assert response["X-Robots-Tag"] == "noindex"
    assert '<meta name="robots" content="noindex">' in html


def test_it_shows_only_that_video(client, share, finished, alice, team):
    other = make_generation(team, alice, state="success")
    html = client.get(reverse("share", args=[share.token])).content.decode()
    for secret in (str(finished.pk), str(other.pk), "alice", team.name, "Boats drift"):
        assert secret not in html
    assert "/generations/" not in html and "csrf" not in html


def test_it_shows_the_prompt_when_the_sharer_chose_so(client, share):
    ShareLink.objects.filter(pk=share.pk).update(show_prompt=True)
    html = client.get(reverse("share", args=[share.token])).content.decode()
    assert "Boats drift across the bay" in html
    assert meta(html, "og:description") == "Boats drift across the bay"


def test_it_has_preview_tags_with_absolute_urls(client, share):
    html = client.get(reverse("share", args=[share.token])).content.decode()
    base = f"http://testserver/s/{share.token}"
    assert meta(html, "og:url") == f"{base}/"
    assert meta(html, "og:video") == f"{base}/video.mp4"
    assert meta(html, "og:video:type") == "video/mp4"
    assert meta(html, "og:image") == f"{base}/cover.jpg"
    assert meta(html, "og:video:width") == "320"
    assert meta(html, "twitter:card") == "player"
    assert meta(html, "twitter:player") == f"{base}/embed/"
    assert meta(html, "twitter:player:stream") == f"{base}/video.mp4"
    assert meta(html, "twitter:image") == f"{base}/cover.jpg"


def test_preview_tags_use_the_public_url(client, share, settings):
    settings.STUDIO_PUBLIC_URL = "https://studio.example.com"
    html = client.get(reverse("share", args=[share.token])).content.decode()
    video = f"https://studio.example.com/s/{share.token}/video.mp4"
    assert meta(html, "og:video") == video
    assert meta(html, "og:video:secure_url") == video


def test_the_player_can_be_embedded(client, share):
    response = client.get(reverse("share_embed", args=[share.token]))
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert response["X-Robots-Tag"] == "noindex"
    # The studio's own pages still refuse frames.
    assert client.get(reverse("share", args=[share.token]))["X-Frame-Options"] == "DENY"


def test_the_media_answers_through_the_link_alone(client, share):
    video = client.get(reverse("share_video", args=[share.token]))
    assert video.status_code == 200 and video["Content-Type"] == "video/mp4"
    assert body(video) == VIDEO
    assert video["X-Robots-Tag"] == "noindex" and video["Cache-Control"] == "no-cache"
    cover = client.get(reverse("share_cover", args=[share.token]))
    assert cover.status_code == 200 and body(cover) == b"\xff\xd8cover"


def test_the_shared_video_supports_ranges(client, share):
    response = client.get(
        reverse("share_video", args=[share.token]), headers={"Range": "bytes=1000-1099"}
    )
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 1000-1099/{len(VIDEO)}"
    assert body(response) == VIDEO[1000:1100]


def test_a_revoked_link_is_404_at_once(client, bob, share):
    anonymous = client.__class__()
    assert anonymous.get(reverse("share", args=[share.token])).status_code == 200
    client.force_login(bob)
    response = client.post(reverse("share_revoke", args=[share.generation_id, share.pk]))
    assert response.status_code == 302
    share.refresh_from_db()
    assert share.revoked_at is not None
    for name in ("share", "share_embed", "share_video", "share_cover"):
        assert anonymous.get(reverse(name, args=[share.token])).status_code == 404
    gone = anonymous.get(reverse("share", args=[share.token]))
    assert "This link does not work" in gone.content.decode()
    assert gone["X-Robots-Tag"] == "noindex"
    html = client.get(reverse("generation", args=[share.generation_id])).content.decode()
    assert share.token not in html


def test_revoking_twice_is_404(client, bob, share):
    client.force_login(bob)
    url = reverse("share_revoke", args=[share.generation_id, share.pk])
    client.post(url)
    assert client.post(url).status_code == 404


def test_an_unknown_token_looks_like_a_revoked_one(client, share):
    unknown = client.get(reverse("share", args=["x" * 43]))
    ShareLink.objects.filter(pk=share.pk).update(revoked_at=timezone.now())
    revoked = client.get(reverse("share", args=[share.token]))
    assert unknown.status_code == revoked.status_code == 404
    assert unknown.content == revoked.content


def test_outsiders_cannot_revoke(client, charlie, share):
    client.force_login(charlie)
    response = client.post(reverse("share_revoke", args=[share.generation_id, share.pk]))
    assert response.status_code == 404
    share.refresh_from_db()
    assert share.revoked_at is None


def test_a_share_of_another_generation_cannot_be_revoked_through_this_one(
    client, bob, share, team, alice
):
    other = make_generation(team, alice, state="success")
    client.force_login(bob)
    response = client.post(reverse("share_revoke", args=[other.pk, share.pk]))
    assert response.status_code == 404


def test_a_viewer_elsewhere_gets_404_like_any_outsider(client, django_user_model, finished):
    # Who may change a generation is one rule (studio.access.generation_to_change):
    # outside the team it does not exist, whatever the person's role in their own team.
    outsider = django_user_model.objects.create_user("olga")
    Membership.objects.create(
        user=outsider, team=Team.objects.create(name="Other"), role=Membership.VIEWER
    )
    client.force_login(outsider)
    assert client.post(reverse("share_create", args=[finished.pk])).status_code == 404
    assert client.post(reverse("generation_cancel", args=[finished.pk])).status_code == 404


def test_a_new_link_says_it_was_made_just_now(client, bob, finished):
    client.force_login(bob)
    client.post(reverse("share_create", args=[finished.pk]))
    page = client.get(reverse("generation", args=[finished.pk])).content.decode()
    section = page[page.index('id="shares"') :]
    assert "just now" in section and "0 minutes" not in section


# ---- Hidden videos --------------------------------------------------------------------

SHARED = ("share", "share_embed", "share_video", "share_cover")


def test_hiding_a_video_stops_its_links_and_restoring_does_not_bring_them_back(
    client, alice, bob, share, finished
):
    anonymous = client.__class__()
    assert all(anonymous.get(reverse(n, args=[share.token])).status_code == 200 for n in SHARED)
    client.force_login(bob)
    hidden = client.post(reverse("generation_hide", args=[finished.pk]), follow=True)
    assert "1 shared link stopped working for good" in hidden.content.decode()
    unknown = anonymous.get(reverse("share", args=["x" * 43]))
    for name in SHARED:
        assert anonymous.get(reverse(name, args=[share.token])).status_code == 404, name
    assert anonymous.get(reverse("share", args=[share.token])).content == unknown.content
    share.refresh_from_db()
    assert share.revoked_at is not None
    # A member who opens the hidden video is told it is hidden, and what became of its links.
    page = client.get(reverse("generation", args=[finished.pk])).content.decode()
    assert "Hidden by <strong>bob</strong>" in page
    assert "Its shared links were switched off when it was hidden" in page
    client.force_login(alice)
    restored = client.post(reverse("generation_restore", args=[finished.pk]), follow=True)
    message = restored.content.decode()
    assert "The 1 shared link switched off by hiding stays off" in message
    assert "new links can be made" in message
    for name in SHARED:
        assert anonymous.get(reverse(name, args=[share.token])).status_code == 404, name
    client.post(reverse("share_create", args=[finished.pk]))
    fresh = ShareLink.objects.get(revoked_at__isnull=True)
    assert anonymous.get(reverse("share_video", args=[fresh.token])).status_code == 200


def test_restoring_from_the_hidden_list_says_the_links_stay_off(client, alice, share, finished):
    from studio.web.views import gallery

    gallery.hide_all(Generation.objects.filter(pk=finished.pk), alice)
    client.force_login(alice)
    response = client.post(reverse("generation_restore", args=[finished.pk]), headers=HTMX)
    html = response.content.decode()
    assert 'hx-swap-oob="true"' in html and "stays off" in html  # the card goes, said beside
    # Links revoked by hand before the hiding are not counted as switched off by it.
    other = make_generation(finished.team, alice, state="success")
    attach_video(other)
    ShareLink.objects.create(generation=other, revoked_at=timezone.now())
    gallery.hide_all(Generation.objects.filter(pk=other.pk), alice)
    assert gallery.restore_all(Generation.objects.filter(pk=other.pk)) == (1, 0)


def test_a_video_hidden_some_other_way_is_not_shared_either(client, share, finished):
    Generation.objects.filter(pk=finished.pk).update(hidden_at=timezone.now())
    for name in SHARED:
        assert client.get(reverse(name, args=[share.token])).status_code == 404, name


def test_a_hidden_video_cannot_be_shared_and_its_page_says_why(client, alice, bob, finished):
    Generation.objects.filter(pk=finished.pk).update(hidden_at=timezone.now(), hidden_by=alice)
    client.force_login(bob)
    response = client.post(reverse("share_create", args=[finished.pk]))
    assert response.status_code == 422
    assert "This video is hidden: its shared links no longer work" in section_of(
        response.content.decode()
    )
    assert not ShareLink.objects.exists()
    section = section_of(client.get(reverse("generation", args=[finished.pk])).content.decode())
    assert "This video is hidden" in section
    assert reverse("share_create", args=[finished.pk]) not in section


# ---- Watermarks -----------------------------------------------------------------------

MARKED = b"watermarked " * 300


@pytest.fixture
def with_watermark(team, alice):
    g = make_generation(
        team, alice, state="success", params={"duration": 4, "watermark": True, "wm_position": 3}
    )
    attach_video(g, VIDEO)
    return g


def test_a_video_made_with_a_watermark_is_shared_with_it(client, alice, with_watermark):
    creation = with_watermark.creations.get()
    creation.watermarked.save("video-watermarked.mp4", ContentFile(MARKED))
    client.force_login(alice)
    assert client.post(reverse("share_create", args=[with_watermark.pk])).status_code == 302
    share = ShareLink.objects.get()
    anonymous = client.__class__()
    video = anonymous.get(reverse("share_video", args=[share.token]))
    assert video.status_code == 200 and body(video) == MARKED
    ranged = anonymous.get(
        reverse("share_video", args=[share.token]), headers={"Range": "bytes=0-10"}
    )
    assert ranged.status_code == 206 and body(ranged) == MARKED[:11]
    page = anonymous.get(reverse("share", args=[share.token])).content.decode()
    # The page's player and its Download link are that same file.
    assert f'href="/s/{share.token}/video.mp4" download' in page
    # The team keeps its clean copy.
    assert body(client.get(reverse("generation_video", args=[with_watermark.pk]))) == VIDEO


def test_without_the_watermarked_copy_no_link_is_made_and_the_sharer_is_told(
    client, alice, bob, with_watermark
):
    client.force_login(bob)
    response = client.post(reverse("share_create", args=[with_watermark.pk]), headers=HTMX)
    assert response.status_code == 422
    assert "no watermarked copy" in response.content.decode()
    assert not ShareLink.objects.exists()
    section = section_of(
        client.get(reverse("generation", args=[with_watermark.pk])).content.decode()
    )
    assert "made with a watermark, but the studio has no watermarked copy" in section
    assert reverse("share_create", args=[with_watermark.pk]) not in section
    # A link made before is not answered with the clean file.
    old = ShareLink.objects.create(generation=with_watermark, created_by=alice)
    anonymous = client.__class__()
    for name in ("share", "share_embed", "share_video"):
        assert anonymous.get(reverse(name, args=[old.token])).status_code == 404, name
