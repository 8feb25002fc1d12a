"""The page's poll: one request an interval for every in-flight generation on a page.

Most polls find nothing changed, so that answer is made cheap: the poller's URL carries
a signed token naming the team, the person and (by hash) their session, and a poll whose
token holds and whose generations all still have the versions the page shows is
answered 204 after one indexed query, without loading the session, the user or the
memberships. Anything else (a change, an expired token, a logged-out session) goes the
full way: login, membership, the changed fragments, and a fresh poller.
"""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from studio.access import current_membership
from studio.models import Generation, State, mark_batch_places
from studio.web.views.gallery import with_stars
from studio.web.views.status import status_context

# Seconds between polls: quicker while a video is about to appear.
POLL_SECONDS = 2
POLL_SECONDS_NEAR_DONE = 1
MAX_POLLED = 48  # two pages of cards
TOKEN_SALT = "studio.poll"
TOKEN_MAX_AGE = 600  # seconds; a fresh token comes with every full answer


def poll_query(generations) -> str:
    """The poll URL's query: each in-flight generation with the version the page shows."""
    return "&".join(f"g={g.pk}.{version(g)}" for g in generations if g.in_flight)


def poll_seconds(generations) -> int:
    """Every second while a video may appear any moment: a task at the provider (not an
    off-peak one, which takes hours) or one being copied; else every two seconds."""
    near = any(
        g.in_flight
        and g.state in (State.CREATED, State.QUEUEING, State.PROCESSING, State.SUCCESS)
        and not g.params.get("off_peak")
        for g in generations
    )
    return POLL_SECONDS_NEAR_DONE if near else POLL_SECONDS


def version(generation: Generation) -> str:
    return f"{generation.state}-{generation.result_status or 'none'}"


def _session_hash(session_key: str | None) -> str:
    return hashlib.sha256((session_key or "").encode()).hexdigest()[:24]


def token_for(request: HttpRequest) -> str:
    """The poller's token for this person in their current team ('' when none)."""
    membership = current_membership(request)
    value = f"{membership.team_id}:{request.user.pk}:{_session_hash(request.session.session_key)}"
    return signing.TimestampSigner(salt=TOKEN_SALT).sign(value)


def _team_from_token(request: HttpRequest) -> int | None:
    """The team a valid token names, for the session cookie this request carries."""
    token = request.GET.get("t", "")
    if not token:
        return None
    try:
        value = signing.TimestampSigner(salt=TOKEN_SALT).unsign(token, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    team_id, _, rest = value.partition(":")
    _, _, session_hash = rest.partition(":")
    cookie = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not cookie or _session_hash(cookie) != session_hash:
        return None
    return int(team_id)


def _seen(request: HttpRequest) -> dict[str, str] | None:
    """{generation id: version the page shows}; None when an id is not one."""
    seen: dict[str, str] = {}
    for item in request.GET.getlist("g")[:MAX_POLLED]:
        gid, _, known = item.partition(".")
        try:
            seen[str(uuid.UUID(gid))] = known
        except ValueError:
            return None
    return seen


@require_GET
def poll(request: HttpRequest) -> HttpResponse:
    """Answers with the generations whose state changed since the page last saw them (as
    out-of-band swaps) and a fresh poller; 204 when nothing changed; HTTP 286, which
    stops htmx polling, once nothing on the page is in flight any more."""
    seen = _seen(request)
    team_id = _team_from_token(request) if seen else None
    if team_id is not None:
        now = {
            str(pk): f"{state}-{result or 'none'}"
            for pk, state, result in Generation.objects.filter(
                team_id=team_id, pk__in=list(seen), hidden_at__isnull=True
            )
            .order_by()  # no sort: the answer is compared as a whole
            .values_list("pk", "state", "result_status")
        }
        if now == seen:
            return HttpResponse(status=204)
    return _full_poll(request, seen)


@login_required
def _full_poll(request: HttpRequest, seen: dict[str, str] | None) -> HttpResponse:
    membership = current_membership(request)
    if seen is None:
        raise Http404
    view = "status" if request.GET.get("view") == "status" else "card"
    related = ["creations", "events"] if view == "status" else ["creations"]
    # Hidden videos leave the polls; a card shows its stars as the history does.
    generations = list(
        with_stars(
            Generation.objects.filter(
                team=membership.team, pk__in=list(seen), hidden_at__isnull=True
            ),
            request.user,
        )
        .select_related("author")
        .prefetch_related(*related)
    )
    if view == "card":
        mark_batch_places(generations)  # a card of a batch keeps its "1 of 4"
    parts = []
    for generation in generations:
        if version(generation) != seen.get(str(generation.pk)):
            if view == "status":
                context = status_context(generation, membership)
            else:
                context = {
                    "generation": generation,
                    "creation": next(iter(generation.creations.all()), None),
                }
            context["oob"] = True
            parts.append(render_to_string(f"generations/{view}.html", context, request))
            if view == "status":  # the side panel's Finished, task and seed change too
                parts.append(render_to_string("generations/facts.html", context, request))
    query = poll_query(generations)
    if query:
        parts.append(
            render_to_string(
                "generations/poller.html",
                {
                    "poll_query": query,
                    "poll_view": view,
                    "poll_seconds": poll_seconds(generations),
                    "oob": True,
                },
                request,
            )
        )
    return HttpResponse("".join(parts), status=200 if query else 286)
