"""The rules of team membership: invites, roles, and the last owner.

Every change that could leave a team without an owner locks the team's row first, so
two owners demoting each other at the same moment cannot both succeed.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from studio.models import Invite, Membership, Team

INVITE_DAYS = (1, 7, 30)


class LastOwner(Exception):
    """The change would leave the team without an owner."""


class InviteGone(Exception):
    """The invite was used already, or has expired."""


def lock(team_id: int) -> Team:
    """Lock the team's row until the transaction ends (FOR NO KEY UPDATE on PostgreSQL)."""
    return Team.objects.select_for_update(
        no_key=connection.features.has_select_for_no_key_update
    ).get(pk=team_id)


def check_owner_remains(membership: Membership, new_role: str | None) -> None:
    if membership.role != Membership.OWNER or new_role == Membership.OWNER:
        return
    others = Membership.objects.filter(team_id=membership.team_id, role=Membership.OWNER).exclude(
        pk=membership.pk
    )
    if not others.exists():
        raise LastOwner(
            f"{membership.user} is the last owner of {membership.team}: make someone else "
            "an owner first."
        )


def change_role(membership: Membership, role: str) -> Membership:
    with transaction.atomic():
        lock(membership.team_id)
        membership.refresh_from_db()
        check_owner_remains(membership, role)
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def remove(membership: Membership) -> None:
    with transaction.atomic():
        lock(membership.team_id)
        membership.refresh_from_db()
        check_owner_remains(membership, None)
        membership.delete()


def create_invite(team: Team, role: str, days: int, created_by) -> Invite:
    return Invite.objects.create(
        team=team,
        role=role,
        created_by=created_by,
        expires_at=timezone.now() + timedelta(days=days),
    )


def pending_invites(team: Team):
    return team.invites.filter(used_at__isnull=True, expires_at__gt=timezone.now()).order_by(
        "-created_at"
    )


def invite_problem(invite: Invite) -> str | None:
    """Why an invite can no longer be used, in the words of the person holding it."""
    if invite.used_at:
        return "This invite link has already been used."
    if invite.expires_at <= timezone.now():
        return "This invite link has expired."
    return None


def accept(invite: Invite, user) -> Membership:
    """Use the invite for `user`: single use, claimed with a conditional UPDATE.

    Call inside a transaction that also creates the user, so a lost claim undoes both.
    """
    now = timezone.now()
    claimed = Invite.objects.filter(pk=invite.pk, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now, used_by=user
    )
    if not claimed:
        raise InviteGone("This invite link has just been used or has expired.")
    membership, _ = Membership.objects.get_or_create(
        user=user, team_id=invite.team_id, defaults={"role": invite.role}
    )
    return membership
