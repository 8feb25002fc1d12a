"""The team page (members, roles, invites, budget, this month's credits), switching
teams, and joining a team through an invite link."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from studio import budgets, teams
from studio.access import (
    SESSION_TEAM,
    current_membership,
    forget_memberships,
    owner_membership,
    switch_team,
)
from studio.models import Invite, Membership


def _a(role: str) -> str:
    """ "an owner", "a member", "a viewer"."""
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"


class BudgetForm(forms.Form):
    monthly_budget = forms.IntegerField(
        label="Monthly budget (credits)",
        required=False,
        min_value=0,
        max_value=2_000_000_000,
        help_text="Leave empty for no limit.",
        widget=forms.NumberInput(attrs={"placeholder": "No limit"}),
    )


class LimitForm(forms.Form):
    monthly_limit = forms.IntegerField(
        label="Monthly limit (credits)",
        required=False,
        min_value=0,
        max_value=2_000_000_000,
        widget=forms.NumberInput(attrs={"placeholder": "No limit"}),
    )


class InviteForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.ROLES, initial=Membership.MEMBER)
    days = forms.TypedChoiceField(
        label="Valid for",
        coerce=int,
        choices=[(d, f"{d} day{'s' if d > 1 else ''}") for d in teams.INVITE_DAYS],
        initial=7,
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.ROLES)


def _get_membership_for_owner(request: HttpRequest, membership_id: int) -> Membership:
    """A membership of the owner's current team; 404 for any other team's."""
    owner = owner_membership(request)
    return get_object_or_404(
        Membership.objects.select_related("user", "team"), pk=membership_id, team_id=owner.team_id
    )


def _team_context(request: HttpRequest, membership: Membership, **extra) -> dict:
    team = membership.team
    is_owner = membership.role == Membership.OWNER
    members = list(team.memberships.select_related("user").order_by("user__username", "id"))
    report = budgets.report(team, names={m.user_id: m.user.username for m in members})
    context = {
        "team": team,
        "membership": membership,
        "is_owner": is_owner,
        "members": members,
        "report": report,
        "member_rows": _member_rows(members, report),
        "member_errors": {},
        "limit_errors": {},
        "roles": Membership.ROLES,
        "limits": {m.user_id: m.monthly_limit for m in members},
    }
    if is_owner:
        context["invites"] = list(teams.pending_invites(team))
        context["invite_form"] = InviteForm()
        context["budget_form"] = BudgetForm(initial={"monthly_budget": team.monthly_budget})
    context.update(extra)
    return context


def _member_rows(members: list[Membership], report: budgets.Report) -> list[tuple]:
    """The per-member table: (membership or None, this month's line or None, credits left
    under their limit or None) for every member, most spent first, then the people who
    left with what they spent."""
    lines = {line.label: line for line in report.by_member}
    rows = []
    for m in members:
        line = lines.pop(m.user.username, None)
        spent = line.total if line else 0
        left = None if m.monthly_limit is None else max(0, m.monthly_limit - spent)
        rows.append((m, line, left))
    rows.sort(key=lambda row: (-(row[1].total if row[1] else 0), row[0].user.username))
    return rows + [(None, line, None) for line in lines.values()]


def _answer(request: HttpRequest, membership: Membership, section: str, status=200, **extra):
    """After a change: htmx gets the section again, a plain POST a redirect (or, with
    an error, the whole page again)."""
    if request.htmx:
        context = _team_context(request, membership, **extra)
        return render(request, f"teams/team.html#{section}", context, status=status)
    if status >= 400:
        context = _team_context(request, membership, **extra)
        return render(request, "teams/team.html", context, status=status)
    return redirect(reverse("team") + f"#{section}")


@require_GET
@login_required
def team(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    return render(request, "teams/team.html", _team_context(request, membership))


@require_POST
@login_required
def set_budget(request: HttpRequest) -> HttpResponse:
    membership = owner_membership(request)
    form = BudgetForm(request.POST)
    if not form.is_valid():
        return _answer(request, membership, "budget", 422, budget_form=form)
    team = membership.team
    team.monthly_budget = form.cleaned_data["monthly_budget"]
    team.save(update_fields=["monthly_budget"])
    if team.monthly_budget is None:
        messages.success(request, "The team has no monthly budget now.")
    else:
        messages.success(request, f"The monthly budget is {team.monthly_budget} credits.")
    return _answer(request, membership, "budget")


@require_POST
@login_required
def set_limit(request: HttpRequest, membership_id: int) -> HttpResponse:
    """An owner sets (or clears) what one member may spend a month, beside the budget."""
    target = _get_membership_for_owner(request, membership_id)
    owner = current_membership(request)
    form = LimitForm(request.POST)
    if not form.is_valid():
        errors = {target.pk: " ".join(form.errors["monthly_limit"])}
        return _answer(request, owner, "budget", 422, limit_errors=errors)
    target.monthly_limit = form.cleaned_data["monthly_limit"]
    target.save(update_fields=["monthly_limit"])
    if target.monthly_limit is None:
        messages.success(request, f"{target.user} has no monthly limit now.")
    else:
        messages.success(
            request, f"{target.user} may spend {target.monthly_limit} credits a month."
        )
    return _answer(request, owner, "budget")


@require_POST
@login_required
def create_invite(request: HttpRequest) -> HttpResponse:
    membership = owner_membership(request)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _answer(request, membership, "invites", 422, invite_form=form)
    invite = teams.create_invite(
        membership.team, form.cleaned_data["role"], form.cleaned_data["days"], request.user
    )
    messages.success(request, f"Invite link made for {_a(invite.role)}: send it below.")
    return _answer(request, membership, "invites")


@require_POST
@login_required
def revoke_invite(request: HttpRequest, invite_id: int) -> HttpResponse:
    membership = owner_membership(request)
    invite = get_object_or_404(
        Invite, pk=invite_id, team_id=membership.team_id, used_at__isnull=True
    )
    invite.delete()
    messages.success(request, "The invite link no longer works.")
    return _answer(request, membership, "invites")


@require_POST
@login_required
def change_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    target = _get_membership_for_owner(request, membership_id)
    owner = current_membership(request)
    form = RoleForm(request.POST)
    if not form.is_valid():
        errors = {target.pk: "Choose owner, member or viewer."}
        return _answer(request, owner, "members", 422, member_errors=errors)
    try:
        teams.change_role(target, form.cleaned_data["role"])
    except teams.LastOwner as exc:
        return _answer(request, owner, "members", 422, member_errors={target.pk: str(exc)})
    if target.user_id == request.user.id and target.role != Membership.OWNER:
        # Demoted themselves: the team page no longer has their owner's tools.
        messages.success(request, f"You are now {_a(target.role)}.")
        return _leave_page(request, reverse("team"))
    messages.success(request, f"{target.user} is now {_a(target.role)}.")
    return _answer(request, owner, "members")


@require_POST
@login_required
def remove_member(request: HttpRequest, membership_id: int) -> HttpResponse:
    target = _get_membership_for_owner(request, membership_id)
    owner = current_membership(request)
    try:
        teams.remove(target)
    except teams.LastOwner as exc:
        return _answer(request, owner, "members", 422, member_errors={target.pk: str(exc)})
    if target.user_id == request.user.id:
        request.session.pop(SESSION_TEAM, None)
        messages.success(request, f"You left {target.team}.")
        return _leave_page(request, reverse("home"))
    messages.success(request, f"{target.user} is no longer in {target.team}.")
    return _answer(request, owner, "members")


def _leave_page(request: HttpRequest, url: str) -> HttpResponse:
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@require_POST
@login_required
def switch(request: HttpRequest) -> HttpResponse:
    membership = switch_team(request, request.POST.get("team", ""))
    messages.success(request, f"You are working in {membership.team}.")
    return redirect("history")


class SignUpForm(UserCreationForm):
    """A new person's account. A password the rules refuse is explained under the password
    itself (Django puts it under the confirmation). After a mistake the page comes back
    with the username kept and both password fields empty: a password is never written
    into a page (where caches, saved pages and browser history would keep it); a note
    beside each field asks for it again."""

    RETYPE = "For your safety the password is not kept after a mistake: type it again."

    class Meta(UserCreationForm.Meta):
        fields = ("username",)

    @property
    def retype_passwords(self) -> bool:
        """Whether the page comes back after a mistake, its password fields emptied."""
        return self.is_bound and bool(self.errors)

    def validate_password_for_user(self, user, password_field_name="password1"):
        super().validate_password_for_user(user, password_field_name)


@require_http_methods(["GET", "POST"])
def accept_invite(request: HttpRequest, token: str) -> HttpResponse:
    """Join a team through an invite link: sign up, or join as the logged-in user."""
    invite = get_object_or_404(Invite.objects.select_related("team", "created_by"), token=token)
    user = request.user
    already = user.is_authenticated and user.memberships.filter(team_id=invite.team_id).exists()
    problem = None if already else teams.invite_problem(invite)
    if problem:
        context = {"invite": invite, "problem": problem}
        return render(request, "teams/invite.html", context, status=410)
    form = None if user.is_authenticated else SignUpForm()
    status = 200
    if request.method == "POST" and not already:
        if not user.is_authenticated:
            form = SignUpForm(request.POST)
        if form is None or form.is_valid():
            try:
                with transaction.atomic():
                    if form is not None:
                        user = form.save()
                    membership = teams.accept(invite, user)
            except teams.InviteGone as exc:
                context = {"invite": invite, "problem": str(exc)}
                return render(request, "teams/invite.html", context, status=410)
            if form is not None:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[SESSION_TEAM] = membership.team_id
            forget_memberships(request)
            messages.success(
                request,
                f"Welcome to {membership.team}: you are {_a(membership.role)}.",
            )
            return redirect("history")
        status = 422
    return render(
        request,
        "teams/invite.html",
        {"invite": invite, "form": form, "already": already},
        status=status,
    )
