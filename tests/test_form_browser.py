"""The generation form in real Chromium: options that follow the model, a live credit
estimate, and images kept across a mistake so nobody uploads twice. Screenshots land in
tests/screenshots/form-*.png."""

import hashlib

import pytest

from studio.models import Generation
from tests.browser import log_in
from tests.browser import shot as named_shot
from tests.conftest import png

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def options_of(page, name: str) -> list[str]:
    return page.eval_on_selector_all(
        f"select[name={name}] option", "options => options.map(o => o.value)"
    )


def choose_model(page, model: str) -> None:
    page.select_option("select[name=model]", model)
    page.wait_for_selector(f".options-wrap:not(.htmx-request) #options[data-model='{model}']")


def estimate(page) -> int:
    return int(page.get_attribute("#estimate", "data-credits"))


def wait_for_estimate(page, credits: int) -> None:
    page.wait_for_selector(f"#estimate[data-credits='{credits}']")


def test_changing_the_model_swaps_the_options_and_updates_the_estimate(page, live_server, alice):
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/generate/img2video/")
    # The default model, viduq2-turbo: 5 s at 720p, 1 credit a second.
    assert page.input_value("select[name=duration]") == "5"
    assert options_of(page, "resolution") == ["540p", "720p", "1080p"]
    assert "no effect" in page.inner_text("#field-movement_amplitude")
    assert estimate(page) == 5
    assert "estimate" in page.inner_text("#estimate").lower()
    shot(page, "default")

    choose_model(page, "viduq1")
    assert options_of(page, "duration") == ["5"]
    assert options_of(page, "resolution") == ["1080p"]
    assert options_of(page, "movement_amplitude") == ["auto", "small", "medium", "large"]
    assert "Vidu Q1 makes 5-second videos only" in page.inner_text("#field-duration")
    wait_for_estimate(page, 8)
    # Enter in any field still means "Generate video": the only submit button there is.
    assert page.locator("button[type=submit]").count() == 1
    shot(page, "viduq1")

    choose_model(page, "viduq3-pro")
    assert page.is_checked("input[name=audio]")  # audio defaults to on for Q3
    assert page.locator("input[name=bgm]").count() == 0
    assert "not available on Vidu Q3 Pro" in page.inner_text("#field-bgm")
    assert page.locator("input[name=off_peak]").count() == 0
    assert "not available with audio" in page.inner_text("#field-off_peak")
    assert len(options_of(page, "duration")) == 16
    # viduq1's 1080p is kept: Q3 makes it too, at 8 credits a second.
    assert page.input_value("select[name=resolution]") == "1080p"
    wait_for_estimate(page, 40)
    shot(page, "viduq3-pro")

    # Audio off brings off-peak back; off-peak halves the estimate.
    page.uncheck("input[name=audio]")
    page.wait_for_selector("input[name=off_peak]")
    page.check("input[name=off_peak]")
    wait_for_estimate(page, 20)
    page.check("input[name=is_rec]")
    wait_for_estimate(page, 30)
    page.select_option("select[name=duration]", "10")
    wait_for_estimate(page, 50)
    assert page.is_checked("input[name=off_peak]") and page.is_checked("input[name=is_rec]")
    assert not page.is_checked("input[name=audio]")

    # vidu2.0 offers 720p only at 8 seconds.
    choose_model(page, "vidu2.0")
    assert options_of(page, "duration") == ["4", "8"]
    assert options_of(page, "resolution") == ["360p", "720p", "1080p"]
    page.select_option("select[name=duration]", "8")
    page.wait_for_function(
        "() => document.querySelectorAll('select[name=resolution] option').length === 1"
    )
    assert options_of(page, "resolution") == ["720p"]
    shot(page, "vidu2-8s")


def test_a_kept_image_survives_a_mistake_and_is_sent_without_uploading_again(
    page, live_server, alice, media_root, tmp_path
):
    picture = tmp_path / "lighthouse.png"
    picture.write_bytes(png(960, 540, (200, 120, 40)))
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/generate/img2video/")
    page.set_input_files("input[name=images]", str(picture))
    page.fill("textarea[name=prompt]", "The lighthouse beam sweeps through the fog")
    choose_model(page, "viduq1")
    page.click("details.options > summary")  # More options
    page.click("details.advanced > summary")  # where metadata waits
    page.fill("textarea[name=meta_data]", "not json")
    page.click("button.primary")

    page.wait_for_selector("#error-meta_data")
    assert "JSON" in page.inner_text("#error-meta_data")
    kept = page.locator("#field-images figure.kept img")
    assert kept.count() == 1
    page.wait_for_function(
        "() => document.querySelector('#field-images figure.kept img').naturalWidth > 0"
    )
    assert page.input_value("input[name=images]") == ""  # nothing to upload again
    assert page.input_value("textarea[name=prompt]").startswith("The lighthouse beam")
    assert page.input_value("select[name=model]") == "viduq1"
    shot(page, "kept-image")

    page.fill("textarea[name=meta_data]", '{"Label": "harbour"}')
    page.click("button.primary")
    page.wait_for_url(f"{live_server.url}/generations/*/")
    generation = Generation.objects.get()
    assert (generation.model, generation.params["meta_data"]) == ("viduq1", '{"Label": "harbour"}')
    stored = generation.images.get()
    with stored.file.open("rb") as fh:
        assert hashlib.sha256(fh.read()).digest() == hashlib.sha256(picture.read_bytes()).digest()
    assert stored.original_name == "lighthouse.png"


def test_a_start_frame_is_kept_while_the_end_frame_is_replaced(
    page, live_server, alice, media_root, tmp_path
):
    start, tall, end = tmp_path / "start.png", tmp_path / "tall.png", tmp_path / "end.png"
    start.write_bytes(png(640, 360, (30, 90, 160)))
    tall.write_bytes(png(360, 640, (160, 90, 30)))
    end.write_bytes(png(640, 360, (160, 90, 30)))
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/generate/start-end2video/")
    page.set_input_files("input[name=start_image]", str(start))
    page.set_input_files("input[name=end_image]", str(tall))
    page.click("button.primary")

    page.wait_for_selector("#error-end_image")
    assert "start frame is 16:9 and the end frame 9:16" in page.inner_text("#error-end_image")
    assert page.locator("#field-start_image figure.kept").count() == 1
    shot(page, "start-end-mismatch")

    page.set_input_files("input[name=end_image]", str(end))
    page.click("button.primary")
    page.wait_for_url(f"{live_server.url}/generations/*/")
    generation = Generation.objects.get()
    assert [(i.position, i.width, i.height) for i in generation.images.all()] == [
        (0, 640, 360),
        (1, 640, 360),
    ]


def test_without_javascript_a_changed_model_shows_its_options_before_anything_is_spent(
    page_without_js, live_server, alice, media_root, tmp_path
):
    page = page_without_js
    picture = tmp_path / "field.png"
    picture.write_bytes(png(640, 360))
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/generate/img2video/")
    page.set_input_files("input[name=images]", str(picture))
    page.select_option("select[name=model]", "viduq3-pro")
    page.click("button.primary")

    page.wait_for_selector(".notice")
    assert "options for viduq3-pro" in page.inner_text(".notice")
    assert Generation.objects.count() == 0
    assert page.is_checked("input[name=audio]")
    assert page.locator("#field-images figure.kept").count() == 1
    shot(page, "no-js-model-changed")
    page.click("button.primary")
    page.wait_for_url(f"{live_server.url}/generations/*/")
    generation = Generation.objects.get()
    assert generation.model == "viduq3-pro" and generation.params["audio"] is True


def shot(page, name: str) -> None:
    named_shot(page, f"form-{name}")


def test_the_button_turns_off_while_the_form_goes_and_a_double_click_pays_once(
    page, live_server, alice, media_root
):
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/generate/img2video/")
    page.set_input_files(
        "input[name=images]",
        {"name": "harbour.png", "mimeType": "image/png", "buffer": png(640, 360)},
    )
    held = []

    def hold_the_post(route):  # the answer is slow: the person could press again
        if route.request.method == "POST":
            held.append(route)
            page.wait_for_timeout(1500)
        route.continue_()

    page.route("**/generate/img2video/", hold_the_post)
    page.dblclick("button.primary")
    page.wait_for_url(f"{live_server.url}/generations/*/")
    assert len(held) == 1  # the second press sent nothing
    assert Generation.objects.count() == 1


def test_the_button_says_it_is_sending(page, live_server, alice, media_root):
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/generate/img2video/")
    page.set_input_files(
        "input[name=images]",
        {"name": "harbour.png", "mimeType": "image/png", "buffer": png(640, 360)},
    )
    # Keep the page here to look at it: the form is not let go (the studio's script
    # still sees the submit).
    page.evaluate(
        "() => document.querySelector('form.generate')"
        ".addEventListener('submit', (event) => event.preventDefault())"
    )
    page.click("button.primary")
    page.wait_for_selector("button.primary[disabled]")
    assert page.inner_text("button.primary") == "Sending…"
    assert Generation.objects.count() == 0


def test_a_file_with_a_very_long_name_is_sent_under_a_shorter_one(
    page, live_server, alice, media_root
):
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/generate/img2video/")
    page.fill("textarea[name=prompt]", "kept through a long name")
    long_name = "harbour at dawn " * 70 + ".png"  # about 1,100 characters
    page.set_input_files(
        "input[name=images]",
        {"name": long_name, "mimeType": "image/png", "buffer": png(640, 360)},
    )
    page.click("button.primary")
    page.wait_for_url(f"{live_server.url}/generations/*/")
    generation = Generation.objects.get()
    assert generation.prompt == "kept through a long name"
    name = generation.images.get().original_name
    assert name.endswith(".png") and name.startswith("harbour at dawn") and len(name) <= 200
