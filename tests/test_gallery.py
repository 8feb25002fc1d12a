"""The history as a gallery: a selection downloaded as one streamed zip, stars, hiding and
restoring, and the selection bar's actions without JavaScript."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import tracemalloc
import urllib.parse
import zipfile

import pytest
from django.urls import reverse

from studio.models import Generation, Star
from studio.web.views import gallery
from tests.factories import attach_video, make_generation

pytestmark = pytest.mark.usefixtures("media_root")
HTMX = {"HX-Request": "true"}


def ids_in(html: str) -> list[str]:
    return re.findall(r'data-generation-id="([^"]+)"', html)


def finished(team, author, prompt="a fox in the snow", video=b"\x00" * 1000, **fields):
    generation = make_generation(team, author, state="success", prompt=prompt, **fields)
    attach_video(generation, video, cover=b"cover of " + prompt.encode())
    return generation


def zip_of(client, *generations, **extra):
    query = [("ids", str(g.pk)) for g in generations] + list(extra.items())
    return client.get(reverse("gallery_zip"), query)


def opened(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


# ---- The zip --------------------------------------------------------------------------


def test_the_zip_streams_the_exact_videos_and_covers_with_an_index(client, alice, bob, team):
    one = finished(
        team, alice, "A fox, in the snow!", video=os.urandom(300_000), params={"seed": 7}
    )
    two = finished(team, bob, "", video=os.urandom(5000), params={"resolution": "720p"})
    client.force_login(alice)
    response = zip_of(client, one, two)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/zip"
    assert re.match(
        r'attachment; filename="vidu-\d{8}-2-videos\.zip"', response["Content-Disposition"]
    )
    archive = opened(response)
    assert archive.testzip() is None
    day = one.created_at.strftime("%Y%m%d")
    stem_one = f"vidu-{day}-a-fox-in-the-snow-{one.pk.hex[:8]}"
    stem_two = f"vidu-{day}-no-prompt-{two.pk.hex[:8]}"
    assert set(archive.namelist()) == {
        "index.csv",
        f"{stem_one}.mp4",
        f"{stem_one}.jpg",
        f"{stem_two}.mp4",
        f"{stem_two}.jpg",
    }
    for generation, stem in ((one, stem_one), (two, stem_two)):
        creation = generation.creations.get()
        assert archive.read(f"{stem}.mp4") == creation.video.read()
        assert archive.read(f"{stem}.jpg") == creation.cover.open("rb").read()
    rows = list(csv.DictReader(io.StringIO(archive.read("index.csv").decode("utf-8-sig"))))
    by_file = {row["file"]: row for row in rows}
    assert by_file[f"{stem_one}.mp4"]["prompt"] == "A fox, in the snow!"
    assert by_file[f"{stem_one}.mp4"]["seed"] == "7"
    assert by_file[f"{stem_one}.mp4"]["model"] == "viduq2-turbo"
    assert by_file[f"{stem_two}.mp4"]["author"] == "bob"
    assert '"resolution": "720p"' in by_file[f"{stem_two}.mp4"]["parameters"]
    assert by_file[f"{stem_two}.mp4"]["page"].endswith(f"/generations/{two.pk}/")


def test_the_zip_leaves_out_other_teams_and_unfinished_videos(client, alice, charlie, team):
    mine = finished(team, alice)
    running = make_generation(team, alice, state="processing")
    theirs = finished(charlie.memberships.get().team, charlie, "their secret")
    client.force_login(alice)
    names = opened(zip_of(client, mine, running, theirs)).namelist()
    assert [n for n in names if n.endswith(".mp4")] == [f"{gallery.file_stem(mine)}.mp4"]
    # Nothing of the team's chosen: as if it did not exist.
    assert zip_of(client, theirs).status_code == 404
    assert zip_of(client, running).status_code == 404
    assert client.get(reverse("gallery_zip")).status_code == 404
    assert client.get(reverse("gallery_zip"), {"ids": "not-an-id"}).status_code == 404


def test_a_zip_takes_at_most_a_hundred_videos(client, alice, team, monkeypatch):
    assert gallery.MAX_SELECTED == 100  # about 4 KB of ids in the zip's link
    monkeypatch.setattr(gallery, "MAX_SELECTED", 2)
    videos = [finished(team, alice, f"take {i}") for i in range(3)]
    client.force_login(alice)
    names = opened(zip_of(client, *videos)).namelist()
    assert len([n for n in names if n.endswith(".mp4")]) == 2


def test_streaming_several_large_videos_keeps_memory_to_about_a_chunk(client, alice, team):
    size, count = 8 * 1024 * 1024, 4  # 32 MiB of video
    videos = [finished(team, alice, f"take {i}", video=os.urandom(size)) for i in range(count)]
    expected = {gallery.file_stem(g) + ".mp4": g.creations.get().video for g in videos}
    client.force_login(alice)
    response = zip_of(client, *videos)
    assert response.streaming
    total, digest = 0, hashlib.sha256()
    tracemalloc.start()
    try:
        for piece in response.streaming_content:
            total += len(piece)
            digest.update(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > size * count
    assert peak < 4 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB while streaming 32 MiB"
    # And what streamed is the zip, whole: the same request read at once opens right.
    archive = opened(zip_of(client, *videos))
    for name, stored in expected.items():
        with stored.open("rb") as fh:
            assert hashlib.sha256(archive.read(name)).digest() == hashlib.sha256(fh.read()).digest()


def index_of(archive: zipfile.ZipFile) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read("index.csv").decode("utf-8-sig"))))


def test_hidden_videos_stay_out_of_a_zip_unless_an_owner_asks(client, alice, bob, team):
    kept = finished(team, alice, "kept")
    gone = finished(team, alice, "put away")
    gallery.hide_all(Generation.objects.filter(pk=gone.pk), bob)
    for person in (alice, bob):
        client.force_login(person)
        names = opened(zip_of(client, kept, gone)).namelist()
        assert [n for n in names if n.endswith(".mp4")] == [f"{gallery.file_stem(kept)}.mp4"]
        assert "put away" not in opened(zip_of(client, kept, gone)).read("index.csv").decode()
        assert zip_of(client, gone).status_code == 404
    # Only an owner's explicit choice puts them in; anyone else asking is ignored.
    assert zip_of(client, gone, include_hidden="1").status_code == 404  # bob, a member
    client.force_login(alice)
    names = opened(zip_of(client, kept, gone, include_hidden="1")).namelist()
    assert f"{gallery.file_stem(gone)}.mp4" in names
    # The hidden videos' list asks for them; its bar passes the choice on to the zip.
    html = client.get(reverse("history"), {"hidden": "1"}).content.decode()
    form = re.search(r'<form id="selection".*?</form>', html, re.S)[0]
    assert '<input type="hidden" name="include_hidden" value="1">' in form
    assert "include_hidden" not in client.get(reverse("history")).content.decode()
    data = {"action": "zip", "ids": [str(gone.pk)], "include_hidden": "1"}
    location = client.post(reverse("gallery_selection"), data)["Location"]
    assert location == f"{reverse('gallery_zip')}?ids={gone.pk}&include_hidden=1"
    assert opened(client.get(location)).namelist() == [
        "index.csv",
        f"{gallery.file_stem(gone)}.mp4",
        f"{gallery.file_stem(gone)}.jpg",
    ]


FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tstart", "\rstart"]


def test_the_index_never_hands_a_spreadsheet_a_formula(client, alice, team, django_user_model):
    author = django_user_model.objects.create(username="@cmd")
    team.memberships.create(user=author, role="member")
    videos = [finished(team, alice, prompt) for prompt in FORMULAS]
    plain = finished(team, author, "a fox", params={"seed": 7})
    client.force_login(alice)
    rows = index_of(opened(zip_of(client, *videos, plain)))
    prompts = {row["prompt"] for row in rows}
    assert prompts == {"'" + p for p in FORMULAS} | {"a fox"}
    by_prompt = {row["prompt"]: row for row in rows}
    assert by_prompt["a fox"]["author"] == "'@cmd"  # every text column, not the prompt alone
    assert by_prompt["a fox"]["seed"] == "7"
    for row in rows:
        for value in row.values():
            assert not value.startswith(tuple(gallery.FORMULA_STARTS)), row


def test_file_names_keep_prompts_in_any_script(client, alice, team):
    video = finished(team, alice, "一只狐狸在雪中奔跑，慢镜头")
    client.force_login(alice)
    response = zip_of(client, video)
    stem = f"vidu-{video.created_at:%Y%m%d}-一只狐狸在雪中奔跑-慢镜头-{video.pk.hex[:8]}"
    archive = opened(response)
    assert f"{stem}.mp4" in archive.namelist()
    assert index_of(archive)[0]["file"] == f"{stem}.mp4"
    # The zip is named like its one video; the header stays ASCII, with a fallback name
    # and the real one in RFC 5987 form.
    header = response["Content-Disposition"]
    header.encode("ascii")
    fallback = f"vidu-{video.created_at:%Y%m%d}-{video.pk.hex[:8]}.zip"
    assert header == (
        f'attachment; filename="{fallback}"; '
        f"filename*=UTF-8''{urllib.parse.quote(stem + '.zip', safe='')}"
    )
    assert gallery.slug("Café crème, à l'aube") == "café-crème-à-l-aube"
    assert gallery.slug("../../etc/passwd\u202e4pm.exe") == "etc-passwd-4pm-exe"
    assert gallery.slug("，。！") == "no-prompt"


# ---- Stars ----------------------------------------------------------------------------


def test_a_star_toggles_and_counts_everyones(client, alice, bob, team):
    video = finished(team, alice)
    Star.objects.create(generation=video, user=bob)
    client.force_login(alice)
    url = reverse("generation_star", args=[video.pk])
    response = client.post(url, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'aria-pressed="true"' in html and '<span class="star-count">2</span>' in html
    assert html.lstrip().startswith("<button")  # only the button, swapped in place
    html = client.post(url, headers=HTMX).content.decode()
    assert 'aria-pressed="false"' in html and '<span class="star-count">1</span>' in html
    assert list(Star.objects.values_list("user__username", flat=True)) == ["bob"]


def test_a_star_without_javascript_comes_back_where_it_was(client, alice, team):
    video = finished(team, alice)
    client.force_login(alice)
    url = reverse("generation_star", args=[video.pk])
    response = client.post(url, {"next": "/generations/?q=fox"})
    assert response.status_code == 302 and response["Location"] == "/generations/?q=fox"
    assert Star.objects.filter(generation=video, user=alice).exists()
    response = client.post(url, {"next": "https://elsewhere.example/"})
    assert response["Location"] == reverse("generation", args=[video.pk])
    assert not Star.objects.exists()


def test_cards_and_the_page_show_the_star_and_its_count(client, alice, bob, team):
    video = finished(team, alice)
    Star.objects.create(generation=video, user=bob)
    client.force_login(alice)
    html = client.get(reverse("history")).content.decode()
    assert f'id="star-{video.pk}"' in html and '<span class="star-count">1</span>' in html
    assert 'aria-pressed="false"' in html
    page = client.get(reverse("generation", args=[video.pk])).content.decode()
    assert f'action="{reverse("generation_star", args=[video.pk])}"' in page
    assert '<span class="star-count">1</span>' in page


def test_starred_only_and_most_stars_first(client, alice, bob, vera, team):
    plain, loved, liked = (finished(team, alice, p) for p in ("plain", "loved", "liked"))
    for user in (alice, bob, vera):
        Star.objects.create(generation=loved, user=user)
    Star.objects.create(generation=liked, user=bob)
    client.force_login(alice)
    assert ids_in(client.get(reverse("history"), {"starred": "1"}).content.decode()) == [
        str(loved.pk)
    ]
    by_stars = ids_in(client.get(reverse("history"), {"sort": "stars"}).content.decode())
    assert by_stars == [str(loved.pk), str(liked.pk), str(plain.pk)]
    newest = ids_in(client.get(reverse("history")).content.decode())
    assert newest == [str(liked.pk), str(loved.pk), str(plain.pk)]


def test_most_stars_pages_by_number_and_keeps_the_filters(client, alice, bob, team, monkeypatch):
    monkeypatch.setattr("studio.web.views.generations.PAGE_SIZE", 2)
    videos = [finished(team, alice, f"fox {i}") for i in range(5)]
    for i, video in enumerate(videos):
        for user in (alice, bob)[: i % 3]:
            Star.objects.create(generation=video, user=user)
    client.force_login(alice)
    seen, url = [], reverse("history") + "?sort=stars&q=fox"
    while url:
        html = client.get(url).content.decode()
        seen += ids_in(html)
        match = re.search(r'href="(\?[^"]*page=\d+[^"]*)" rel="next"', html)
        url = reverse("history") + match[1].replace("&amp;", "&") if match else None
        if url:
            assert "sort=stars" in url and "q=fox" in url
    expected = sorted(videos, key=lambda g: (g.stars.count(), g.created_at, g.pk), reverse=True)
    assert seen == [str(g.pk) for g in expected]


# ---- Hiding and restoring -------------------------------------------------------------


def test_a_hidden_video_leaves_the_history_and_the_poll_but_keeps_its_page(
    client, alice, bob, team
):
    kept = finished(team, alice, "kept")
    gone = make_generation(team, alice, state="processing", prompt="gone")
    client.force_login(bob)
    response = client.post(reverse("generation_hide", args=[gone.pk]), {"next": "/generations/"})
    assert response.status_code == 302
    gone.refresh_from_db()
    assert gone.hidden_at and gone.hidden_by == bob
    html = client.get(reverse("history")).content.decode()
    assert ids_in(html) == [str(kept.pk)] and "gone" not in html
    poll = client.get(reverse("poll"), {"view": "card", "g": f"{gone.pk}.queued-none"})
    assert poll.status_code == 286 and str(gone.pk) not in poll.content.decode()
    page = client.get(reverse("generation", args=[gone.pk])).content.decode()
    assert "Hidden by <strong>bob</strong> on" in page
    assert "an owner can restore it" in page
    assert reverse("generation_restore", args=[gone.pk]) not in page  # a member's page


def test_owners_see_the_hidden_videos_and_restore_them(client, alice, bob, team):
    kept = finished(team, alice, "kept")
    gone = finished(team, alice, "gone")
    gallery.hide_all(Generation.objects.filter(pk=gone.pk), bob)
    client.force_login(alice)
    html = client.get(reverse("history"), {"hidden": "1"}).content.decode()
    assert ids_in(html) == [str(gone.pk)]
    assert "Hidden videos of Alpha" in html and "Hidden by bob on" in html
    # Ticked in the filters (htmx swaps the results only), the list still says what it is.
    results = client.get(
        reverse("history"), {"hidden": "1"}, headers={**HTMX, "HX-Target": "results"}
    ).content.decode()
    assert "Hidden videos: only owners see this list" in results
    assert reverse("generation_restore", args=[gone.pk]) in html
    page = client.get(reverse("generation", args=[gone.pk])).content.decode()
    assert reverse("generation_restore", args=[gone.pk]) in page
    response = client.post(reverse("generation_restore", args=[gone.pk]), headers=HTMX)
    assert response.status_code == 200 and response.content == b""  # the card goes
    assert set(ids_in(client.get(reverse("history")).content.decode())) == {
        str(kept.pk),
        str(gone.pk),
    }
    assert ids_in(client.get(reverse("history"), {"hidden": "1"}).content.decode()) == []


def test_only_owners_may_see_the_hidden_view(client, alice, bob, vera, team):
    kept = finished(team, alice, "kept")
    gone = finished(team, alice, "gone")
    gallery.hide_all(Generation.objects.filter(pk=gone.pk), alice)
    for person in (bob, vera):
        client.force_login(person)
        html = client.get(reverse("history"), {"hidden": "1"}).content.decode()
        assert ids_in(html) == [str(kept.pk)]
        assert 'name="hidden"' not in html


def test_viewers_can_neither_hide_nor_restore(client, alice, vera, team):
    video = finished(team, alice)
    client.force_login(vera)
    assert client.post(reverse("generation_hide", args=[video.pk])).status_code == 403
    html = client.get(reverse("history")).content.decode()
    assert 'value="hide"' not in html
    page = client.get(reverse("generation", args=[video.pk])).content.decode()
    assert reverse("generation_hide", args=[video.pk]) not in page
    video.refresh_from_db()
    assert video.hidden_at is None


# ---- The selection bar without JavaScript ---------------------------------------------


def select(client, action, *generations, next_url="/generations/?q=x"):
    data = {"action": action, "ids": [str(g.pk) for g in generations], "next": next_url}
    return client.post(reverse("gallery_selection"), data)


def test_the_history_is_one_form_of_boxes_with_the_bar(client, alice, team):
    videos = [finished(team, alice, f"take {i}") for i in range(3)]
    client.force_login(alice)
    html = client.get(reverse("history")).content.decode()
    form = re.search(r'<form id="selection".*?</form>', html, re.S)[0]
    assert f'action="{reverse("gallery_selection")}"' in form and 'method="post"' in form
    assert "csrfmiddlewaretoken" in form
    for video in videos:
        assert f'name="ids" value="{video.pk}" form="selection"' in form
    for action in ("zip", "compare", "star", "hide"):
        assert f'name="action" value="{action}"' in form
    assert "js/gallery.js" in html and "defer" in html


def test_the_bar_sends_downloads_and_comparisons_to_their_links(client, alice, team):
    a, b, c = (finished(team, alice, f"take {i}") for i in range(3))
    client.force_login(alice)
    response = select(client, "zip", a, b)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('gallery_zip')}?ids={a.pk}&ids={b.pk}"
    response = select(client, "compare", a, b, c)
    assert response["Location"] == f"/compare/?ids={a.pk}&ids={b.pk}&ids={c.pk}"
    response = select(client, "compare", a)
    assert response["Location"] == "/generations/?q=x"
    assert select(client, "zip")["Location"] == "/generations/?q=x"


def test_the_bar_stars_hides_and_restores_many_at_once(client, alice, bob, charlie, team):
    a, b = finished(team, alice, "a"), finished(team, alice, "b")
    theirs = finished(charlie.memberships.get().team, charlie)
    Star.objects.create(generation=a, user=bob)
    client.force_login(bob)
    assert select(client, "star", a, b, theirs)["Location"] == "/generations/?q=x"
    assert Star.objects.filter(user=bob).count() == 2  # one each, none on another team's
    select(client, "hide", a, theirs)
    assert list(Generation.objects.filter(hidden_at__isnull=False)) == [a]
    assert select(client, "restore", a).status_code == 403  # a member
    client.force_login(alice)
    response = client.get(select(client, "restore", a)["Location"].split("?")[0])
    assert "Restored 1 video." in response.content.decode()
    assert not Generation.objects.filter(hidden_at__isnull=False).exists()
    assert select(client, "explode", a).status_code == 404


def test_viewers_may_star_and_download_but_not_hide_many(client, alice, vera, team):
    a = finished(team, alice)
    client.force_login(vera)
    select(client, "star", a)
    assert Star.objects.filter(user=vera).count() == 1
    assert select(client, "hide", a).status_code == 403
    assert Generation.objects.get(pk=a.pk).hidden_at is None
