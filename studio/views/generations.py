"""The pages of generations: the history, one generation, and the poll behind both."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from studio.access import current_membership, generation_for
from studio.models import Generation

PAGE_SIZE = 24
POLL_SECONDS = 2


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("history")


def poll_query(generations) -> str:
    """The poll URL's query: each in-flight generation with the version the page shows."""
    return "&".join(f"g={g.pk}.{version(g)}" for g in generations if g.in_flight)


def version(generation: Generation) -> str:
    return f"{generation.state}-{generation.result_status or 'none'}"


@login_required
def history(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    generations = (
        Generation.objects.filter(team=membership.team)
        .select_related("author")
        .prefetch_related("creations")
    )
    before = request.GET.get("before")
    if before:
        try:
            anchor = Generation.objects.get(pk=before, team=membership.team)
        except (Generation.DoesNotExist, ValueError, Exception):
            raise Http404 from None
        generations = generations.filter(created_at__lt=anchor.created_at)
    page = list(generations.order_by("-created_at")[: PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    return render(
        request,
        "generations/history.html",
        {
            "generations": page,
            "next_before": page[-1].pk if more else None,
            "poll_query": poll_query(page),
            "poll_view": "card",
            "poll_seconds": POLL_SECONDS,
            "team": membership.team,
            "membership": membership,
        },
    )


@login_required
def detail(request: HttpRequest, generation_id) -> HttpResponse:
    generation, membership = generation_for(request, generation_id)
    return render(
        request,
        "generations/detail.html",
        {
            "g": generation,
            "images": generation.images.all(),
            "creation": generation.creations.first(),
            "poll_query": poll_query([generation]),
            "poll_view": "status",
            "poll_seconds": POLL_SECONDS,
            "team": membership.team,
            "membership": membership,
        },
    )


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
        seen[gid] = known
    related = ["creations", "events"] if view == "status" else ["creations"]
    try:
        generations = list(
            Generation.objects.filter(team=membership.team, pk__in=list(seen))
            .select_related("author")
            .prefetch_related(*related)
        )
    except Exception:  # a malformed id
        raise Http404 from None
    parts = []
    for generation in generations:
        if version(generation) != seen.get(str(generation.pk)):
            context = {
                "g": generation,
                "creation": next(iter(generation.creations.all()), None),
                "oob": True,
            }
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
