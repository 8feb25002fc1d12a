"""Real Chromium for the browser tests: Debian's build driven by Playwright, launched
with the flags this machine needs, plus the steps every browser test takes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parent / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def chromium():
    if not os.path.exists(CHROMIUM):
        from tests.conftest import require  # conftest imports this module

        require(
            f"{CHROMIUM} is missing (apt-get install chromium); `make test` installs it as root"
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests
    # make between steps are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def _page(chromium, **options):
    context = chromium.new_context(viewport=VIEWPORT, **options)
    yield context.new_page()
    context.close()


@pytest.fixture
def page(chromium):
    yield from _page(chromium)


@pytest.fixture
def fresh(chromium):
    """A second browser context: no cookies, nobody logged in."""
    yield from _page(chromium)


@pytest.fixture
def page_without_js(chromium):
    yield from _page(chromium, java_script_enabled=False)


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page, base: str, username: str = "alice") -> None:
    from tests.conftest import PASSWORD

    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/generations/")


def wait_until_playing(page, selector: str = "video") -> None:
    """Wait for the video to load, start it (muted, as autoplay rules want) and see it run."""
    video = f"document.querySelector({selector!r})"
    page.wait_for_function(f"() => {video} && {video}.readyState >= 2", timeout=20000)
    page.evaluate(f"() => {{ {video}.muted = true; {video}.play(); }}")
    page.wait_for_function(f"() => {video}.currentTime > 0.5", timeout=20000)
