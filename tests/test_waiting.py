"""Waiting for a video in real Chromium: a clock and the usual time, a tab that says when
the video is done, a side panel that keeps up, and times in the person's own zone.
Screenshots land in tests/screenshots/waiting-*.png."""

from datetime import timedelta

import pytest
from django.utils import timezone

from studio.models import Generation
from tests.browser import _page, log_in, shot
from tests.factories import attach_video, make_generation

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WIDTHS = {"wide": (1366, 900), "narrow": (390, 844)}

# The page's visibility and the Notification API, under the test's control: headless
# Chromium never hides a page, and a test must see what was shown or asked.
WATCH = """
window.__hidden = false;
Object.defineProperty(Document.prototype, "hidden", {
  configurable: true, get: () => window.__hidden,
});
Object.defineProperty(Document.prototype, "visibilityState", {
  configurable: true, get: () => (window.__hidden ? "hidden" : "visible"),
});
window.__shown = [];
window.__asked = 0;
const Real = window.Notification;
class Watched {
  constructor(title, options) {
    window.__shown.push({title, body: (options || {}).body});
    this.real = window.__fake ? null : new Real(title, options);
  }
  addEventListener() {}
  static get permission() { return window.__fake ? "default" : Real.permission; }
  static requestPermission() { window.__asked += 1; return Promise.resolve("default"); }
}
window.Notification = Watched;
"""


def at_widths(page):
    for name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        yield name


def finished(generation, state="success", seconds=9, **fields):
    """Move a generation to its end as the worker would, `seconds` after it was made."""
    generation.refresh_from_db()
    Generation.objects.filter(pk=generation.pk).update(
        state=state, finished_at=generation.created_at + timedelta(seconds=seconds), **fields
    )


def test_screens_of_a_generation(page, live_server, alice, team):
    waiting = make_generation(team, alice, state="processing", task_id="t-wait")
    done = make_generation(team, alice, state="success", task_id="t-done", credits=5)
    attach_video(done)
    off_peak = make_generation(
        team, alice, state="queueing", task_id="t-slot", params={"duration": 2, "off_peak": True}
    )
    log_in(page, live_server.url)
    for name in at_widths(page):
        page.goto(f"{live_server.url}/generations/{waiting.pk}/")
        # A task being made cannot be cancelled: no button, one muted line saying why.
        assert page.locator("button:text('Cancel this video')").count() == 0
        assert "a running task cannot be cancelled" in page.inner_text(".no-cancel")
        shot(page, f"waiting-processing-{name}")
        page.goto(f"{live_server.url}/generations/{off_peak.pk}/")
        assert page.locator("button:text('Cancel this video')").is_visible()
        assert page.locator(".no-cancel").count() == 0
        shot(page, f"waiting-off-peak-{name}")
        assert "refunds" in page.inner_text("form.cancel")
        page.goto(f"{live_server.url}/generations/{done.pk}/")
        shot(page, f"waiting-done-{name}")


def test_the_clock_ticks_beside_the_usual_time_of_the_model(page, live_server, alice, team):
    now = timezone.now()
    for minutes, took in ((30, 30), (20, 40), (10, 100)):
        old = make_generation(team, alice, state="success", task_id=f"t{minutes}")
        made = now - timedelta(minutes=minutes)
        Generation.objects.filter(pk=old.pk).update(
            created_at=made, finished_at=made + timedelta(seconds=took)
        )
    other = make_generation(team, alice, state="success", model="viduq1", task_id="q1")
    Generation.objects.filter(pk=other.pk).update(finished_at=other.created_at + timedelta(hours=1))
    waiting = make_generation(team, alice, state="processing", task_id="t-wait")
    Generation.objects.filter(pk=waiting.pk).update(created_at=now - timedelta(seconds=70))
    log_in(page, live_server.url)
    for name in at_widths(page):
        page.goto(f"{live_server.url}/generations/{waiting.pk}/")
        expected = page.inner_text("#waiting .expected")
        assert "Usually about 40 s for Vidu Q2 Turbo at Vidu" in expected
        first = page.inner_text("#waiting .elapsed")
        assert first.startswith("1 min 1")
        page.wait_for_function(
            f"() => document.querySelector('#waiting .elapsed').textContent !== {first!r}",
            timeout=5000,
        )
        assert page.locator("#waiting").is_visible()
        shot(page, f"waiting-clock-{name}")


def test_with_no_history_no_time_is_promised(page, live_server, alice, team):
    waiting = make_generation(team, alice, state="queueing", task_id="t-wait")
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/generations/{waiting.pk}/")
    assert "Waiting for" in page.inner_text("#waiting")
    assert page.locator("#waiting .expected").count() == 0


@pytest.mark.parametrize("state, mark", [("success", "✓ Done · "), ("failed", "Failed · ")])
def test_a_hidden_tab_says_the_video_ended(chromium, live_server, alice, team, state, mark):
    for page in _page(chromium):
        page.context.grant_permissions(["notifications"])
        page.add_init_script(WATCH)
        generation = make_generation(team, alice, state="processing", task_id="t1")
        log_in(page, live_server.url)
        for name in at_widths(page):
            Generation.objects.filter(pk=generation.pk).update(state="processing")
            page.goto(f"{live_server.url}/generations/{generation.pk}/")
            title = page.title()
            plain_icon = page.get_attribute("link[rel~=icon]", "href")
            assert plain_icon.endswith("/favicon.svg")
            page.evaluate("() => { window.__hidden = true; }")
            Generation.objects.filter(pk=generation.pk).update(state=state)
            page.wait_for_function(f"() => document.title === {mark + title!r}", timeout=10000)
            icon = page.get_attribute("link[rel~=icon]", "href")
            assert icon.endswith(
                "/favicon-done.svg" if state == "success" else "/favicon-failed.svg"
            )
            shown = page.evaluate("() => window.__shown")
            assert len(shown) == 1 and "a slow pan over the bay" in shown[0]["body"]
            assert page.evaluate("() => window.__asked") == 0
            page.evaluate(
                "() => { window.__hidden = false;"
                " document.dispatchEvent(new Event('visibilitychange')); }"
            )
            assert page.title() == title
            assert page.get_attribute("link[rel~=icon]", "href") == plain_icon
            shot(page, f"waiting-{state}-{name}")


def test_a_visible_tab_is_left_alone(chromium, live_server, alice, team):
    for page in _page(chromium):
        page.context.grant_permissions(["notifications"])
        page.add_init_script(WATCH)
        generation = make_generation(team, alice, state="processing", task_id="t1")
        log_in(page, live_server.url)
        page.goto(f"{live_server.url}/generations/{generation.pk}/")
        title = page.title()
        Generation.objects.filter(pk=generation.pk).update(state="success")
        page.wait_for_selector("section.status[data-state=success]", timeout=10000)
        assert page.title() == title
        assert page.evaluate("() => window.__shown") == []


def test_permission_is_asked_once_on_a_marked_submit_never_on_load(
    chromium, live_server, alice, team
):
    for page in _page(chromium):
        page.add_init_script("window.__fake = true;" + WATCH)
        generation = make_generation(team, alice, state="processing", task_id="t1")
        log_in(page, live_server.url)
        page.goto(f"{live_server.url}/generations/{generation.pk}/")
        assert page.evaluate("() => window.__asked") == 0  # not on load
        marked = (
            "() => { const f = document.createElement('form'); f.method = 'get';"
            " f.action = location.pathname; f.setAttribute('data-ask-notify', '');"
            " document.body.append(f); f.requestSubmit(); }"
        )
        unmarked = marked.replace("f.setAttribute('data-ask-notify', '');", "")
        with page.expect_navigation():
            page.evaluate(unmarked)
        assert page.evaluate("() => window.__asked") == 0  # an ordinary form asks nothing
        page.evaluate("() => { window.addEventListener('submit', e => e.preventDefault()); }")
        page.evaluate(marked)
        assert page.evaluate("() => window.__asked") == 1
        page.evaluate(marked)
        assert page.evaluate("() => window.__asked") == 1  # asked once, remembered
        page.reload()
        page.evaluate("() => { window.addEventListener('submit', e => e.preventDefault()); }")
        page.evaluate(marked)
        assert page.evaluate("() => window.__asked") == 0  # a new page, still not asked again


def test_the_side_panel_keeps_up_without_a_reload(page, live_server, alice, team):
    generation = make_generation(team, alice, state="queued", params={"seed": 0})
    log_in(page, live_server.url)
    for name in at_widths(page):
        Generation.objects.filter(pk=generation.pk).update(
            state="queued", provider_task_id="", finished_at=None, seed_used=None
        )
        page.goto(f"{live_server.url}/generations/{generation.pk}/")
        panel = f"#facts-{generation.pk}"
        assert "Finished" not in page.inner_text(panel)
        assert "(just now)" in page.inner_text(panel)
        # A minute later, without a reload, it says so.
        page.evaluate(
            "() => document.querySelectorAll('[data-ago-base]')"
            ".forEach(e => { e.dataset.agoBase = '61'; })"
        )
        page.wait_for_function(
            f"() => document.querySelector('{panel}').textContent.includes('(1 min ago)')"
        )
        Generation.objects.filter(pk=generation.pk).update(
            state="created", provider_task_id="vidu-777", seed_used=424242
        )
        page.wait_for_selector(f"{panel} code:text('vidu-777')", timeout=10000)
        assert "424242 (random, as drawn by Vidu)" in page.inner_text(panel)
        finished(generation, seconds=9, result_status="stored")
        page.wait_for_selector(f"{panel} dt:text('Finished')", timeout=10000)
        assert "(took 9 s)" in page.inner_text(panel)
        shot(page, f"waiting-panel-{name}")


def test_times_are_shown_in_the_persons_own_zone(chromium, live_server, alice, team):
    generation = make_generation(team, alice, state="success", task_id="t1")
    made = timezone.now().replace(year=2026, month=3, day=1, hour=1, minute=2, second=3)
    Generation.objects.filter(pk=generation.pk).update(
        created_at=made, finished_at=made + timedelta(seconds=100), result_status="stored"
    )
    for page in _page(chromium, timezone_id="Asia/Tokyo", locale="en-GB"):
        log_in(page, live_server.url)
        for name in at_widths(page):
            page.goto(f"{live_server.url}/generations/{generation.pk}/")
            started = page.locator(f"#facts-{generation.pk} time").first
            page.wait_for_selector(f"#facts-{generation.pk} time[data-localized]")
            text = started.inner_text()
            assert "10:02:03" in text and "UTC" not in text  # 01:02:03 UTC is 10:02 in Tokyo
            assert started.get_attribute("title") == "2026-03-01 01:02:03 UTC"
            assert "(took 1 min 40 s)" in page.inner_text(f"#facts-{generation.pk}")
            shot(page, f"waiting-tokyo-{name}")
