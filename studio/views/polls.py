"""The page's poll: one request an interval for every in-flight generation on a page."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from studio.access import current_membership
from studio.models import Generation

POLL_SECONDS = 2
PAGE_SIZE = 24


def poll_query(generations) -> str:
    """The poll URL's query: each in-flight generation with the version the page shows."""
    return "&".join(f"g={g.pk}.{version(g)}" for g in generations if g.in_flight)


def version(generation: Generation) -> str:
    return f"{generation.state}-{generation.result_status or 'none'}"


@require_GET
@login_required
def poll(request: HttpRequest) -> HttpResponse:
    """One request a page interval for every in-flight generation on the page.

    Answers with the generations whose state changed since the page last saw them (as
    out-of-band swaps), and a fresh poller; HTTP 286, which stops htmx polling, once
    nothing on the page is in flight any more.
    """
    membership = current_membership(request)
    view = "status" if request.GET.get("view") == "status" else "card"
    seen: dict[str, str] = {}
    for item in request.GET.getlist("g")[: PAGE_SIZE * 2]:
        gid, _, known = item.partition(".")
        try:
            seen[str(uuid.UUID(gid))] = known
        except ValueError:
            raise Http404 from None
    related = ["creations", "events"] if view == "status" else ["creations"]
    generations = list(
        Generation.objects.filter(team=membership.team, pk__in=list(seen))
        .select_related("author")
        .prefetch_related(*related)
    )
    parts = []
    for generation in generations:
        if version(generation) != seen.get(str(generation.pk)):
            if view == "status":
                from studio.views.generations import status_context

                context = status_context(generation, membership)
            else:
                context = {
                    "g": generation,
                    "creation": next(iter(generation.creations.all()), None),
                }
            context["oob"] = True
            parts.append(render_to_string(f"generations/{view}.html", context, request))
    query = poll_query(generations)
    if query:
        parts.append(
            render_to_string(
                "generations/poller.html",
                {"poll_query": query, "poll_view": view, "poll_seconds": POLL_SECONDS, "oob": True},
                request,
            )
        )
    return HttpResponse("".join(parts), status=200 if query else 286)
