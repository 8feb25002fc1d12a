"""What a new person meets on the first day, in real Chromium at a desktop and a phone
width: an even history grid whose videos play on hover, the top bar, the team page, the
invite sign-up, shared links with a Copy button, and styled error pages. Screenshots land
in tests/screenshots/day-one-*.png."""

import pytest

from studio.models import Membership
from studio.simulator.render import render
from tests.browser import log_in, shot
from tests.conftest import png
from tests.factories import attach_video, make_generation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
COPY_BUTTON = "document.querySelector('li.new button.copy')"


def _video(team, author, tmp_path, name: str, size: tuple[int, int], prompt: str):
    rendered = render(
        [png(*size, (30, 90, 160))], duration=2, resolution="360p", fps=8, out_dir=tmp_path / name
    )
    g = make_generation(team, author, state="success", credits=2, prompt=prompt)
    creation = attach_video(g, rendered.video.read_bytes(), rendered.cover.read_bytes())
    creation.width, creation.height, creation.duration = rendered.width, rendered.height, 2.0
    creation.save()
    return g


@pytest.fixture
def covers(team, alice, tmp_path, media_root):
    """Three finished videos: landscape 16:9, portrait 9:16 and 4:3."""
    return {
        "wide": _video(team, alice, tmp_path, "wide", (960, 540), "green hills at sunset"),
        "tall": _video(team, alice, tmp_path, "tall", (540, 960), "a dancer turns, portrait"),
        "four-three": _video(team, alice, tmp_path, "43", (640, 480), "an old tv test card"),
    }


def test_tour_of_the_pages(page, live_server, alice, bob, covers):
    """Screenshots of every page this covers, at both widths."""
    base = live_server.url
    log_in(page, base)
    for label, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.goto(f"{base}/generations/")
        shot(page, f"day-one-history-{label}")
        page.goto(f"{base}/team/")
        shot(page, f"day-one-team-{label}")
        page.goto(f"{base}/generations/{covers['wide'].pk}/")
        shot(page, f"day-one-detail-{label}")
        page.goto(f"{base}/generations/00000000-0000-0000-0000-000000000000/")
        shot(page, f"day-one-404-{label}")


def box(page, selector: str) -> dict:
    return page.locator(selector).bounding_box()


# The history


def test_history_cards_are_even_whatever_the_shape_of_their_video(page, live_server, covers):
    log_in(page, live_server.url)
    for label, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.goto(f"{live_server.url}/generations/")
        page.wait_for_function(
            "() => [...document.querySelectorAll('.thumb img')].every(i => i.complete)"
        )
        thumbs = {key: box(page, f"#gen-{g.pk} .thumb") for key, g in covers.items()}
        assert len({round(t["height"]) for t in thumbs.values()}) == 1, thumbs
        # A 16:9 area, the picture fitted whole inside it.
        assert abs(thumbs["tall"]["width"] / thumbs["tall"]["height"] - 16 / 9) < 0.02
        fit = page.eval_on_selector(
            f"#gen-{covers['tall'].pk} .thumb img", "i => getComputedStyle(i).objectFit"
        )
        assert fit == "contain"
        if label == "desktop":  # three in a row, one height
            cards = [box(page, f"#gen-{g.pk}") for g in covers.values()]
            assert len({round(c["y"]) for c in cards}) == 1
            assert len({round(c["height"]) for c in cards}) == 1, cards
        shot(page, f"day-one-history-grid-{label}")


def test_a_card_plays_its_muted_video_while_the_mouse_rests_on_it(page, live_server, covers):
    log_in(page, live_server.url)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/generations/")
    tall = f"#gen-{covers['tall'].pk}"
    assert page.locator("video").count() == 0  # nothing loads before a hover
    page.hover(f"{tall} .thumb")
    page.wait_for_function(
        f"() => {{ const v = document.querySelector('{tall} video.preview');"
        " return v && !v.paused && v.currentTime > 0; }"
    )
    video = page.eval_on_selector(f"{tall} video.preview", "v => [v.muted, v.loop, v.paused]")
    assert video == [True, True, False]
    assert page.locator("video").count() == 1  # only the card under the mouse
    shot(page, "day-one-history-hover")
    page.hover("h1")
    page.wait_for_function(f"() => document.querySelector('{tall} video.preview').paused")
    # A click still opens the player with sound and controls.
    page.click(f"{tall} .thumb")
    page.wait_for_selector(f"{tall} .thumb.playing video[controls]")
    assert page.locator(f"{tall} video.preview").count() == 0


def test_on_a_touch_screen_a_tap_plays_as_before(chromium, live_server, covers):
    context = chromium.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        phone = context.new_page()
        log_in(phone, live_server.url)
        wide = f"#gen-{covers['wide'].pk}"
        phone.tap(f"{wide} .thumb")
        phone.wait_for_selector(f"{wide} .thumb.playing video[controls]")
        assert phone.locator("video.preview").count() == 0
    finally:
        context.close()


# The top bar and the history's filters


def test_the_top_bar_marks_the_current_page_and_stays_small_on_a_phone(page, live_server, alice):
    base = live_server.url
    log_in(page, base)
    pages = {
        "History": "/generations/",
        "Image to video": "/generate/img2video/",
        "Start and end frame": "/generate/start-end2video/",
        "Team": "/team/",
    }
    for label, size in WIDTHS.items():
        page.set_viewport_size(size)
        for name, path in pages.items():
            page.goto(base + path)
            current = page.eval_on_selector_all(
                "header nav a[aria-current=page]", "links => links.map(a => a.textContent)"
            )
            assert current == [name], (path, current)
            weights = page.eval_on_selector_all(
                "header nav a",
                "links => links.map(a => [a.hasAttribute('aria-current'),"
                " getComputedStyle(a).fontWeight, getComputedStyle(a).borderBottomColor])",
            )
            marked = {(w, c) for cur, w, c in weights if cur}
            others = {(w, c) for cur, w, c in weights if not cur}
            assert marked.isdisjoint(others)  # seen, not only announced
        if label == "phone":
            assert box(page, "header.topbar")["height"] <= 64
        shot(page, f"day-one-topbar-{label}")


def test_the_filters_are_folded_on_a_phone_and_open_on_a_desktop(page, live_server, covers):
    base = live_server.url
    log_in(page, base)
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/generations/")
    assert not page.eval_on_selector("details.filters-fold", "d => d.open")
    first_card = box(page, ".grid .card >> nth=0")
    assert first_card["y"] < PHONE["height"] / 2  # the videos start in the first screen
    page.click("details.filters-fold > summary")
    page.fill("input[name=q]", "hills")
    page.wait_for_url("**q=hills**")
    page.wait_for_function("() => document.querySelectorAll('.grid .card').length === 1")
    page.reload()  # a filter applies: it opens to show it
    assert page.eval_on_selector("details.filters-fold", "d => d.open")
    shot(page, "day-one-filters-phone-active")

    page.set_viewport_size(DESKTOP)
    page.goto(f"{base}/generations/")
    assert page.eval_on_selector("details.filters-fold", "d => d.open")
    assert page.is_visible("input[name=q]")


# The team page and the invite


def test_the_team_page_fits_a_phone_and_its_tables_keep_their_rows_small(
    page, live_server, alice, bob, covers
):
    for model in ("viduq1", "vidu2.0", "viduq3-pro"):  # more models than members
        make_generation(
            alice.memberships.get().team, alice, state="success", credits=3, model=model
        )
    log_in(page, live_server.url)
    for label, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.goto(f"{live_server.url}/team/")
        member_row = box(page, "#by-member tbody tr >> nth=0")
        model_row = box(page, "#by-model tbody tr >> nth=0")
        # Each row keeps its natural height (a member's row holds the monthly limit's
        # small form), not stretched to the other table's.
        assert model_row["height"] < 40, model_row
        assert member_row["height"] < 100, member_row
        for name in ("Leave", "Remove"):
            button = box(page, f"#members button:has-text('{name}')")
            assert button["x"] >= 0 and button["x"] + button["width"] <= size["width"], name
        assert page.evaluate("() => document.documentElement.scrollWidth") <= size["width"]
        shot(page, f"day-one-team-page-{label}")


def test_a_refused_password_is_explained_under_it_and_kept(page, live_server, alice):
    from studio import teams

    invite = teams.create_invite(alice.memberships.get().team, Membership.MEMBER, 7, alice)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/invite/{invite.token}/")
    page.fill("input[name=username]", "nina")
    page.fill("input[name=password1]", "short")
    page.fill("input[name=password2]", "short")
    page.click("text=Sign up and join")
    error = page.locator("#error-password1 >> nth=0")
    assert "too short" in error.inner_text()
    password1, password2 = box(page, "input[name=password1]"), box(page, "input[name=password2]")
    assert password1["y"] < error.bounding_box()["y"] < password2["y"]  # under the password
    assert page.locator("#error-password2").count() == 0
    assert page.input_value("input[name=username]") == "nina"
    assert page.input_value("input[name=password1]") == ""
    assert page.input_value("input[name=password2]") == ""
    shot(page, "day-one-invite-refused-phone")


# Sharing


def test_a_new_shared_link_is_confirmed_beside_it_and_copied_with_a_button(
    page, live_server, alice, covers
):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, live_server.url)
    for label, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.goto(f"{live_server.url}/generations/{covers['wide'].pk}/")
        page.click("#shares .share-new button")
        item = page.locator(".share-list li.new")
        item.wait_for()
        assert "Link made" in item.inner_text()
        assert "Link made" not in page.inner_text("#messages")
        link = item.locator("input[readonly]").input_value()
        item.locator("button.copy").click()
        page.wait_for_function(f"() => {COPY_BUTTON}.textContent === 'Copied'")
        assert page.evaluate("() => navigator.clipboard.readText()") == link
        copy = item.locator("button.copy").bounding_box()
        assert copy["x"] + copy["width"] <= size["width"]
        shot(page, f"day-one-shared-{label}")
        page.wait_for_function(f"() => {COPY_BUTTON}.textContent === 'Copy'")


def test_without_javascript_the_new_link_is_confirmed_in_its_section(
    page_without_js, live_server, alice, covers
):
    page = page_without_js
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/generations/{covers['wide'].pk}/")
    page.click("#shares .share-new button")
    page.wait_for_url("**#shares")
    item = page.locator(".share-list li").first
    assert "Link made" in item.inner_text()
    assert "Link made" not in page.inner_text("#messages")
    assert not page.is_visible("button.copy")  # it needs the script
    shot(page, "day-one-shared-no-js")


# Error pages


def test_a_missing_page_is_styled_with_the_way_back(page, live_server, alice):
    log_in(page, live_server.url)
    for label, size in WIDTHS.items():
        page.set_viewport_size(size)
        response = page.goto(f"{live_server.url}/generations/00000000-0000-0000-0000-000000000000/")
        assert response.status == 404
        assert page.is_visible("header.topbar")
        assert "There is nothing to see here" in page.inner_text("#error-page")
        page.click("#error-page >> text=Open the history")
        page.wait_for_url(f"{live_server.url}/generations/")
        page.go_back()
        shot(page, f"day-one-404-page-{label}")


def test_on_a_phone_the_team_menu_opens_whole_from_the_scrolling_bar(
    page, live_server, vera, charlie
):
    Membership.objects.create(user=vera, team=charlie.memberships.get().team, role="owner")
    log_in(page, live_server.url, "vera")
    page.set_viewport_size(PHONE)
    page.click("summary.team")
    menu = box(page, ".team-list")
    assert menu["x"] >= 0 and menu["x"] + menu["width"] <= PHONE["width"]
    assert menu["y"] >= box(page, "header.topbar")["height"] - 1
    assert page.is_visible(".team-list >> text=Other")
    shot(page, "day-one-team-menu-phone")
