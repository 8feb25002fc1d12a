"""Who may see what: every lookup of a team's things goes through here, and anything
outside the user's current team is a 404.

A person may belong to several teams; the one they work in is kept in the session
(SESSION_TEAM) and falls back to their oldest membership. Within a team, a missing role
(a viewer trying to generate, a member managing the team) is a 403: they can already see
that the thing exists.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from studio.models import Generation, Membership, ShareLink

SESSION_TEAM = "team_id"
_CACHE = "_studio_memberships"


def memberships(request: HttpRequest) -> list[Membership]:
    """The user's memberships with their teams, oldest first; one query per request."""
    if not request.user.is_authenticated:
        return []
    cached = getattr(request, _CACHE, None)
    if cached is None:
        cached = list(
            Membership.objects.select_related("team")
            .filter(user=request.user)
            .order_by("created_at", "id")
        )
        setattr(request, _CACHE, cached)
    return cached


def forget_memberships(request: HttpRequest) -> None:
    """After joining, leaving or switching teams within a request."""
    if hasattr(request, _CACHE):
        delattr(request, _CACHE)


def pick_membership(request: HttpRequest) -> Membership | None:
    """The membership of the team the user is working in, or None when they have none."""
    mine = memberships(request)
    chosen = request.session.get(SESSION_TEAM)
    for membership in mine:
        if membership.team_id == chosen:
            return membership
    return mine[0] if mine else None


def current_membership(request: HttpRequest) -> Membership:
    """The membership of the team the user is working in (404 when they have none)."""
    if not request.user.is_authenticated:
        raise Http404
    membership = pick_membership(request)
    if membership is None:
        raise Http404("You are not in a team yet.")
    return membership


def switch_team(request: HttpRequest, team_id) -> Membership:
    """Work in another of the user's teams; 404 for a team they are not in."""
    for membership in memberships(request):
        if str(membership.team_id) == str(team_id):
            request.session[SESSION_TEAM] = membership.team_id
            return membership
    raise Http404


def generating_membership(request: HttpRequest) -> Membership:
    """The current membership, when its role may make (and share, cancel) videos."""
    membership = current_membership(request)
    if not membership.can_generate:
        raise PermissionDenied("Viewers can see the history but not make or change videos.")
    return membership


def owner_membership(request: HttpRequest) -> Membership:
    """The current membership, when it is an owner's."""
    membership = current_membership(request)
    if membership.role != Membership.OWNER:
        raise PermissionDenied("Only the team's owners can do this.")
    return membership


def generation_for(request: HttpRequest, generation_id) -> tuple[Generation, Membership]:
    membership = current_membership(request)
    generation = get_object_or_404(Generation, pk=generation_id, team_id=membership.team_id)
    return generation, membership


def generation_to_change(request: HttpRequest, generation_id) -> tuple[Generation, Membership]:
    """A generation of the current team that the user's role may change (cancel, retry,
    send again, share): 404 outside the team, 403 for a viewer."""
    generation, membership = generation_for(request, generation_id)
    if not membership.can_generate:
        raise PermissionDenied("Viewers can see generations but not change them.")
    return generation, membership


def active_share(token: str) -> ShareLink:
    """A share link that has not been revoked, of a video that is not hidden, with its
    generation; 404 otherwise. Hiding a video revokes its links for good (restoring it
    does not bring them back); the hidden check holds even for a video hidden some other
    way."""
    return get_object_or_404(
        ShareLink.objects.select_related("generation"),
        token=token,
        revoked_at__isnull=True,
        generation__hidden_at__isnull=True,
    )
