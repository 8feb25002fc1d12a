"""Teams, budgets and shared links as people use them, in real Chromium: an invited
person signs up through the link and sees the team's history; a result is shared, plays
in a logged-out browser, and is gone once revoked. Screenshots land in tests/screenshots/."""

import re

import pytest
from django.contrib.auth import get_user_model

from studio.models import Generation, Membership, ShareLink, Team
from studio.simulator.render import render
from tests.browser import log_in, shot, wait_until_playing
from tests.conftest import password_hash, png
from tests.factories import attach_video, make_generation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a quiet harbour at dawn"


@pytest.fixture
def playable(team, alice, tmp_path, media_root):
    """A finished generation with a real H.264 video and cover."""
    rendered = render(
        [png(960, 540, (30, 90, 160))],
        duration=3,
        resolution="540p",
        fps=12,
        out_dir=tmp_path / "render",
    )
    g = make_generation(
        team,
        alice,
        state="success",
        credits=3,
        prompt="Boats drift across the harbour at dawn",
        params={"duration": 3, "resolution": "540p", "seed": 0},
    )
    creation = attach_video(g, rendered.video.read_bytes(), rendered.cover.read_bytes())
    creation.width, creation.height, creation.duration = rendered.width, rendered.height, 3.0
    creation.save()
    return g


def test_an_invited_person_signs_up_and_sees_the_history(
    page,  # noqa: F811
    fresh,
    live_server,
    alice,
    bob,
    playable,
):
    base = live_server.url
    log_in(page, base, "alice")
    page.click("nav >> text=Team")
    page.wait_for_url(f"{base}/team/")
    page.select_option("#invites select[name=role]", "member")
    page.click("text=Make an invite link")
    link_box = page.locator(".invite-list input[readonly]")
    link_box.wait_for()
    link = link_box.input_value()
    assert re.fullmatch(rf"{re.escape(base)}/invite/[\w-]{{43}}/", link), link
    assert "Invite link made for a member" in page.inner_text("#messages")
    shot(page, "team-page-owner")

    fresh.goto(link)
    assert "alice invites you as a member" in fresh.inner_text("main")
    shot(fresh, "invite-sign-up")
    fresh.fill("input[name=username]", "nina")
    fresh.fill("input[name=password1]", NEW_PASSWORD)
    fresh.fill("input[name=password2]", "not the same")
    fresh.click("text=Sign up and join")
    assert "didn’t match" in fresh.inner_text("#error-password2")
    fresh.fill("input[name=password1]", NEW_PASSWORD)
    fresh.fill("input[name=password2]", NEW_PASSWORD)
    fresh.click("text=Sign up and join")
    fresh.wait_for_url(f"{base}/generations/")
    assert "Welcome to Alpha" in fresh.inner_text("#messages")

    fresh.click("text=Log out")
    fresh.wait_for_url(f"{base}/accounts/login/")
    fresh.fill("input[name=username]", "nina")
    fresh.fill("input[name=password]", NEW_PASSWORD)
    fresh.click("button[type=submit]")
    fresh.wait_for_url(f"{base}/generations/")
    card = fresh.locator(f"[data-generation-id='{playable.pk}']")
    assert "Boats drift across the harbour" in card.inner_text()
    shot(fresh, "history-after-joining")

    # The invite is used up; the owner sees the new member.
    fresh.goto(link)
    assert "already in Alpha" in fresh.inner_text("main")
    page.reload()
    assert "nina" in page.inner_text("#members")
    assert page.locator(".invite-list").count() == 0


def test_a_shared_video_plays_logged_out_until_revoked(
    page,  # noqa: F811
    fresh,
    live_server,
    alice,
    playable,
):
    base = live_server.url
    log_in(page, base, "alice")

    # In the history, the video loads only when someone presses play.
    assert page.locator("video").count() == 0
    page.click(f"#gen-{playable.pk} .thumb")
    wait_until_playing(page, f"#gen-{playable.pk} video")
    shot(page, "history-playing")

    page.goto(f"{base}/generations/{playable.pk}/")
    page.check("input[name=show_prompt]")
    page.click("text=Make a shared link")
    link_box = page.locator(".share-list input[readonly]")
    link_box.wait_for()
    link = link_box.input_value()
    assert re.fullmatch(rf"{re.escape(base)}/s/[\w-]{{43}}/", link), link
    shot(page, "generation-shared")

    response = fresh.goto(link)
    assert response.status == 200
    assert response.headers["x-robots-tag"] == "noindex"
    og_video = fresh.get_attribute("meta[property='og:video']", "content")
    assert og_video == link + "video.mp4"
    assert "Boats drift across the harbour at dawn" in fresh.inner_text("main")
    wait_until_playing(fresh)
    shot(fresh, "shared-page")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click(".share-list >> text=Revoke")
    page.locator(".share-list").wait_for(state="detached")
    assert ShareLink.objects.get().revoked_at is not None

    response = fresh.goto(link)
    assert response.status == 404
    assert fresh.request.get(og_video).status == 404
    shot(fresh, "shared-revoked")


def test_an_owner_sets_a_budget_and_a_submit_past_it_is_refused(
    page,  # noqa: F811
    fresh,
    live_server,
    alice,
    bob,
    playable,
    tmp_path,
):
    base = live_server.url
    log_in(page, base, "alice")
    page.goto(f"{base}/team/")
    page.fill("input[name=monthly_budget]", "4")
    page.click("text=Save budget")
    page.wait_for_function(
        "() => document.querySelector('#budget-left').innerText.includes('1 of 4 credits left')"
    )
    shot(page, "team-page-budget")
    assert Team.objects.get().monthly_budget == 4

    picture = tmp_path / "frame.png"
    picture.write_bytes(png(960, 540))
    log_in(fresh, base, "bob")
    fresh.goto(f"{base}/generate/img2video/")
    fresh.set_input_files("input[name=images]", str(picture))
    fresh.fill("textarea[name=prompt]", "a second harbour")
    assert fresh.input_value("select[name=model]") == "viduq2-turbo"  # the default
    fresh.select_option("select[name=duration]", "3")
    fresh.select_option("select[name=resolution]", "540p")
    fresh.click("button:has-text('Generate video')")
    error = fresh.locator("text=past its monthly budget of 4 credits")
    error.wait_for()
    assert "it needs about 3, and 1 credit is left this month" in error.inner_text()
    assert fresh.input_value("textarea[name=prompt]") == "a second harbour"
    shot(fresh, "generate-over-budget")
    assert Generation.objects.count() == 1
    assert Membership.objects.get(user=bob).role == "member"


@pytest.fixture
def no_js(chromium):  # noqa: F811
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    yield context.new_page()
    context.close()


def test_the_pages_work_without_javascript(no_js, live_server, alice, bob, playable):
    page = no_js  # noqa: F811
    base = live_server.url
    make_generation(playable.team, bob, state="failed", prompt="a lighthouse in fog")
    log_in(page, base, "alice")

    page.fill("input[name=q]", "lighthouse")
    page.click("button:text-is('Filter')")
    assert page.locator("[data-generation-id]").count() == 1
    page.check("input[name=mine]")
    page.click("button:text-is('Filter')")
    assert "No videos match these filters" in page.inner_text("main")

    # Without JavaScript the play button opens the generation's page.
    page.goto(f"{base}/generations/")
    page.click(f"#gen-{playable.pk} .thumb")
    page.wait_for_url(f"{base}/generations/{playable.pk}/")
    page.click("text=Make a shared link")
    page.wait_for_url(f"{base}/generations/{playable.pk}/#shares")
    assert ShareLink.objects.filter(revoked_at__isnull=True).count() == 1
    page.click(".share-list >> text=Revoke")
    assert ShareLink.objects.filter(revoked_at__isnull=True).count() == 0

    page.goto(f"{base}/team/")
    page.select_option(f"#member-{bob.memberships.get().pk} select", "viewer")
    page.click(f"#member-{bob.memberships.get().pk} >> text=Change")
    assert "bob is now a viewer" in page.inner_text("#messages")
    page.fill("input[name=monthly_budget]", "-1")
    page.click("text=Save budget")
    assert "greater than or equal to 0" in page.inner_text("#error-monthly_budget")


def test_screenshots_of_the_other_states(page, live_server, alice, bob, vera, charlie, playable):  # noqa: F811
    """The pages in the states the other tests pass through quickly, to look at."""
    base = live_server.url
    team = playable.team
    flying = make_generation(team, bob, state="processing", prompt="a lighthouse in fog")
    flying.events.create(state="queued", source="form")
    flying.events.create(state="processing", source="callback")
    failed = make_generation(
        team,
        bob,
        state="failed",
        prompt="a crowded market",
        error_reason="TaskPromptPolicyViolation",
        error_message="Vidu refused the prompt under its content policy.",
    )
    Membership.objects.create(user=vera, team=charlie.memberships.get().team, role="owner")

    log_in(page, base, "bob")
    page.fill("input[name=q]", "lighthouse")  # htmx filters as one types
    page.wait_for_function("() => document.querySelectorAll('[data-generation-id]').length == 1")
    assert "q=lighthouse" in page.url
    assert page.locator("#poller").count() == 1  # the in-flight card is still followed
    page.select_option("select[name=state]", "failed")
    page.wait_for_selector("text=No videos match these filters")
    shot(page, "history-filtered")
    page.goto(f"{base}/generations/{flying.pk}/")
    # A running task cannot be cancelled at Vidu: no button, and the page says why.
    assert page.locator("text=Cancel this video").count() == 0
    assert "running task cannot be cancelled" in page.inner_text(".no-cancel")
    shot(page, "generation-in-flight")
    page.goto(f"{base}/generations/{failed.pk}/")
    assert "content policy" in page.inner_text(".status")
    shot(page, "generation-failed")

    page.context.clear_cookies()
    log_in(page, base, "vera")
    page.click("summary.team")
    shot(page, "history-viewer-team-menu")
    page.click(".team-list >> text=Other")
    page.wait_for_url(f"{base}/generations/")
    assert "History of Other" in page.inner_text("h1")
    page.goto(f"{base}/team/")
    assert page.locator("text=Make an invite link").count() == 1  # vera owns Other
    page.click("summary.team")
    page.click(".team-list >> text=Alpha")
    page.wait_for_url(f"{base}/generations/")
    page.goto(f"{base}/team/")
    assert page.locator("text=Make an invite link").count() == 0  # a viewer in Alpha
    shot(page, "team-page-viewer")

    get_user_model().objects.create(username="lone", password=password_hash())
    page.context.clear_cookies()
    log_in(page, base, "lone")
    assert "You are not in a team" in page.inner_text("h1")
    shot(page, "no-team")
