"""Headers and files: the Content-Security-Policy on every page, HTTPS settings from the
environment, and a database file only its owner can read.

The header, the markup (no inline scripts, event handlers or styles) and the settings
are checked without a browser; the last test visits the main pages in Chromium and
fails on anything the policy refuses there.
"""

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from studio.models import ShareLink
from tests.conftest import ROOT
from tests.factories import attach_video, make_generation

pytestmark = pytest.mark.usefixtures("media_root")

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<style\b|<[^>]+\sstyle\s*=", re.I)


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


@pytest.fixture
def finished(team, alice):
    g = make_generation(team, alice, state="success")
    attach_video(g, b"\x00" * 2000)
    return g


@pytest.fixture
def share(finished, alice):
    return ShareLink.objects.create(generation=finished, created_by=alice)


@pytest.fixture
def pages(client, alice, team, finished, share):
    """Every kind of page: anonymous, logged in, and shared."""
    team.monthly_budget = 100
    team.save()
    client.force_login(alice)
    # An invite, so the team page shows its link field.
    client.post(reverse("invite_create"), {"role": "member", "days": "7"})
    urls = {
        "history": reverse("history"),
        "img2video": reverse("generate", args=["img2video"]),
        "start-end2video": reverse("generate", args=["start-end2video"]),
        "generation": reverse("generation", args=[finished.pk]),
        "team": reverse("team"),
        "share": reverse("share", args=[share.token]),
    }
    answers = {name: client.get(url) for name, url in urls.items()}
    client.logout()
    answers["login"] = client.get(reverse("login"))
    answers["admin-login"] = client.get("/admin/login/")
    for name, response in answers.items():
        assert response.status_code == 200, name
    return answers


def test_every_page_has_a_strict_policy(pages, settings):
    for name, response in pages.items():
        csp = policy(response)
        assert csp["default-src"] == ["'self'"], name
        assert csp["script-src"] == ["'self'"], name
        assert csp["style-src"] == ["'self'"], name
        assert csp["img-src"] == ["'self'", "data:"], name
        assert csp["object-src"] == ["'none'"], name
        assert csp["base-uri"] == ["'self'"], name
        assert csp["form-action"] == ["'self'"], name
        assert csp["frame-ancestors"] == ["'none'"], name
        assert "'unsafe-inline'" not in response["Content-Security-Policy"], name
        assert "'unsafe-eval'" not in response["Content-Security-Policy"], name


def test_videos_may_come_from_the_providers_links(client, alice, finished):
    client.force_login(alice)
    csp = policy(client.get(reverse("generation", args=[finished.pk])))
    # The provider's own link plays while the studio copies the video: any HTTPS host,
    # and the local simulator (plain HTTP on loopback) when the studio uses it.
    assert csp["media-src"][:2] == ["'self'", "https:"]
    assert "http:" not in csp["media-src"]


def test_the_simulators_origin_is_allowed_only_with_the_simulator(tmp_path):
    code = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['media-src']))"
    )

    def media_src(**env) -> list[str]:
        out = run_with_env(code, tmp_path, **env)
        return json.loads(out.stdout)

    assert media_src(VIDU_SIM_PORT="8799") == ["'self'", "https:", "http://127.0.0.1:8799"]
    assert media_src(VIDU_API_KEY="a-real-key") == ["'self'", "https:"]


def test_pages_have_no_inline_scripts_handlers_or_styles(pages):
    for name, response in pages.items():
        html = response.content.decode()
        assert not INLINE_SCRIPT.findall(html), name
        assert not INLINE_HANDLER.findall(html), name
        if name != "admin-login":  # Django's own admin pages are its business
            assert not INLINE_STYLE.findall(html), name
        assert "{#" not in html and "#}" not in html, name  # a comment left showing


def test_htmx_is_told_not_to_inject_its_indicator_style(pages):
    match = re.search(
        r"<meta name=\"htmx-config\" content='([^']*)'", pages["history"].content.decode()
    )
    config = json.loads(match[1])
    assert config["includeIndicatorStyles"] is False
    assert config["allowEval"] is False
    css = (ROOT / "static" / "css" / "studio.css").read_text()
    assert ".htmx-indicator" in css and ".htmx-request" in css


def test_the_shared_player_may_be_framed_by_other_sites(client, share):
    response = client.get(reverse("share_embed", args=[share.token]))
    html = response.content.decode()
    csp = policy(response)
    assert csp["frame-ancestors"] == ["*"]
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert not INLINE_STYLE.findall(html) and not INLINE_SCRIPT.findall(html)
    # Everything else still refuses frames.
    assert policy(client.get(reverse("share", args=[share.token])))["frame-ancestors"] == ["'none'"]


def test_the_lockout_page_has_the_policy(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(reverse("login"), {"username": "alice", "password": "no"})
    assert response.status_code == 429
    assert policy(response)["script-src"] == ["'self'"]


# HTTPS from the environment.


def run_with_env(code: str, data_dir: Path, **env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VIDU_", "STUDIO_", "SECURE_"))
        and k not in ("DATABASE_URL", "REDIS_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    clean.update(DJANGO_SETTINGS_MODULE="studio.settings", STUDIO_DATA_DIR=str(data_dir))
    clean.update(env)
    done = subprocess.run(
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def check_deploy(data_dir: Path, **env) -> str:
    code = (
        "import sys, django; from django.core.management import call_command; django.setup(); "
        "call_command('check', deploy=True, stdout=sys.stdout, stderr=sys.stdout)"
    )
    out = run_with_env(code, data_dir, SECRET_KEY="x" * 60 + "-a-long-random-looking-key", **env)
    return out.stdout + out.stderr


def test_https_settings_come_from_the_environment(tmp_path):
    out = check_deploy(tmp_path, STUDIO_HTTPS="1")
    assert "security.W004" not in out  # HSTS
    assert "security.W008" not in out  # the redirect to HTTPS
    assert "security.W012" not in out and "security.W016" not in out  # secure cookies


def test_https_is_off_for_the_local_run(tmp_path):
    out = check_deploy(tmp_path)
    assert "security.W004" in out and "security.W008" in out


def settings_with(tmp_path, *names, **env) -> dict:
    code = (
        "import json; from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {list(names)!r}}}))"
    )
    return json.loads(run_with_env(code, tmp_path, **env).stdout)


def test_https_defaults_and_overrides(tmp_path):
    names = (
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_PROXY_SSL_HEADER",
        "STUDIO_CLIENT_IP_HEADER",
    )
    local = settings_with(tmp_path, *names)
    assert local == {
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_PROXY_SSL_HEADER": None,
        "STUDIO_CLIENT_IP_HEADER": "",
    }
    on = settings_with(tmp_path, *names, STUDIO_HTTPS="1")
    assert on == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 365 * 24 * 3600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        # On with STUDIO_HTTPS, as before: the studio usually sits behind a proxy.
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "STUDIO_CLIENT_IP_HEADER": "X-Forwarded-For",
    }
    tuned = settings_with(
        tmp_path,
        *names,
        STUDIO_HTTPS="1",
        STUDIO_BEHIND_PROXY="0",
        STUDIO_HSTS_SECONDS="3600",
        STUDIO_HSTS_INCLUDE_SUBDOMAINS="1",
    )
    assert tuned["SECURE_HSTS_SECONDS"] == 3600 and tuned["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert tuned["SECURE_PROXY_SSL_HEADER"] is None and tuned["STUDIO_CLIENT_IP_HEADER"] == ""
    proxied = settings_with(tmp_path, *names, STUDIO_BEHIND_PROXY="1")
    assert proxied["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert proxied["SECURE_SSL_REDIRECT"] is False


def test_with_https_on_plain_http_is_redirected_and_hsts_sent(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    plain = client.get(reverse("login"))
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    secure = client.get(reverse("login"), HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000"


# Files.


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def migrate(data_dir: Path) -> None:
    code = (
        "import django; from django.core.management import call_command; django.setup(); "
        "call_command('migrate', verbosity=0)"
    )
    old = os.umask(0o022)  # as a shell usually has it: files readable by everyone
    try:
        run_with_env(code, data_dir)
    finally:
        os.umask(old)


def test_a_fresh_database_is_readable_only_by_its_owner(tmp_path):
    data_dir = tmp_path / "data"
    migrate(data_dir)
    database = data_dir / "studio.sqlite3"
    assert mode(database) == 0o600
    for suffix in ("-wal", "-shm"):
        extra = database.with_name(database.name + suffix)
        if extra.exists():
            assert mode(extra) == 0o600, suffix
    assert mode(data_dir) == 0o700


def test_an_existing_world_readable_database_is_closed_on_the_next_start(tmp_path):
    data_dir = tmp_path / "data"
    migrate(data_dir)
    database = data_dir / "studio.sqlite3"
    database.chmod(0o644)
    data_dir.chmod(0o755)
    migrate(data_dir)
    assert mode(database) == 0o600
    assert mode(data_dir) == 0o700


# In Chromium: every main page loads and works with nothing refused by the policy.

CSP_COMPLAINT = re.compile(r"Refused to|Content[ -]Security[ -]Policy", re.I)


class Complaints:
    """Console messages and page errors of a browser context, for the policy's refusals."""

    def __init__(self, *pages):
        self.messages: list[str] = []
        for page in pages:
            page.on("console", lambda m: self.messages.append(f"console {m.type}: {m.text}"))
            page.on("pageerror", lambda e: self.messages.append(f"page error: {e}"))

    def about_the_policy(self) -> list[str]:
        return [m for m in self.messages if CSP_COMPLAINT.search(m)]


def visit(page, url: str, complaints: Complaints) -> None:
    response = page.goto(url)
    assert response.status == 200, url
    assert "content-security-policy" in response.headers, url
    page.wait_for_load_state("load")
    assert page.evaluate("document.querySelectorAll('style').length") == 0, url
    assert not complaints.about_the_policy(), (url, complaints.about_the_policy())


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_main_pages_break_no_rule_of_the_policy(
    page, fresh, live_server, alice, team, tmp_path, django_user_model
):
    from studio.simulator.render import render
    from tests.browser import log_in, shot, wait_until_playing
    from tests.conftest import png

    rendered = render(
        [png(320, 180)], duration=1, resolution="360p", fps=8, out_dir=tmp_path / "clip"
    )
    finished = make_generation(team, alice, state="success", prompt="Lanterns over the bay")
    attach_video(finished, rendered.video.read_bytes(), cover=rendered.cover.read_bytes())
    share = ShareLink.objects.create(generation=finished, created_by=alice, show_prompt=True)
    # Finished at the provider, not yet copied: the page plays the simulator's own link.
    previewing = make_generation(
        team,
        alice,
        state="success",
        preview_url="http://127.0.0.1:8765/media/t1/video.mp4",
    )
    team.monthly_budget = 100
    team.save()
    base = live_server.url
    complaints = Complaints(page, fresh)

    visit(page, f"{base}/accounts/login/", complaints)
    log_in(page, base)  # the login form posts under form-action 'self'
    visit(page, f"{base}/generations/", complaints)
    assert page.evaluate("typeof htmx") == "object"

    for kind in ("img2video", "start-end2video"):
        visit(page, f"{base}/generate/{kind}/", complaints)
        # Changing the model swaps the options through htmx, under the policy too.
        models = page.locator("select[name=model] option").evaluate_all(
            "options => options.map(o => o.value)"
        )
        with page.expect_response(lambda r, kind=kind: f"/generate/{kind}/" in r.url):
            page.select_option("select[name=model]", models[-1])
        page.wait_for_function(
            f"() => document.querySelector('#options').dataset.model === {models[-1]!r}"
        )
        assert not complaints.about_the_policy(), kind

    visit(page, f"{base}/generations/{finished.pk}/", complaints)
    wait_until_playing(page)
    shot(page, "csp-generation")
    visit(page, f"{base}/generations/{previewing.pk}/", complaints)
    assert page.locator("video[src^='http://127.0.0.1:8765/']").count() == 1

    visit(page, f"{base}/team/", complaints)
    page.click("text=Make an invite link")  # through htmx
    page.wait_for_selector("input[data-select-on-click]")
    visit(page, f"{base}/team/", complaints)
    assert page.locator("meter").count() == 1
    invite = page.locator("input[data-select-on-click]").first
    invite.click()
    selected = page.evaluate(
        "() => { const f = document.activeElement;"
        " return f.value.slice(f.selectionStart, f.selectionEnd); }"
    )
    assert selected == invite.input_value() and "/invite/" in selected
    shot(page, "csp-team")

    visit(fresh, f"{base}/s/{share.token}/", complaints)
    wait_until_playing(fresh)
    visit(fresh, f"{base}/s/{share.token}/embed/", complaints)
    visit(fresh, f"{base}/admin/login/", complaints)

    # The lockout page, as a person reaches it: wrong passwords in the login form.
    for _ in range(5):
        fresh.goto(f"{base}/accounts/login/")
        fresh.fill("input[name=username]", "alice")
        fresh.fill("input[name=password]", "not her password")
        with fresh.expect_response(lambda r: r.request.method == "POST") as answer:
            fresh.click("button[type=submit]")
    assert answer.value.status == 429
    assert "Too many failed logins" in fresh.inner_text("#locked-out")
    shot(fresh, "login-locked-out")
    assert not complaints.about_the_policy()


@pytest.mark.django_db
def test_with_https_on_the_health_check_still_answers_plain_http(client, tmp_path, settings):
    exempt = settings_with(tmp_path, "SECURE_REDIRECT_EXEMPT", STUDIO_HTTPS="1")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = exempt["SECURE_REDIRECT_EXEMPT"]
    assert client.get(reverse("healthz")).status_code in (200, 503)
    assert client.get(reverse("login")).status_code == 301
