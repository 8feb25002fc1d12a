"""Building on a finished video in real Chromium: its last frame opens the form kept as
the first frame, and the settings of earlier videos open beside the form without
touching it, then one press copies them in (the model first, so its options load).
Screenshots land in tests/screenshots/reuse-*.png."""

from __future__ import annotations

import pytest

from studio.models import StagedImage
from tests.browser import SHOTS, log_in, shot
from tests.factories import make_generation
from tests.test_compare import real_video

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WIDTHS = [(1366, 900), (390, 844)]
PROMPT = "a lighthouse at dusk, waves rolling in"


@pytest.fixture
def earlier(team, alice, media_root, tmp_path):
    generation = make_generation(
        team,
        alice,
        state="success",
        model="viduq1",
        prompt=PROMPT,
        params={"duration": 5, "resolution": "1080p", "movement_amplitude": "large", "seed": 77},
    )
    real_video(generation, tmp_path, [(200, 40, 40), (40, 200, 40)])
    return generation


def values(page) -> dict:
    return page.evaluate(
        """() => Object.fromEntries(['model', 'prompt', 'duration', 'resolution',
             'movement_amplitude', 'seed'].map(n => [n,
             document.querySelector(`form.generate [name=${n}]:not([type=hidden])`)?.value
             ?? null]))"""
    )


@pytest.mark.parametrize("size", WIDTHS, ids=lambda s: f"{s[0]}")
def test_settings_open_beside_the_form_and_copy_in_with_one_press(
    page, live_server, alice, earlier, size
):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/generate/img2video/")
    page.fill("textarea[name=prompt]", "my own words, half typed")
    before = values(page)
    assert before["model"] == "viduq2-turbo"

    page.click("summary:has-text('Settings of earlier videos')")
    page.click(f"a[href='/generations/{earlier.pk}/settings']")
    page.wait_for_selector("#settings-panel [data-settings-copy]")
    assert PROMPT in page.inner_text("#settings-panel")
    assert "the images in the form stay as they are" in page.inner_text("#settings-panel")
    assert page.is_visible("#settings-panel")
    assert values(page) == before  # reading them changes nothing in the form
    panel = page.locator("#settings-panel").bounding_box()
    if size[0] > 800:
        # Beside the form: the form's fields stay in view, left of the panel.
        prompt = page.locator("#field-prompt").bounding_box()
        assert panel["x"] >= prompt["x"] + prompt["width"]
    else:
        assert panel["y"] + panel["height"] <= size[1] + 1  # a sheet over the bottom
    page.screenshot(path=str(SHOTS / f"reuse-panel-{size[0]}.png"))

    page.click("#settings-panel [data-settings-copy]")
    page.wait_for_selector("#settings-panel[data-copied]", state="attached")
    page.wait_for_selector(".options-wrap:not(.htmx-request) #options[data-model='viduq1']")
    page.wait_for_function("() => !document.querySelector('.options-wrap.htmx-request')")
    assert values(page) == {
        "model": "viduq1",
        "prompt": PROMPT,
        "duration": "5",
        "resolution": "1080p",
        "movement_amplitude": "large",
        "seed": "77",
    }
    assert page.get_attribute("#estimate", "data-credits") == "8"  # the estimate followed
    page.screenshot(path=str(SHOTS / f"reuse-copied-{size[0]}.png"))
    if size[0] > 800:
        assert "Copied into the form" in page.inner_text("#settings-panel")
        page.click("#settings-panel [data-settings-close]")
    else:  # the sheet closes by itself to show the form it filled
        assert "Copied into the form" in page.inner_text("[data-earlier-settings]")
        assert page.evaluate("() => document.activeElement.name") == "prompt"
    assert not page.is_visible("#settings-panel")


def test_without_javascript_copy_is_the_generate_again_link(
    page_without_js, live_server, alice, earlier
):
    page = page_without_js
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/generate/img2video/")
    page.click("summary:has-text('Settings of earlier videos')")
    page.click("text=See the team's recent videos")
    shot(page, "reuse-no-js-list")
    page.click(f"a[href='/generations/{earlier.pk}/settings']")
    shot(page, "reuse-no-js-settings")
    assert not page.is_visible("[data-settings-close]")  # nothing to close on its own page
    assert "prompt, options and images" in page.inner_text("main")
    page.click("text=Copy into the form")
    assert f"from={earlier.pk}" in page.url
    assert page.input_value("textarea[name=prompt]") == PROMPT


@pytest.mark.parametrize("size", WIDTHS, ids=lambda s: f"{s[0]}")
@pytest.mark.parametrize("use", ["first", "start"])
def test_the_last_frame_opens_the_form_kept_in_its_slot(
    page, live_server, alice, earlier, size, use
):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/generations/{earlier.pk}/")
    if use == "first":
        shot(page, f"reuse-detail-{size[0]}")
    page.click(f"#build-on button[value={use}]")
    page.wait_for_selector("figure.kept img")
    staged = StagedImage.objects.get(owner=alice)
    slot = "images" if use == "first" else "start_image"
    assert page.get_attribute(f"input[name={slot}_staged]", "value") == str(staged.pk)
    assert page.evaluate("() => document.querySelector('figure.kept img').naturalWidth") > 0
    shot(page, f"reuse-form-{use}-{size[0]}")
