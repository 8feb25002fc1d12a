"""The studio as a person uses it, in real Chromium (Debian's, driven by Playwright):
log in, upload a picture, write a prompt, pick a model, submit, watch the state move and
the video play. Screenshots land in tests/screenshots/ to look at."""

import pytest

from tests.browser import log_in, shot, wait_until_playing
from tests.conftest import png

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_user_makes_a_video_and_watches_it_play(
    page, live_server, start_simulator, start_worker, alice, media_root, tmp_path, settings
):
    simulator = start_simulator(seconds=0.5)
    # As `make run` does for its simulator: the page may play the simulator's own link.
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {**directives, "media-src": [*directives["media-src"], simulator]}
    }
    start_worker(simulator, public_url=live_server.url)
    picture = tmp_path / "harbour.png"
    picture.write_bytes(png(960, 540, (30, 90, 160)))

    log_in(page, live_server.url)
    page.click("text=Image to video")
    page.set_input_files("input[name=images]", str(picture))
    page.fill("textarea[name=prompt]", "Boats drift across the harbour at dawn")
    page.select_option("select[name=model]", "viduq2-turbo")
    page.select_option("select[name=duration]", "3")
    page.select_option("select[name=resolution]", "540p")
    shot(page, "form-filled")
    page.click("button[type=submit]")

    page.wait_for_url(f"{live_server.url}/generations/*/")
    card = page.locator("[data-generation-id]")
    seen = {card.get_attribute("data-state")}
    for _ in range(600):  # the page updates itself through the htmx poll
        seen.add(card.get_attribute("data-state"))
        if page.locator("[data-state=success] video").count():
            break
        page.wait_for_timeout(100)
    assert page.locator("[data-state=success] video").count() == 1, seen
    assert seen & {"queued", "submitting", "created", "queueing", "processing"}, seen

    wait_until_playing(page)
    assert page.evaluate("document.querySelector('video').duration") > 2.9
    shot(page, "generation-success")
    assert "Video ready" in page.inner_text(".steps")

    page.click("text=History")
    history_card = page.locator("[data-state=success]")
    assert history_card.count() == 1
    assert "Boats drift across the harbour" in history_card.inner_text()
    shot(page, "history")


def test_a_mistake_is_explained_beside_the_field(page, live_server, alice, tmp_path):
    picture = tmp_path / "wide.png"
    picture.write_bytes(png(1000, 200))
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/generate/img2video/")
    page.set_input_files("input[name=images]", str(picture))
    page.fill("textarea[name=prompt]", "a prompt worth keeping")
    page.click("button[type=submit]")
    error = page.locator("#field-images .error")
    assert "5:1" in error.inner_text() and "between 1:4 and 4:1" in error.inner_text()
    assert page.input_value("textarea[name=prompt]") == "a prompt worth keeping"
    shot(page, "form-error")


def test_a_broken_provider_link_gives_way_to_the_studios_copy(page, live_server, alice, team):
    """The page plays the provider's link while the studio copies the video; a link the
    browser cannot play is dropped, and the stored copy takes its place by the poll."""
    from studio.models import Generation
    from tests.factories import attach_video, make_generation

    generation = make_generation(team, alice, state="processing", task_id="t1")
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/generations/{generation.pk}/")
    Generation.objects.filter(pk=generation.pk).update(
        state="success", preview_url=f"{live_server.url}/nowhere/video.mp4"
    )
    page.wait_for_selector("#preview-note", timeout=10000)
    # The broken link's player lets go of its id, so the next swap replaces it.
    page.wait_for_function("() => !document.querySelector('video[hx-preserve][src*=nowhere]')")
    shot(page, "preview-broken")
    attach_video(generation, video_bytes=b"\x00" * 1000)
    page.wait_for_selector(
        f"video source[src$='/generations/{generation.pk}/video.mp4']",
        state="attached",
        timeout=10000,
    )
    assert page.locator("video").count() == 1
