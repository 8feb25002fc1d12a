"""The history as a gallery in real Chromium, at a laptop's and a phone's width: ranges
by shift-click, select all, the bar's count, the zip downloaded and opened, stars that
toggle in place, hiding and restoring. Screenshots land in tests/screenshots/gallery-*.png."""

from __future__ import annotations

import zipfile

import pytest

from studio.models import Generation, Star
from tests.browser import SHOTS, log_in, shot
from tests.conftest import png
from tests.factories import attach_video, make_generation

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("media_root"),
]

SIZES = {"wide": (1366, 900), "phone": (390, 844)}
COLOURS = [
    (40, 120, 200),
    (200, 90, 40),
    (60, 160, 90),
    (150, 60, 170),
    (210, 170, 40),
    (90, 90, 90),
]


@pytest.fixture
def videos(team, alice):
    """Six finished videos, newest first as the history shows them."""
    made = []
    for i, colour in enumerate(COLOURS):
        g = make_generation(team, alice, state="success", prompt=f"a fox in the snow, take {i}")
        attach_video(g, b"\x00" * (1000 + i), cover=png(640, 360, colour, "JPEG"))
        made.append(g)
    return made[::-1]


def box(generation) -> str:
    return f"#gen-{generation.pk} input[data-pick]"


def count_text(page) -> str:
    return page.inner_text("[data-selection-count]")


def open_history(page, live_server, size: str, who: str = "alice", query: str = "") -> None:
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    log_in(page, live_server.url, who)
    page.goto(f"{live_server.url}/generations/{query}")
    page.wait_for_function("() => !document.querySelector('[data-select-all]').hidden")


@pytest.mark.parametrize("size", SIZES)
def test_shift_click_select_all_and_the_zip(page, live_server, alice, videos, size, tmp_path):
    open_history(page, live_server, size)
    assert count_text(page) == "Tick videos"
    assert page.is_disabled("button[value=zip]")
    page.click(box(videos[1]))
    page.click(box(videos[4]), modifiers=["Shift"])
    checked = [page.is_checked(box(g)) for g in videos]
    assert checked == [False, True, True, True, True, False]
    assert count_text(page) == "4 selected"
    assert page.is_enabled("button[value=compare]")  # two to four
    page.click("[data-select-all]")
    assert count_text(page) == "6 selected"
    assert page.is_disabled("button[value=compare]")
    page.click("[data-select-none]")
    assert count_text(page) == "Tick videos"
    assert not any(page.is_checked(box(g)) for g in videos)

    page.click(box(videos[0]))
    page.click(box(videos[2]))
    assert count_text(page) == "2 selected"
    bar = page.locator(".selection-bar")
    page.mouse.wheel(0, 200)
    # While videos are chosen the bar stays on screen, at the bottom of the window.
    top = bar.bounding_box()["y"] + bar.bounding_box()["height"]
    assert top <= SIZES[size][1] + 1
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, f"gallery-selection-{size}")
    page.screenshot(path=str(SHOTS / f"gallery-selection-{size}-view.png"))  # as seen

    with page.expect_download() as info:
        page.click("button[value=zip]")
    download = info.value
    assert download.suggested_filename.endswith("-2-videos.zip")
    path = tmp_path / "chosen.zip"
    download.save_as(path)
    with zipfile.ZipFile(path) as archive:
        videos_in = sorted(n for n in archive.namelist() if n.endswith(".mp4"))
        assert len(videos_in) == 2 and "index.csv" in archive.namelist()
        for g in (videos[0], videos[2]):
            [name] = [n for n in videos_in if g.pk.hex[:8] in n]
            assert archive.read(name) == g.creations.get().video.read()


@pytest.mark.parametrize("size", SIZES)
def test_a_star_toggles_in_place(page, live_server, alice, bob, videos, size):
    Star.objects.create(generation=videos[3], user=bob)
    open_history(page, live_server, size)
    page.evaluate("() => { window.stayed = true; }")
    star = f"#star-{videos[3].pk}"
    assert page.inner_text(f"{star} .star-count") == "1"
    page.click(star)
    page.wait_for_selector(f"{star}[aria-pressed=true]")
    assert page.inner_text(f"{star} .star-count") == "2"
    assert page.evaluate("() => window.stayed === true")  # no reload
    assert Star.objects.filter(generation=videos[3], user=alice).exists()
    page.click(star)
    page.wait_for_selector(f"{star}[aria-pressed=false]")
    assert page.inner_text(f"{star} .star-count") == "1"
    assert not Star.objects.filter(user=alice).exists()


@pytest.mark.parametrize("size", SIZES)
def test_hide_takes_cards_away_and_an_owner_restores_one(page, live_server, alice, videos, size):
    open_history(page, live_server, size)
    page.click(box(videos[0]))
    page.click(box(videos[1]))
    page.click("button[value=hide]")
    page.wait_for_selector(".message")
    assert "Hid 2 videos" in page.inner_text(".messages")
    assert page.locator(f"#gen-{videos[0].pk}").count() == 0
    assert page.locator(f"#gen-{videos[1].pk}").count() == 0
    assert page.locator(".card").count() == 4
    assert Generation.objects.filter(hidden_at__isnull=False).count() == 2

    page.goto(f"{live_server.url}/generations/?hidden=1")
    assert page.locator(".card").count() == 2
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, f"gallery-hidden-{size}")
    page.click(f"#gen-{videos[1].pk} .hidden-note button")
    page.wait_for_selector(f"#gen-{videos[1].pk}", state="detached")
    assert page.locator(".card").count() == 1
    assert Generation.objects.get(pk=videos[1].pk).hidden_at is None
    page.goto(f"{live_server.url}/generations/")
    assert page.locator(".card").count() == 5


def test_a_hidden_videos_page_says_so(page, live_server, alice, videos):
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/generations/{videos[0].pk}/")
    shot(page, "gallery-page-wide")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "gallery-page-phone")
    page.click(".gallery-actions button.star")
    page.wait_for_selector(".gallery-actions button.star[aria-pressed=true]")
    page.click(".gallery-actions button:has-text('Hide')")
    page.wait_for_url(f"{live_server.url}/generations/")
    page.goto(f"{live_server.url}/generations/{videos[0].pk}/")
    assert "Hidden by alice on" in page.inner_text(".hidden-banner")
    assert page.get_attribute(".gallery-actions button.star", "aria-pressed") == "true"
    shot(page, "gallery-hidden-page-phone")
    page.set_viewport_size({"width": 1366, "height": 900})
    shot(page, "gallery-hidden-page-wide")
    page.click(".hidden-banner button:has-text('Restore')")
    page.wait_for_selector(".hidden-banner", state="detached")
    assert Generation.objects.get(pk=videos[0].pk).hidden_at is None


@pytest.mark.parametrize("size", SIZES)
def test_a_card_the_poll_swaps_stays_ticked(page, live_server, alice, team, videos, size):
    running = make_generation(team, alice, state="processing", prompt="still being made")
    open_history(page, live_server, size)
    page.click(box(running))
    page.click(box(videos[2]))
    assert count_text(page) == "2 selected"
    Generation.objects.filter(pk=running.pk).update(state="success", result_status="fetching")
    page.wait_for_selector(f"#gen-{running.pk}[data-state=success]", timeout=10000)
    assert page.is_checked(box(running)) and page.is_checked(box(videos[2]))
    assert count_text(page) == "2 selected"
    assert page.locator(f"#gen-{running.pk} .star").count() == 1  # the swapped card's star
