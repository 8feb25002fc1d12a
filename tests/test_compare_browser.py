"""Comparing videos in real Chromium: one play, pause and seek bar drive every video,
a stall holds them all, and on a phone they are swiped one per screen width. Screenshots
land in tests/screenshots/compare-*.png."""

from __future__ import annotations

import pytest

from tests.browser import SHOTS, log_in, shot
from tests.factories import make_generation
from tests.test_compare import real_video

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WIDE, PHONE = (1366, 900), (390, 844)
COLORS = [
    [(200, 40, 40), (40, 40, 200)],
    [(40, 160, 60), (240, 200, 40)],
    [(90, 90, 90), (250, 250, 250)],
]
ALL_PLAYING = (
    "() => [...document.querySelectorAll('video')].every(v => !v.paused && v.currentTime > 0.2)"
)
ALL_PAUSED = "() => [...document.querySelectorAll('video')].every(v => v.paused)"
MUTED = "() => [...document.querySelectorAll('video')].map(v => v.muted)"
TIMES = "() => [...document.querySelectorAll('video')].map(v => v.currentTime)"


@pytest.fixture
def three(team, alice, bob, media_root, tmp_path):
    made = []
    for index, colors in enumerate(COLORS):
        generation = make_generation(
            team,
            bob if index == 1 else alice,
            state="success",
            prompt=f"take {index + 1}: the harbour at dawn",
            params={"duration": 6, "resolution": "720p" if index else "1080p", "seed": 10 + index},
        )
        real_video(generation, tmp_path, colors, seconds=6)
        made.append(generation)
    return made


def open_compare(page, base, videos, size) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    log_in(page, base)
    page.goto(f"{base}/compare/?" + "&".join(f"ids={g.pk}" for g in videos))
    page.wait_for_function(
        "() => [...document.querySelectorAll('video')].every(v => v.readyState >= 2)",
        timeout=20000,
    )


def check_shared_controls(page) -> None:
    assert page.is_visible("[data-compare-controls]")
    assert page.eval_on_selector_all("video", "vs => vs.every(v => !v.controls)")
    page.click("[data-compare-play]")
    page.wait_for_function(ALL_PLAYING, timeout=15000)
    assert page.inner_text("[data-compare-play]").strip().endswith("Pause all")
    # Seek: every video moves to the same moment.
    page.eval_on_selector(
        "[data-compare-seek]",
        "s => { s.value = '3.5'; s.dispatchEvent(new Event('input', {bubbles: true})); "
        "s.dispatchEvent(new Event('change', {bubbles: true})); }",
    )
    page.wait_for_function(f"() => ({TIMES})().every(t => t >= 3.4)", timeout=15000)
    times = page.evaluate(TIMES)
    assert max(times) - min(times) <= 0.3, times
    page.click("[data-compare-play]")
    page.wait_for_function(ALL_PAUSED)
    times = page.evaluate(TIMES)
    assert max(times) - min(times) <= 0.3, times
    assert page.inner_text("[data-compare-play]").strip().endswith("Play all")


def test_one_play_seek_and_pause_drive_every_video_side_by_side(page, live_server, three):
    open_compare(page, live_server.url, three, WIDE)
    boxes = [page.locator("video").nth(i).bounding_box() for i in range(3)]
    assert boxes[0]["y"] == boxes[1]["y"] == boxes[2]["y"]  # side by side
    assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]
    assert not page.is_visible("[data-compare-where]")  # no swiping on a wide screen
    assert page.locator("tr.differs").count() == 3  # prompt, resolution, seed
    shot(page, "compare-1366")
    assert page.evaluate(MUTED) == [True, True, True]
    page.check("[data-compare-sound]")
    assert page.evaluate(MUTED) == [False, True, True]
    check_shared_controls(page)


def test_when_one_video_stalls_the_others_wait(page, live_server, three):
    open_compare(page, live_server.url, three, WIDE)
    page.click("[data-compare-play]")
    page.wait_for_function(ALL_PLAYING, timeout=15000)
    page.evaluate("() => document.querySelectorAll('video')[1].dispatchEvent(new Event('waiting'))")
    page.wait_for_function(
        "() => { const v = document.querySelectorAll('video'); return v[0].paused && v[2].paused; }"
    )
    assert page.get_attribute("[data-compare]", "data-buffering") == "true"
    page.evaluate("() => document.querySelectorAll('video')[1].dispatchEvent(new Event('canplay'))")
    page.wait_for_function(ALL_PLAYING, timeout=15000)
    times = page.evaluate(TIMES)
    assert max(times) - min(times) <= 0.3, times


def test_on_a_phone_the_videos_are_swiped_and_still_played_together(page, live_server, three):
    open_compare(page, live_server.url, three, PHONE)
    strip = "[data-compare-strip]"
    width = page.eval_on_selector(strip, "s => s.clientWidth")
    first = page.locator("video").nth(0).bounding_box()
    assert first["width"] >= width - 40  # one video per screen width
    assert page.inner_text("[data-compare-where]") == "1 of 3"
    shot(page, "compare-390")
    # A swipe that goes a little more than half way snaps to the second video.
    page.eval_on_selector(
        strip, f"s => s.scrollBy({{left: {int(width * 0.6)}, behavior: 'instant'}})"
    )
    page.wait_for_function(f"() => document.querySelector('{strip}').scrollLeft === {width}")
    page.wait_for_function(
        "() => document.querySelector('[data-compare-where]').textContent === '2 of 3'"
    )
    assert page.locator("[data-compare-dot].current").count() == 1
    page.check("[data-compare-sound]")  # the video on screen is the one heard
    assert page.evaluate(MUTED) == [True, False, True]
    assert page.inner_text("[data-compare-sound-of]") == "2"
    assert page.get_attribute("[data-compare-dot]:nth-child(2)", "aria-current") == "true"
    page.screenshot(path=str(SHOTS / "compare-390-second.png"))  # as the phone shows it
    check_shared_controls(page)


def test_without_javascript_each_video_keeps_its_own_controls(page_without_js, live_server, three):
    page = page_without_js
    page.set_viewport_size({"width": WIDE[0], "height": WIDE[1]})
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/compare/?" + "&".join(f"ids={g.pk}" for g in three))
    assert page.locator("video[controls]").count() == 3
    assert not page.is_visible("[data-compare-controls]")


def test_too_few_is_a_page_with_a_way_back(page, live_server, three):
    for size in (WIDE, PHONE):
        page.set_viewport_size({"width": size[0], "height": size[1]})
        if size == WIDE:
            log_in(page, live_server.url)
        page.goto(f"{live_server.url}/compare/?ids={three[0].pk}")
        assert "Choose 2 to 4 finished videos" in page.inner_text("main")
        shot(page, f"compare-too-few-{size[0]}")
        page.click("text=Back to the history")
        page.wait_for_url(f"{live_server.url}/generations/")
