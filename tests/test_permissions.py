"""Every view against every kind of visitor: Alice (owner), Bob (member), Vera (viewer),
Charlie (owner of another team) and an anonymous visitor.

Outsiders get 404 for anything of the team's, never a hint that it exists; anonymous
visitors get the login page for app pages; a role that is missing within the team gets
403. Shared links answer whoever has them, and nobody once revoked. Vidu's callbacks and
the signed input links it fetches are checked by their own tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from studio.models import Generation, Invite, Membership, ShareLink, StagedImage, Team
from tests.conftest import png
from tests.factories import attach_video, make_generation

pytestmark = pytest.mark.usefixtures("media_root")

PEOPLE = ["alice", "bob", "vera", "charlie", None]
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Five people a test, a hundred and eighty tests: hash their passwords cheaply."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    team: Team
    finished: Any  # a stored video, by Alice
    flying: Any  # queued, by Bob
    uncopied: Any  # done at Vidu, but the copy failed
    share: ShareLink
    revoked: ShareLink
    invite: Invite
    bobs_membership: Membership
    staged: StagedImage
    ids: dict = field(default_factory=dict)


@pytest.fixture
def world(team, alice, bob, vera, charlie) -> World:
    finished = make_generation(team, alice, state="success", credits=3)
    creation = attach_video(finished)
    creation.watermarked.save("video-watermarked.mp4", ContentFile(b"\x00" * 100))
    flying = make_generation(team, bob, state="queued")
    uncopied = make_generation(team, bob, state="success", result_status="unavailable")
    share = ShareLink.objects.create(generation=finished, created_by=alice)
    revoked = ShareLink.objects.create(
        generation=finished, created_by=alice, revoked_at=timezone.now()
    )
    invite = Invite.objects.create(
        team=team, role="member", expires_at=timezone.now() + timedelta(days=1)
    )
    staged = StagedImage(team=team, owner=alice, format="png", width=320, height=180, size=10)
    staged.file.save("s.png", ContentFile(png()), save=False)
    staged.save()
    return World(
        team,
        finished,
        flying,
        uncopied,
        share,
        revoked,
        invite,
        Membership.objects.get(user=bob, team=team),
        staged,
    )


@dataclass
class Case:
    name: str
    url: Any  # World -> str
    expected: tuple  # alice, bob, vera, charlie, anonymous
    method: str = "get"
    data: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    # For outsiders who get a page of their own team: what must not be on it.
    secret: Any = None  # World -> str
    # After an outsider acted on their own team: what must hold for Alice's team.
    unchanged: Any = None  # World -> bool


def g(name: str, attr: str = "finished", *extra):
    return lambda w: reverse(name, args=[getattr(w, attr).pk, *extra])


def compared(w) -> str:
    """Two of the team's finished videos side by side (the second made on first use)."""
    if not w.ids.get("second"):
        second = make_generation(w.team, w.finished.author, state="success")
        attach_video(second)
        w.ids["second"] = second.pk
    return reverse("compare") + f"?ids={w.finished.pk}&ids={w.ids['second']}"


def batch_of(w) -> str:
    """A batch of the team's finished and flying videos, made once per test."""
    if "batch" not in w.ids:
        from studio.models import Batch

        batch = Batch.objects.create(team=w.team, author=w.finished.author)
        w.team.generations.filter(pk__in=[w.finished.pk, w.flying.pk]).update(batch=batch)
        w.ids["batch"] = batch.pk
    return reverse("batch", args=[w.ids["batch"]])


def token(name: str, attr: str = "share"):
    return lambda w: reverse(name, args=[getattr(w, attr).token])


OWN = (200, 200, 200, 404, 302)  # a team's page or file
CHANGE = (302, 302, 403, 404, 302)  # what members and owners may change
MANAGE = (302, 403, 403, 404, 302)  # what only owners may change
PUBLIC = (200, 200, 200, 200, 200)
GONE = (404, 404, 404, 404, 404)

CASES = [
    Case("home", lambda w: reverse("home"), (302, 302, 302, 302, 302)),
    Case(
        "history",
        lambda w: reverse("history"),
        (200, 200, 200, 200, 302),
        secret=lambda w: str(w.finished.pk),
    ),
    Case(
        "history, filtered by htmx",
        lambda w: reverse("history") + "?mine=1",
        (200, 200, 200, 200, 302),
        headers={**HTMX, "HX-Target": "results"},
        secret=lambda w: str(w.finished.pk),
    ),
    Case(
        "poll",
        lambda w: reverse("poll") + f"?view=status&g={w.flying.pk}.none-none",
        (200, 200, 200, 286, 302),
        secret=lambda w: str(w.flying.pk),
    ),
    Case("generation", g("generation"), OWN),
    Case("batch", batch_of, OWN, secret=lambda w: str(w.finished.pk)),
    Case("generation player", g("generation_player"), OWN, headers=HTMX),
    Case("video", g("generation_video"), OWN),
    Case("cover", g("generation_cover"), OWN),
    Case("watermarked video", g("generation_watermarked"), OWN),
    Case("input image", g("input_image", "finished", 0), OWN),
    Case(
        "image to video form",
        lambda w: reverse("generate", args=["img2video"]),
        (200, 200, 403, 200, 302),
    ),
    Case(
        "start and end frame form",
        lambda w: reverse("generate", args=["start-end2video"]),
        (200, 200, 403, 200, 302),
    ),
    Case(
        "generate again",
        lambda w: reverse("generate", args=["img2video"]) + f"?from={w.finished.pk}",
        (200, 200, 403, 404, 302),
    ),
    Case(
        "vary the seed",
        lambda w: reverse("generate", args=["img2video"]) + f"?from={w.finished.pk}&vary_seed=1",
        (200, 200, 403, 404, 302),
    ),
    Case(
        "staged image",
        lambda w: reverse("staged_image", args=[w.staged.pk]),
        (200, 404, 404, 404, 302),  # its uploader's only
    ),
    Case("compare", compared, OWN, secret=lambda w: str(w.finished.pk)),
    Case(
        "compare, one video only",
        lambda w: reverse("compare") + f"?ids={w.finished.pk}",
        (400, 400, 400, 404, 302),
        secret=lambda w: str(w.finished.pk),
    ),
    Case(
        "settings of earlier videos",
        lambda w: reverse("recent_settings") + "?endpoint=img2video",
        (200, 200, 200, 200, 302),
        secret=lambda w: str(w.finished.pk),
    ),
    Case("a video's settings", g("generation_settings"), OWN),
    Case("a video's settings, in the panel", g("generation_settings"), OWN, headers=HTMX),
    Case(
        "use the last frame",
        g("generation_last_frame"),
        CHANGE,
        method="post",
        data={"as": "first"},
        unchanged=lambda w: not StagedImage.objects.exclude(pk=w.staged.pk).exists(),
    ),
    Case("cancel", g("generation_cancel", "flying"), CHANGE, method="post"),
    Case("retry the copy", g("generation_retry", "uncopied"), CHANGE, method="post"),
    Case("send again", g("generation_send_again", "flying"), CHANGE, method="post"),
    Case("share", g("share_create"), CHANGE, method="post"),
    Case(
        "revoke a share",
        lambda w: reverse("share_revoke", args=[w.finished.pk, w.share.pk]),
        CHANGE,
        method="post",
    ),
    Case("shared page", token("share"), PUBLIC),
    Case("shared embed", token("share_embed"), PUBLIC),
    Case("shared video", token("share_video"), PUBLIC),
    Case("shared cover", token("share_cover"), PUBLIC),
    Case("revoked page", token("share", "revoked"), GONE),
    Case("revoked embed", token("share_embed", "revoked"), GONE),
    Case("revoked video", token("share_video", "revoked"), GONE),
    Case("revoked cover", token("share_cover", "revoked"), GONE),
    Case(
        "team page",
        lambda w: reverse("team"),
        (200, 200, 200, 200, 302),
        secret=lambda w: w.team.name,
    ),
    Case(
        "budget",
        lambda w: reverse("team_budget"),
        (302, 403, 403, 302, 302),
        method="post",
        data={"monthly_budget": "9"},
        unchanged=lambda w: Team.objects.get(pk=w.team.pk).monthly_budget is None,
    ),
    Case(
        "make an invite",
        lambda w: reverse("invite_create"),
        (302, 403, 403, 302, 302),
        method="post",
        data={"role": "owner", "days": "7"},
        unchanged=lambda w: w.team.invites.count() == 1,
    ),
    Case(
        "revoke an invite",
        lambda w: reverse("invite_revoke", args=[w.invite.pk]),
        MANAGE,
        method="post",
    ),
    Case(
        "change a role",
        lambda w: reverse("member_role", args=[w.bobs_membership.pk]),
        MANAGE,
        method="post",
        data={"role": "viewer"},
    ),
    Case(
        "a member's monthly limit",
        lambda w: reverse("member_limit", args=[w.bobs_membership.pk]),
        MANAGE,
        method="post",
        data={"monthly_limit": "5"},
        unchanged=lambda w: Membership.objects.get(pk=w.bobs_membership.pk).monthly_limit is None,
    ),
    Case(
        "remove a member",
        lambda w: reverse("member_remove", args=[w.bobs_membership.pk]),
        MANAGE,
        method="post",
    ),
    Case(
        "switch team",
        lambda w: reverse("team_switch"),
        (302, 302, 302, 404, 302),
        method="post",
        data={"team": "{team}"},
    ),
    Case("invite page", token("invite", "invite"), PUBLIC),
    # The gallery: another team's ids are left out, so an outsider's zip holds nothing.
    Case(
        "download as zip",
        lambda w: reverse("gallery_zip") + f"?ids={w.finished.pk}",
        OWN,
        secret=lambda w: w.finished.prompt,
    ),
    Case("star", g("generation_star"), (302, 302, 302, 404, 302), method="post"),
    Case("hide", g("generation_hide"), CHANGE, method="post"),
    Case("restore", g("generation_restore"), MANAGE, method="post"),
    Case(
        "hide a selection",
        lambda w: reverse("gallery_selection"),
        (302, 302, 403, 302, 302),
        method="post",
        data={"ids": "{finished}", "action": "hide"},
        unchanged=lambda w: not Generation.objects.filter(hidden_at__isnull=False).exists(),
    ),
    Case(
        "restore a selection",
        lambda w: reverse("gallery_selection"),
        (302, 403, 403, 302, 302),
        method="post",
        data={"ids": "{finished}", "action": "restore"},
    ),
]


@pytest.mark.parametrize("who", PEOPLE, ids=lambda who: who or "anonymous")
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_every_view_answers_each_visitor_as_it_should(client, world, case, who, request):
    if who:
        client.force_login(request.getfixturevalue(who))
    data = {
        k: v.format(team=world.team.pk, finished=world.finished.pk) for k, v in case.data.items()
    }
    url = case.url(world)
    response = getattr(client, case.method)(url, data, headers=case.headers)
    expected = case.expected[PEOPLE.index(who)]
    assert response.status_code == expected, (case.name, who, response.status_code)
    if who == "charlie" or who is None:
        body = b"".join(response) if response.streaming else response.content
        if case.secret:
            assert case.secret(world).encode() not in body
        if case.unchanged:
            assert case.unchanged(world)


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    for case in CASES:
        if case.expected[-1] == 302:
            url = case.url(world)
            response = getattr(client, case.method)(url, headers=case.headers)
            path = url.split("?")[0]
            assert response["Location"].startswith(f"{reverse('login')}?next={path}"), case.name


# Routes whose visitors are not people of a team; each has tests of its own.
CHECKED_ELSEWHERE = {
    "vidu_callback": "signed by the provider (tests/test_callback.py)",
    "signed_input": "a signed link the provider fetches (tests/test_images.py)",
    "healthz": "the health check, for load balancers (tests/test_health.py)",
    "login": "the login page (tests/test_login_throttle.py)",
    "logout": "logging out (tests/test_teams_browser.py)",
}


def test_the_matrix_names_every_route_in_the_studio(world):
    """A new view cannot be forgotten: each route is in the matrix or checked elsewhere."""
    from django.urls import URLPattern, get_resolver, resolve

    routes = {p.name for p in get_resolver().url_patterns if isinstance(p, URLPattern)}
    covered = {resolve(case.url(world).split("?")[0]).url_name for case in CASES}
    assert routes - covered - set(CHECKED_ELSEWHERE) == set()
    assert set(CHECKED_ELSEWHERE) <= routes  # no stale exceptions either
