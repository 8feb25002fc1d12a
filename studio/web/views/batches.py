"""A batch: the variants of one request made together, side by side as they finish."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from studio.access import current_membership
from studio.models import Batch, Generation, mark_batch_places
from studio.web.views.generations import card_creations
from studio.web.views.polls import poll_query, poll_seconds


def variant_label(batch: Batch, generation: Generation) -> str:
    """What sets this variant apart from the others: its seed or its model."""
    if batch.mode == Batch.MODELS:
        return generation.model_title
    seed = generation.params.get("seed") or generation.seed_used
    return f"Seed {seed}" if seed else "Random seed"


@require_GET
@login_required
def batch(request: HttpRequest, batch_id) -> HttpResponse:
    """The batch's videos in a grid that fills in as each finishes (the history's poll);
    404 for a batch of another team."""
    membership = current_membership(request)
    found = get_object_or_404(
        Batch.objects.select_related("author"), pk=batch_id, team_id=membership.team_id
    )
    generations = list(
        found.generations.filter(hidden_at__isnull=True)  # hidden ones stay hidden here too
        .select_related("author")
        .prefetch_related(card_creations())
        .order_by("created_at", "pk")
    )
    mark_batch_places(generations)
    for generation in generations:
        generation.variant = variant_label(found, generation)
    first = generations[0] if generations else None
    context = {
        "batch": found,
        "generations": generations,
        "first": first,
        "compare_url": "/compare/?" + urlencode([("ids", g.pk) for g in generations]),
        "poll_query": poll_query(generations),
        "poll_view": "card",
        "poll_seconds": poll_seconds(generations),
        "team": membership.team,
        "membership": membership,
    }
    return render(request, "generations/batch.html", context)
