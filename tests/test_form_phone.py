"""The generation form as a newcomer meets it, on a phone (390x844) and on a desktop
(1366x900), in real Chromium: the form first, a mistake brought into view, the prompt
counted against the model's limit, images previewed, dropped, pasted and swapped, and a
member made viewer meanwhile who keeps what they typed. Screenshots land in
tests/screenshots/phone-*.png."""

import base64

import pytest

from studio.models import Generation, Membership, StagedImage
from tests.browser import log_in
from tests.browser import shot as named_shot
from tests.conftest import png

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
SIZES = pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
ENDPOINTS = pytest.mark.parametrize("endpoint", ["img2video", "start-end2video"])


def shot(page, name: str) -> None:
    named_shot(page, f"phone-{name}-{page.viewport_size['width']}")


def open_form(page, base: str, endpoint: str, size: dict, username: str = "alice") -> None:
    page.set_viewport_size(size)
    log_in(page, base, username)
    page.goto(f"{base}/generate/{endpoint}/")


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def in_view(page, selector: str) -> bool:
    return page.evaluate(
        """(selector) => {
            const r = document.querySelector(selector).getBoundingClientRect();
            return r.top >= -1 && r.top < innerHeight - 40;
        }""",
        selector,
    )


# Builds a PNG file in the page and hands it to the form as a drop or a paste would.
HAND_OVER = """async ([selector, data, name, how]) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, { type: "image/png" }));
    const target = document.querySelector(selector);
    const options = { bubbles: true, cancelable: true };
    if (how === "drop") {
        target.dispatchEvent(new DragEvent("dragover", { ...options, dataTransfer: transfer }));
        target.dispatchEvent(new DragEvent("drop", { ...options, dataTransfer: transfer }));
    } else {
        target.dispatchEvent(new ClipboardEvent("paste", { ...options, clipboardData: transfer }));
    }
}"""


def hand_over(page, selector: str, picture: bytes, name: str, how: str) -> None:
    page.evaluate(HAND_OVER, [selector, base64.b64encode(picture).decode(), name, how])


def chosen_name(page, field: str) -> str | None:
    return page.evaluate(
        "(name) => { const f = document.querySelector(`input[name=${name}]`).files[0];"
        " return f ? f.name : null; }",
        field,
    )


def caption(page, field: str) -> str:
    selector = f"#field-{field} [data-preview]"
    page.wait_for_selector(f"{selector}[data-size]")
    return page.inner_text(f"{selector} figcaption")


# 1. The form first


@ENDPOINTS
def test_on_a_phone_the_form_comes_first_and_nothing_scrolls_sideways(
    page, live_server, alice, endpoint
):
    open_form(page, live_server.url, endpoint, PHONE)
    upload = box(page, "input[type=file]")
    generate = box(page, "button.primary")
    reference = box(page, "aside.rules")
    # The first upload on the first screen; Generate kept at hand at its foot.
    assert upload["y"] < 500, upload
    assert generate["y"] + generate["height"] <= PHONE["height"], generate
    assert reference["y"] > box(page, "details.options")["y"]  # the table comes after
    assert not page.locator("aside.rules details.reference").evaluate("d => d.open")  # folded
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    page.screenshot(path=str(_path(f"phone-first-screen-{endpoint}")))
    shot(page, f"form-{endpoint}")
    page.click("aside.rules summary")  # one tap opens it
    assert page.is_visible("aside.rules table")
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")


@ENDPOINTS
def test_on_a_desktop_the_table_of_models_stays_beside_the_form(page, live_server, alice, endpoint):
    open_form(page, live_server.url, endpoint, DESKTOP)
    form_field, reference = box(page, "fieldset.frames"), box(page, "aside.rules")
    assert reference["x"] > form_field["x"] + form_field["width"]
    assert abs(reference["y"] - form_field["y"]) < 40
    assert page.is_visible("aside.rules table")
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    # Where a rule comes from is one click away, in words.
    why = page.locator("#field-prompt details.why")
    assert not why.locator(".why-body").is_visible()
    why.locator("summary").click()
    assert why.locator(".why-body").inner_text().startswith("From ")
    shot(page, f"form-{endpoint}")


def _path(name: str):
    from tests.browser import SHOTS

    SHOTS.mkdir(exist_ok=True)
    return SHOTS / f"{name}.png"


# 2. A mistake is brought into view


@SIZES
def test_a_mistake_moves_the_focus_to_the_summary_of_what_is_wrong(page, live_server, alice, size):
    open_form(page, live_server.url, "start-end2video", size)
    page.click("button.primary")
    page.wait_for_selector("#errors")
    page.wait_for_function("() => document.activeElement.id === 'errors'")
    assert in_view(page, "#errors")
    assert "Upload the start frame" in page.inner_text("#errors")
    page.screenshot(path=str(_path(f"phone-mistake-{size['width']}")))


def test_the_summary_takes_the_focus_when_htmx_swaps_it_in(page, live_server, alice):
    open_form(page, live_server.url, "img2video", PHONE)
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    # A region swapped by htmx that carries the summary.
    page.evaluate(
        """() => {
            const region = document.querySelector('#options');
            const errors = document.createElement('div');
            errors.id = 'errors';
            errors.tabIndex = -1;
            errors.textContent = 'Fix what is marked below.';
            region.prepend(errors);
            region.dispatchEvent(new CustomEvent('htmx:afterSettle', { bubbles: true }));
        }"""
    )
    page.wait_for_function("() => document.activeElement.id === 'errors'")
    assert in_view(page, "#errors")


# 3. The prompt, counted


@SIZES
def test_a_long_prompt_is_counted_kept_whole_and_refused_beside_the_field(
    page, live_server, alice, media_root, size
):
    open_form(page, live_server.url, "img2video", size)
    page.set_input_files(
        "input[name=images]",
        {"name": "harbour.png", "mimeType": "image/png", "buffer": png(640, 360)},
    )
    prompt = ("The harbour at dawn, boats rocking. " * 80)[:2562]
    page.fill("textarea[name=prompt]", prompt)
    assert page.input_value("textarea[name=prompt]") == prompt  # nothing cut
    counter = page.locator("#prompt-count")
    assert "2,562 / 2,000" in counter.inner_text()
    assert "over" in counter.get_attribute("class")
    assert "over the limit by 562" in counter.inner_text()
    shot(page, "prompt-over")

    page.click("button.primary")
    page.wait_for_selector("#error-prompt")
    assert "2,562 characters" in page.inner_text("#error-prompt")
    assert page.input_value("textarea[name=prompt]") == prompt.strip()
    assert "2,562 / 2,000" in page.inner_text("#prompt-count")
    assert Generation.objects.count() == 0

    page.fill("textarea[name=prompt]", prompt[:1990])
    assert "over" not in page.get_attribute("#prompt-count", "class")
    page.click("button.primary")
    page.wait_for_url(f"{live_server.url}/generations/*/")


def test_the_count_follows_the_limit_of_the_endpoint(page, live_server, alice):
    open_form(page, live_server.url, "start-end2video", PHONE)
    page.fill("textarea[name=prompt]", "x" * 2562)
    assert "2,562 / 5,000" in page.inner_text("#prompt-count")
    assert "over" not in page.get_attribute("#prompt-count", "class")


# 5. Images: preview, drop, paste, swap


@SIZES
def test_a_chosen_image_is_previewed_with_its_name_and_sizes(page, live_server, alice, size):
    open_form(page, live_server.url, "img2video", size)
    assert page.locator("#field-images [data-preview]").is_hidden()
    page.set_input_files(
        "input[name=images]",
        {"name": "lighthouse.png", "mimeType": "image/png", "buffer": png(960, 540)},
    )
    text = caption(page, "images")
    assert "lighthouse.png" in text and "KB" in text and "960×540" in text
    assert page.locator("#field-images [data-preview] canvas").is_visible()
    shot(page, "preview")


@SIZES
def test_an_image_dropped_on_a_frame_is_chosen_for_it(page, live_server, alice, media_root, size):
    open_form(page, live_server.url, "start-end2video", size)
    hand_over(page, "#field-end_image", png(640, 360, (200, 40, 40)), "dropped.png", "drop")
    assert chosen_name(page, "end_image") == "dropped.png"
    assert chosen_name(page, "start_image") is None
    assert "640×360" in caption(page, "end_image")


@SIZES
def test_a_pasted_image_goes_to_the_first_empty_frame_or_the_focused_one(
    page, live_server, alice, media_root, size
):
    open_form(page, live_server.url, "start-end2video", size)
    hand_over(page, "form.generate", png(640, 360), "first.png", "paste")
    assert chosen_name(page, "start_image") == "first.png"
    hand_over(page, "form.generate", png(640, 360), "second.png", "paste")
    assert chosen_name(page, "end_image") == "second.png"
    # Both full: the frame that has the focus takes it.
    page.focus("input[name=start_image]")
    hand_over(page, "input[name=start_image]", png(800, 450), "third.png", "paste")
    assert (chosen_name(page, "start_image"), chosen_name(page, "end_image")) == (
        "third.png",
        "second.png",
    )
    assert "800×450" in caption(page, "start_image")
    # Text pasted into the prompt stays text.
    page.click("textarea[name=prompt]")
    page.keyboard.insert_text("a slow pan")
    assert page.input_value("textarea[name=prompt]") == "a slow pan"
    page.click("button.primary")
    page.wait_for_url(f"{live_server.url}/generations/*/")
    generation = Generation.objects.get()
    assert [i.original_name for i in generation.images.order_by("position")] == [
        "third.png",
        "second.png",
    ]


def choose_frames(page, start: tuple[str, bytes], end: tuple[str, bytes]) -> None:
    for field, (name, data) in (("start_image", start), ("end_image", end)):
        page.set_input_files(
            f"input[name={field}]", {"name": name, "mimeType": "image/png", "buffer": data}
        )


@SIZES
def test_the_frames_swap_chosen_files_and_kept_images(page, live_server, alice, media_root, size):
    open_form(page, live_server.url, "start-end2video", size)
    assert page.is_visible("[data-swap-frames]")
    choose_frames(page, ("dawn.png", png(640, 360)), ("dusk.png", png(800, 450)))
    page.click("[data-swap-frames]")
    assert (chosen_name(page, "start_image"), chosen_name(page, "end_image")) == (
        "dusk.png",
        "dawn.png",
    )
    assert "dusk.png" in caption(page, "start_image")

    # A mistake keeps both images; swapping then swaps the kept ones.
    page.fill("textarea[name=prompt]", "x" * 5001)  # over start and end frames' 5,000
    page.click("button.primary")
    page.wait_for_selector("#error-prompt")
    assert page.locator("figure.kept").count() == 2
    page.click("[data-swap-frames]")
    shot(page, "swapped")
    names = page.eval_on_selector_all(
        "[data-kept-slot] input[type=hidden]", "inputs => inputs.map(i => i.name)"
    )
    assert names == ["start_image_staged", "end_image_staged"]
    assert "dawn.png" in page.inner_text("#field-start_image figure.kept")
    page.fill("textarea[name=prompt]", "dusk turns to dawn")
    page.click("button.primary")
    page.wait_for_url(f"{live_server.url}/generations/*/")
    images = Generation.objects.get().images.order_by("position")
    assert [(i.original_name, i.width) for i in images] == [("dawn.png", 640), ("dusk.png", 800)]


def test_without_javascript_the_plain_file_inputs_still_work(
    page_without_js, live_server, alice, media_root
):
    page = page_without_js
    open_form(page, live_server.url, "start-end2video", PHONE)
    assert page.locator("[data-swap-frames]").is_hidden()
    choose_frames(page, ("a.png", png(640, 360)), ("b.png", png(640, 360)))
    page.click("button.primary")
    page.wait_for_url(f"{live_server.url}/generations/*/")
    assert Generation.objects.get().images.count() == 2


# 6. A member made viewer while the form is open


@SIZES
def test_a_member_made_viewer_meanwhile_gets_the_form_back_with_what_they_typed(
    page, live_server, alice, bob, media_root, size
):
    open_form(page, live_server.url, "img2video", size, username="bob")
    page.set_input_files(
        "input[name=images]",
        {"name": "harbour.png", "mimeType": "image/png", "buffer": png(640, 360)},
    )
    page.fill("textarea[name=prompt]", "Gulls circle the mast")
    page.select_option("select[name=model]", "viduq1")
    page.wait_for_selector(".options-wrap:not(.htmx-request) #options[data-model='viduq1']")
    Membership.objects.filter(user=bob).update(role=Membership.VIEWER)

    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("button.primary")
    assert answer.value.status == 403
    page.wait_for_selector("#errors")
    text = page.inner_text("#errors")
    assert "now viewer" in text and "does not allow generating" in text
    assert "alice" in text  # who can change it
    page.wait_for_function("() => document.activeElement.id === 'errors'")
    assert page.input_value("textarea[name=prompt]") == "Gulls circle the mast"
    assert page.input_value("select[name=model]") == "viduq1"
    assert page.locator("#field-images figure.kept").count() == 1
    assert StagedImage.objects.filter(owner=bob).count() == 1
    assert Generation.objects.count() == 0
    shot(page, "made-viewer")


# 7. The notification script's mark


def test_the_form_asks_for_notifications_on_its_first_submit(page, live_server, alice):
    open_form(page, live_server.url, "img2video", DESKTOP)
    assert page.locator("form.generate[data-ask-notify]").count() == 1
