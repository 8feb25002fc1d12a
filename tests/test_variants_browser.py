"""Variants, per-person limits and recent prompts in real Chromium, at a desk's width and
a phone's. Screenshots land in tests/screenshots/variants-*.png."""

from __future__ import annotations

import pytest

from studio.models import Batch, Generation, Membership, Team
from tests.browser import SHOTS, log_in, shot
from tests.conftest import png
from tests.factories import attach_video, make_generation

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WIDTHS = {"wide": (1366, 900), "narrow": (390, 844)}


def at_widths(page):
    for name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        yield name


def finish(generation) -> None:
    """The video is made and copied, as the worker would leave it."""
    attach_video(generation)
    Generation.objects.filter(pk=generation.pk).update(
        state="success", result_status="stored", credits=3
    )


@pytest.mark.slow
def test_three_seed_variants_fill_in_side_by_side(page, live_server, alice, tmp_path):
    picture = tmp_path / "frame.png"
    picture.write_bytes(png())
    log_in(page, live_server.url)
    for name in at_widths(page):
        page.goto(f"{live_server.url}/generate/img2video/")
        page.select_option("select[name=model]", "viduq2-turbo")
        assert page.is_checked("input[name=variant_mode][value=seeds]")
        assert not page.is_visible("#field-extra_models")  # only for variants on models
        page.select_option("select[name=variants]", "3")
        page.wait_for_selector("#estimate:has-text('for 3 videos')")
        assert "≈ 15 credits for 3 videos" in page.inner_text("#estimate")
        page.set_input_files("input[name=images]", str(picture))
        page.fill("textarea[name=prompt]", f"a lighthouse at dusk, {name}")
        shot(page, f"variants-form-{name}")
        page.click("button[type=submit]:text('Generate video')")
        page.wait_for_url(f"{live_server.url}/batches/**")
        batch = (
            Batch.objects.filter(generations__prompt=f"a lighthouse at dusk, {name}")
            .distinct()
            .get()
        )
        made = list(batch.generations.order_by("created_at"))
        assert page.locator(".variant").count() == 3
        for generation in made:
            assert f"Seed {generation.params['seed']}" in page.inner_text(
                f"#variant-{generation.pk}"
            )
        assert page.get_attribute("#compare-link", "href").count("ids=") == 3
        shot(page, f"variants-batch-waiting-{name}")
        for generation in made:
            finish(generation)
            page.wait_for_selector(f"#gen-{generation.pk}[data-state=success] .thumb.playable")
        # Side by side on a desk, one above the other on a phone.
        boxes = [page.locator(f"#gen-{g.pk}").bounding_box() for g in made]
        if name == "wide":
            assert boxes[0]["y"] == boxes[1]["y"] and boxes[0]["x"] < boxes[1]["x"]
        else:
            assert boxes[0]["y"] < boxes[1]["y"]
        shot(page, f"variants-batch-done-{name}")
        page.goto(f"{live_server.url}/generations/")
        link = page.locator(f"#gen-{made[0].pk} a.batch-link")
        assert link.get_attribute("href") == f"/batches/{batch.pk}/"
        shot(page, f"variants-history-{name}")


def test_variants_on_other_models_say_what_each_will_make(page, live_server, alice):
    log_in(page, live_server.url)
    for name in at_widths(page):
        page.goto(f"{live_server.url}/generate/img2video/")
        page.select_option("select[name=model]", "viduq2-turbo")
        page.wait_for_selector("#options[data-model='viduq2-turbo']")
        page.check("input[name=variant_mode][value=models]")
        assert page.is_visible("#field-extra_models")
        assert not page.is_visible("select[name=variants]")
        assert page.locator("#field-extra_models input[value='viduq2-turbo']").count() == 0
        page.check("#field-extra_models input[value='viduq1']")
        page.wait_for_selector("#plan-notes")
        assert "Vidu Q1: 5 s · 1080p" in page.inner_text("#plan-notes")
        page.wait_for_selector("#estimate:has-text('for 2 videos')")
        page.locator("#variants").scroll_into_view_if_needed()
        shot(page, f"variants-models-{name}")


def test_a_recent_prompt_fills_the_prompt(page, live_server, alice, team):
    make_generation(team, alice, prompt="a heron lifting off the water at dawn")
    make_generation(team, alice, prompt="rain on a tin roof, close up")
    log_in(page, live_server.url)
    for name in at_widths(page):
        page.goto(f"{live_server.url}/generate/img2video/")
        page.fill("textarea[name=prompt]", "something else")
        page.click("#recent-prompts a:text('a heron lifting')")
        assert page.input_value("textarea[name=prompt]") == "a heron lifting off the water at dawn"
        assert page.url == f"{live_server.url}/generate/img2video/"  # filled in place
        assert "37 / 2,000 characters" in page.inner_text("#prompt-count")
        shot(page, f"variants-recent-prompts-{name}")


def test_the_form_says_what_is_left_this_month(page, live_server, bob, team):
    Membership.objects.filter(user=bob, team=team).update(monthly_limit=12)
    Team.objects.filter(pk=team.pk).update(monthly_budget=500)
    make_generation(team, bob, credits=2)
    log_in(page, live_server.url, "bob")
    for name in at_widths(page):
        page.goto(f"{live_server.url}/generate/img2video/")
        page.select_option("select[name=model]", "viduq2-turbo")
        page.wait_for_selector("#options[data-model='viduq2-turbo']")
        assert page.inner_text("#allowance") == "10 credits left this month (your monthly limit)"
        page.select_option("select[name=variants]", "3")  # 15 credits: more than is left
        page.wait_for_selector("#allowance.short")
        assert "not enough for this" in page.inner_text("#allowance")
        page.locator("#variants").scroll_into_view_if_needed()
        shot(page, f"variants-left-{name}")
        page.screenshot(path=str(SHOTS / f"variants-left-{name}-in-view.png"))


def test_an_owner_sets_a_members_limit_on_the_team_page(page, live_server, alice, bob, team):
    make_generation(team, bob, credits=7)
    log_in(page, live_server.url)
    for name in at_widths(page):
        page.goto(f"{live_server.url}/team/")
        row = page.locator("#by-member tr", has_text="bob")
        row.locator("input[name=monthly_limit]").fill("20" if name == "wide" else "30")
        row.locator("button:text('Save')").click()
        expected = "13 left this month" if name == "wide" else "23 left this month"
        page.wait_for_selector(f"#by-member :text('{expected}')")
        assert page.url.startswith(f"{live_server.url}/team/")
        shot(page, f"variants-team-limits-{name}")
    assert Membership.objects.get(user=bob, team=team).monthly_limit == 30
