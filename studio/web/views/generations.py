"""The pages of generations: the history, one generation, and the poll behind both."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from studio import catalog
from studio.access import generation_for, pick_membership
from studio.models import (
    IN_PROGRESS,
    Creation,
    Generation,
    Membership,
    State,
    mark_batch_places,
)
from studio.web.views.gallery import MAX_SELECTED, gallery_context, with_stars
from studio.web.views.polls import poll_query, poll_seconds
from studio.web.views.status import status_context

PAGE_SIZE = 24
MAX_STAR_PAGE = 200
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

STATE_FILTERS = {
    "active": ("In progress", Q(state__in=IN_PROGRESS)),
    "success": ("Done", Q(state=State.SUCCESS)),
    "failed": ("Failed", Q(state=State.FAILED)),
    "cancelled": ("Cancelled", Q(state=State.CANCELLED)),
}
MODEL_NAMES = sorted({m.name for e in catalog.ENDPOINTS for m in catalog.models_for(e)})


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    if pick_membership(request) is None:
        return render(request, "teams/no_team.html", status=403)
    return redirect("history")


class HistoryFilters(forms.Form):
    q = forms.CharField(label="Search prompts", required=False, max_length=200)
    mine = forms.BooleanField(label="Only mine", required=False)
    state = forms.ChoiceField(
        label="State",
        required=False,
        choices=[("", "Any state")] + [(k, label) for k, (label, _) in STATE_FILTERS.items()],
    )
    model = forms.ChoiceField(
        label="Model", required=False, choices=[("", "Any model")] + [(m, m) for m in MODEL_NAMES]
    )
    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[("", "Any kind")] + [(e, catalog.ENDPOINT_LABELS[e]) for e in catalog.ENDPOINTS],
    )
    starred = forms.BooleanField(label="Starred only", required=False)
    sort = forms.ChoiceField(
        label="Sort", required=False, choices=[("", "Newest"), ("stars", "Most stars")]
    )
    # Owners only: the hidden videos, to restore (ignored for everyone else).
    hidden = forms.BooleanField(label="Hidden videos", required=False)
    before = forms.CharField(required=False, widget=forms.HiddenInput)
    # The page number, for the "Most stars" order only: star counts change between two
    # pages, so a cursor on them would be no steadier than an offset, and an offset is
    # plain. MAX_STAR_PAGE bounds how far an offset may read.
    page = forms.IntegerField(required=False, min_value=1, max_value=MAX_STAR_PAGE)

    def clean_before(self) -> tuple[datetime, uuid.UUID] | None:
        """The keyset cursor: the last card's (created_at, id), as `<microseconds>_<uuid>`."""
        value = self.cleaned_data["before"]
        if not value:
            return None
        micros, _, gid = value.partition("_")
        try:
            return EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(gid)
        except (ValueError, OverflowError, OSError):
            raise forms.ValidationError(
                "This link to an older page is broken; here are the newest videos."
            ) from None

    def filter(self, generations, user):
        """Apply the valid filters; an invalid one is shown beside its field and ignored."""
        data = self.cleaned_data if self.is_bound else {}
        if data.get("q"):
            generations = generations.matching(data["q"])
        if data.get("mine"):
            generations = generations.filter(author=user)
        if data.get("state"):
            generations = generations.filter(STATE_FILTERS[data["state"]][1])
        if data.get("model"):
            generations = generations.filter(model=data["model"])
        if data.get("kind"):  # the query keeps its name, so saved links still work
            generations = generations.filter(endpoint=data["kind"])
        if data.get("starred"):
            generations = generations.filter(starred=True)
        if data.get("before") and not self.by_stars:
            at, gid = data["before"]
            # (created_at, id) < (at, gid); the first term alone bounds the index scan,
            # which starts at the cursor instead of reading every newer row.
            generations = generations.filter(
                Q(created_at__lte=at), Q(created_at__lt=at) | Q(created_at=at, pk__lt=gid)
            )
        return generations

    @property
    def by_stars(self) -> bool:
        return self.is_bound and self.cleaned_data.get("sort") == "stars"

    def query_without_cursor(self) -> dict:
        data = self.cleaned_data if self.is_bound else {}
        pages = ("before", "page")
        return {k: ("1" if v is True else v) for k, v in data.items() if v and k not in pages}

    def ordered_page(self, generations) -> tuple[list, str | None]:
        """One page of cards and the link to the next: newest first by a keyset cursor,
        or most stars first by page number."""
        number = (self.cleaned_data.get("page") or 1) if self.by_stars else 1
        if self.by_stars:
            start = (number - 1) * PAGE_SIZE
            ordered = generations.order_by("-star_count", "-created_at", "-pk")
            page = list(ordered[start : start + PAGE_SIZE + 1])
        else:
            page = list(generations.order_by("-created_at", "-pk")[: PAGE_SIZE + 1])
        if len(page) <= PAGE_SIZE:
            return page, None
        page = page[:PAGE_SIZE]
        following = {"page": number + 1} if self.by_stars else {"before": cursor(page[-1])}
        query = self.query_without_cursor() if self.is_bound else {}
        return page, "?" + urlencode({**query, **following})


def card_creations() -> Prefetch:
    """What a card shows of its video, as a list (`generation.card_creations`): for a prefetched
    manager, Django builds a queryset per card to hold its rows, milliseconds a page.
    A new one each request, as prefetching writes hints on its queryset."""
    return Prefetch(
        "creations",
        queryset=Creation.objects.only("id", "generation_id", "video", "cover", "duration"),
        to_attr="card_creations",
    )


def cursor(generation: Generation) -> str:
    micros = (generation.created_at - EPOCH) // timedelta(microseconds=1)
    return f"{micros}_{generation.pk}"


@require_GET
@login_required
def history(request: HttpRequest) -> HttpResponse:
    membership = pick_membership(request)
    if membership is None:
        return render(request, "teams/no_team.html", status=403)
    filters = HistoryFilters(request.GET or None)
    if filters.is_bound:
        filters.is_valid()  # errors show beside their fields; the valid filters still apply
    showing_hidden = membership.role == Membership.OWNER and bool(
        filters.is_bound and filters.cleaned_data.get("hidden")
    )
    generations = filters.filter(
        with_stars(
            Generation.objects.filter(team=membership.team, hidden_at__isnull=not showing_hidden)
            .select_related("author", "hidden_by")
            .prefetch_related(card_creations()),
            request.user,
        ),
        request.user,
    )
    page, next_url = filters.ordered_page(generations)
    mark_batch_places(page)  # "1 of 4" on a batch's cards, in one query
    query = filters.query_without_cursor() if filters.is_bound else {}
    template = "generations/history.html"
    if request.htmx and request.htmx.target == "results":
        template += "#results"  # a filter changed: only the cards
    response = render(
        request,
        template,
        {
            "generations": page,
            "filters": filters,
            "filtered": bool(query),
            "first_page_url": "?" + urlencode(query) if query else "?",
            "next_url": next_url,
            "older": bool(
                filters.is_bound
                and (filters.cleaned_data.get("before") or filters.cleaned_data.get("page"))
            ),
            "showing_hidden": showing_hidden,
            "max_selected": MAX_SELECTED,
            "next_path": request.get_full_path(),
            "poll_query": poll_query(page),
            "poll_view": "card",
            "poll_seconds": poll_seconds(page),
            "team": membership.team,
            "membership": membership,
        },
    )
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def detail_context(generation: Generation, membership: Membership) -> dict:
    return {
        **status_context(generation, membership),
        "images": generation.images.all(),
        "poll_query": poll_query([generation]),
        "poll_view": "status",
        "poll_seconds": poll_seconds([generation]),
        "team": membership.team,
    }


@require_GET
@login_required
def detail(request: HttpRequest, generation_id) -> HttpResponse:
    generation, membership = generation_for(request, generation_id)
    context = detail_context(generation, membership)
    context.update(gallery_context(request, generation, membership))
    return render(request, "generations/detail.html", context)


@require_GET
@login_required
def player(request: HttpRequest, generation_id) -> HttpResponse:
    """A card's video, loaded when someone clicks play (htmx); the page itself otherwise."""
    generation, _ = generation_for(request, generation_id)
    if not request.htmx:
        return redirect("generation", generation.pk)
    creation = generation.creations.first()
    if creation is None or not creation.video:
        raise Http404
    return render(
        request, "generations/card.html#player", {"generation": generation, "creation": creation}
    )
