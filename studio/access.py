"""Who may see what: every lookup of a team's things goes through here, and anything
outside the user's current team is a 404."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from studio.models import Generation, Membership

SESSION_TEAM = "team_id"


def current_membership(request: HttpRequest) -> Membership:
    """The membership of the team the user is working in (404 when they have none)."""
    if not request.user.is_authenticated:
        raise Http404
    memberships = Membership.objects.select_related("team").filter(user=request.user)
    chosen = request.session.get(SESSION_TEAM)
    membership = None
    if chosen:
        membership = memberships.filter(team_id=chosen).first()
    if membership is None:
        membership = memberships.order_by("created_at", "id").first()
    if membership is None:
        raise Http404("You are not in a team yet.")
    return membership


def generation_for(request: HttpRequest, generation_id) -> tuple[Generation, Membership]:
    membership = current_membership(request)
    generation = get_object_or_404(Generation, pk=generation_id, team_id=membership.team_id)
    return generation, membership
