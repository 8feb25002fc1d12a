"""Two to four of the team's finished videos side by side, played in step, with the
parameters that differ marked."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from studio.access import current_membership
from studio.models import Creation, Generation, State
from studio.web.views.status import parameters

FEWEST, MOST = 2, 4


def chosen_ids(request: HttpRequest) -> list[uuid.UUID]:
    """The ids asked for, in order, each once; 404 for one that is not an id."""
    ids: list[uuid.UUID] = []
    for value in request.GET.getlist("ids"):
        for part in value.split(","):
            if not part.strip():
                continue
            try:
                gid = uuid.UUID(part.strip())
            except ValueError:
                raise Http404 from None
            if gid not in ids:
                ids.append(gid)
    return ids


def rows(generations: list[Generation]) -> list[dict]:
    """One row per parameter any of them has: its label, a value per video (a dash where
    one has none), and whether they differ."""
    tables = [{"Prompt": g.prompt or "(no prompt)", **dict(parameters(g))} for g in generations]
    labels: list[str] = []
    for table in tables:
        labels += [label for label in table if label not in labels]
    found = []
    for label in labels:
        values = [table.get(label, "—") for table in tables]
        found.append({"label": label, "values": values, "differs": len(set(values)) > 1})
    return found


def why_left_out(generation: Generation, creation: Creation | None) -> str | None:
    """Why one of the team's videos cannot be played here, or None when it can."""
    if generation.hidden_at is not None:
        return "hidden"
    if generation.state != State.SUCCESS:
        return "not finished" if generation.in_flight else generation.get_state_display().lower()
    if creation is None or not creation.video:
        return "not stored in the studio"
    return None


def chosen(membership, ids: list[uuid.UUID]) -> tuple[list, list]:
    """The (generation, video) pairs that can be compared, in the order asked, and the
    (generation, reason) of those that cannot; 404 for an id outside the team."""
    found = {
        g.pk: g
        for g in Generation.objects.filter(team=membership.team, pk__in=ids)
        .select_related("author")
        .prefetch_related(Prefetch("creations", queryset=Creation.objects.order_by("pk")))
    }
    if len(found) != len(ids):
        raise Http404("One of these videos is not in your team.")
    items, left_out = [], []
    for gid in ids:
        generation = found[gid]
        creation = next(iter(generation.creations.all()), None)
        reason = why_left_out(generation, creation)
        if reason:
            left_out.append((generation, reason))
        else:
            items.append((generation, creation))
    return items, left_out


@require_GET
@login_required
def compare(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    ids = chosen_ids(request)
    context = {"team": membership.team, "membership": membership, "fewest": FEWEST, "most": MOST}
    items, left_out = chosen(membership, ids) if len(ids) <= MOST else ([], [])
    context.update(count=len(ids), left_out=left_out)
    if not FEWEST <= len(items) <= MOST:
        return render(request, "generations/compare.html", context, status=400)
    table = rows([generation for generation, _ in items])
    context.update(
        items=items,
        rows=table,
        differing=sum(row["differs"] for row in table),
        longest=max(creation.duration for _, creation in items),
    )
    return render(request, "generations/compare.html", context)
