"""The pages of generations: the two forms, the history, one generation, the poll."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET

from studio import catalog, jobs
from studio.access import current_membership, generation_for
from studio.forms import GenerationForm
from studio.models import Generation, InputImage, State

PAGE_SIZE = 24
POLL_SECONDS = 2


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("history")


@login_required
def generate(request: HttpRequest, endpoint: str) -> HttpResponse:
    if endpoint not in catalog.ENDPOINTS:
        raise Http404
    membership = current_membership(request)
    if not membership.can_generate:
        raise PermissionDenied("Viewers can see the history but not make videos.")
    status = 200
    if request.method == "POST":
        form = GenerationForm(endpoint, request.POST, request.FILES)
        if form.is_valid():
            generation = _create(form, membership, request.user)
            url = reverse("generation", args=[generation.pk])
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
        status = 422
    else:
        form = GenerationForm(endpoint)
    return render(
        request,
        "generations/new.html",
        {
            "form": form,
            "endpoint": endpoint,
            "endpoint_label": catalog.ENDPOINT_LABELS[endpoint],
            "models": catalog.models_for(endpoint),
            "team": membership.team,
        },
        status=status,
    )


def _create(form: GenerationForm, membership, user) -> Generation:
    params = {k: v for k, v in form.params.items() if k not in ("model", "prompt")}
    with transaction.atomic():
        generation = Generation.objects.create(
            team=membership.team,
            author=user,
            kind=form.endpoint,
            model=form.params["model"],
            prompt=form.params.get("prompt", ""),
            params=params,
            estimated_credits=catalog.estimate_credits(
                form.endpoint,
                form.params["model"],
                params["duration"],
                params["resolution"],
                off_peak=params.get("off_peak", False),
                is_rec=params.get("is_rec", False),
            ),
        )
        for position, name in enumerate(form.image_field_names()):
            info = form.image_infos[name]
            image = InputImage(
                generation=generation,
                position=position,
                format=info.format,
                width=info.width,
                height=info.height,
                size=info.size,
                original_name=form.cleaned_data[name].name[:255],
            )
            image.file.save(
                f"{position}.{info.format}", ContentFile(form.image_bytes[name]), save=False
            )
            image.save()
        generation.events.create(state=State.QUEUED, source="form")
        jobs.enqueue_submit(generation)
    return generation


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
