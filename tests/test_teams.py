"""The team page, roles, invites and switching between teams."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from studio import teams as rules
from studio.access import SESSION_TEAM
from studio.models import Invite, Membership, ShareLink, Team
from tests.conftest import PASSWORD, password_hash
from tests.factories import make_generation

pytestmark = pytest.mark.usefixtures("media_root")
HTMX = {"HX-Request": "true"}
NEW_PASSWORD = "a quiet harbour at dawn"


def invite_for(team, role=Membership.MEMBER, *, days=7, by=None) -> Invite:
    return Invite.objects.create(
        team=team, role=role, created_by=by, expires_at=timezone.now() + timedelta(days=days)
    )


def membership(user, team) -> Membership:
    return Membership.objects.get(user=user, team=team)


# The team page


def test_it_shows_members_and_this_months_credits(client, team, alice, bob, vera):
    make_generation(team, alice, state="success", credits=6, model="viduq1")
    make_generation(team, bob, state="processing")  # estimate 2
    client.force_login(vera)
    response = client.get(reverse("team"))
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("alice", "bob", "vera"):
        assert name in html
    assert "<strong>8</strong> credits spent" in html
    assert "(6 charged, 2 est.)" in html
    assert "viduq1" in html and "viduq2-turbo" in html
    assert "No monthly budget" in html
    # A viewer sees the team, but not the owner's tools.
    assert reverse("invite_create") not in html and reverse("team_budget") not in html


def test_it_shows_the_budget_left(client, team, alice):
    Team.objects.filter(pk=team.pk).update(monthly_budget=100)
    make_generation(team, alice, credits=30)
    client.force_login(alice)
    html = client.get(reverse("team")).content.decode()
    assert "70 of 100 credits left this month" in html


def test_owners_see_their_tools(client, team, alice):
    client.force_login(alice)
    html = client.get(reverse("team")).content.decode()
    assert reverse("invite_create") in html and reverse("team_budget") in html


# The budget


def test_an_owner_sets_the_budget(client, team, alice):
    client.force_login(alice)
    response = client.post(reverse("team_budget"), {"monthly_budget": "250"})
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.monthly_budget == 250


def test_an_empty_budget_means_no_limit(client, team, alice):
    Team.objects.filter(pk=team.pk).update(monthly_budget=5)
    client.force_login(alice)
    client.post(reverse("team_budget"), {"monthly_budget": ""})
    team.refresh_from_db()
    assert team.monthly_budget is None


def test_it_explains_a_bad_budget_beside_the_field(client, team, alice):
    client.force_login(alice)
    response = client.post(reverse("team_budget"), {"monthly_budget": "-4"})
    assert response.status_code == 422
    assert 'id="error-monthly_budget"' in response.content.decode()
    team.refresh_from_db()
    assert team.monthly_budget is None


def test_htmx_gets_the_budget_section_back(client, team, alice):
    client.force_login(alice)
    response = client.post(reverse("team_budget"), {"monthly_budget": "40"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="panel" id="budget">')
    assert "40 of 40 credits left" in html
    assert 'id="messages" class="messages" role="status" aria-live="polite" hx-swap-oob' in html


def test_members_cannot_set_the_budget(client, team, bob):
    client.force_login(bob)
    assert client.post(reverse("team_budget"), {"monthly_budget": "1"}).status_code == 403
    team.refresh_from_db()
    assert team.monthly_budget is None


# Invites


def test_an_owner_makes_an_invite_link(client, team, alice):
    client.force_login(alice)
    before = timezone.now()
    response = client.post(reverse("invite_create"), {"role": "viewer", "days": "1"})
    assert response.status_code == 302
    invite = Invite.objects.get()
    assert (invite.team, invite.role, invite.created_by) == (team, "viewer", alice)
    assert before + timedelta(hours=23) < invite.expires_at < before + timedelta(hours=25)
    assert len(invite.token) >= 43  # 256 bits
    html = client.get(reverse("team")).content.decode()
    assert f"http://testserver/invite/{invite.token}/" in html


def test_invite_links_use_the_public_url(client, team, alice, settings):
    settings.STUDIO_PUBLIC_URL = "https://studio.example.com"
    invite = invite_for(team)
    client.force_login(alice)
    html = client.get(reverse("team")).content.decode()
    assert f"https://studio.example.com/invite/{invite.token}/" in html


def test_it_refuses_an_unknown_role(client, team, alice):
    client.force_login(alice)
    response = client.post(reverse("invite_create"), {"role": "admin", "days": "7"})
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert not Invite.objects.exists()


def test_members_cannot_invite(client, team, bob):
    client.force_login(bob)
    assert client.post(reverse("invite_create"), {"role": "owner", "days": "7"}).status_code == 403
    assert not Invite.objects.exists()


def test_an_owner_revokes_an_invite(client, team, alice):
    invite = invite_for(team)
    client.force_login(alice)
    assert client.post(reverse("invite_revoke", args=[invite.pk])).status_code == 302
    assert not Invite.objects.exists()
    assert client.get(reverse("invite", args=[invite.token])).status_code == 404


def test_a_new_person_signs_up_through_an_invite(client, team, alice):
    g = make_generation(team, alice)
    invite = invite_for(team, Membership.VIEWER, by=alice)
    url = reverse("invite", args=[invite.token])
    page = client.get(url)
    assert page.status_code == 200
    assert "alice invites you" in page.content.decode()
    response = client.post(
        url, {"username": "nina", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("history")
    nina = get_user_model().objects.get(username="nina")
    assert membership(nina, team).role == Membership.VIEWER
    invite.refresh_from_db()
    assert invite.used_by == nina and invite.used_at is not None
    # Logged in, working in the team.
    assert str(g.pk) in client.get(reverse("history")).content.decode()
    assert client.session[SESSION_TEAM] == team.pk


def test_an_invite_works_once(client, team):
    invite = invite_for(team)
    url = reverse("invite", args=[invite.token])
    client.post(url, {"username": "nina", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    client.logout()
    response = client.post(
        url, {"username": "otto", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 410
    assert "already been used" in response.content.decode()
    assert not get_user_model().objects.filter(username="otto").exists()


def test_an_expired_invite_says_so(client, team, alice):
    invite = invite_for(team, days=-1, by=alice)
    response = client.get(reverse("invite", args=[invite.token]))
    assert response.status_code == 410
    html = response.content.decode()
    assert "has expired" in html and "Ask alice for a new link" in html


def test_an_unknown_invite_is_404(client, db):
    assert client.get(reverse("invite", args=["no-such-token"])).status_code == 404


def test_a_sign_up_mistake_is_explained_and_keeps_the_invite(client, team):
    invite = invite_for(team)
    response = client.post(
        reverse("invite", args=[invite.token]),
        {"username": "nina", "password1": NEW_PASSWORD, "password2": "something else"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="error-password2"' in html
    invite.refresh_from_db()
    assert invite.used_at is None
    assert not get_user_model().objects.filter(username="nina").exists()


def test_a_refused_password_is_explained_under_it_and_asked_for_again(client, team):
    invite = invite_for(team)
    response = client.post(
        reverse("invite", args=[invite.token]),
        {"username": "nina", "password1": "short", "password2": "short"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    password1 = html[html.index('for="id_password1"') : html.index('for="id_password2"')]
    password2 = html[html.index('for="id_password2"') : html.index("Sign up and join")]
    assert 'id="error-password1"' in password1 and "too short" in password1
    assert "error-password2" not in password2 and "too short" not in password2
    assert 'value="nina"' in html
    # The passwords are not written back into the page; beside each, a note says so.
    assert "short" not in html.replace("too short", "")
    for field in (password1, password2):
        assert re.search(r'<input type="password"(?![^>]*value=)[^>]*>', field)
        assert "type it again" in field


def test_after_any_sign_up_mistake_the_passwords_are_not_sent_back(client, team, alice):
    invite = invite_for(team)
    response = client.post(
        reverse("invite", args=[invite.token]),
        {"username": "alice", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert NEW_PASSWORD not in html
    assert 'id="retype-password1"' in html and 'id="retype-password2"' in html
    # A first visit has no such note.
    assert "retype-" not in client.get(reverse("invite", args=[invite.token])).content.decode()


def test_a_taken_username_is_explained(client, team, alice):
    invite = invite_for(team)
    response = client.post(
        reverse("invite", args=[invite.token]),
        {"username": "alice", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 422
    assert 'id="error-username"' in response.content.decode()


def test_a_logged_in_person_joins_a_second_team(client, team, charlie):
    invite = invite_for(team, Membership.MEMBER)
    client.force_login(charlie)
    url = reverse("invite", args=[invite.token])
    assert "Join Alpha" in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    assert membership(charlie, team).role == Membership.MEMBER
    assert charlie.memberships.count() == 2
    assert client.session[SESSION_TEAM] == team.pk


def test_a_member_opening_an_invite_to_their_team_does_not_use_it(client, team, bob):
    invite = invite_for(team, Membership.OWNER)
    client.force_login(bob)
    url = reverse("invite", args=[invite.token])
    assert "already in Alpha" in client.post(url).content.decode()
    invite.refresh_from_db()
    assert invite.used_at is None
    assert membership(bob, team).role == Membership.MEMBER


def test_an_invite_is_claimed_once_even_when_read_twice(team, alice, bob):
    invite = invite_for(team)
    rules.accept(invite, alice)  # the same row, read before either claim
    with pytest.raises(rules.InviteGone):
        rules.accept(invite, bob)


# Roles and members


def test_an_owner_changes_a_role(client, team, alice, bob):
    client.force_login(alice)
    target = membership(bob, team)
    response = client.post(reverse("member_role", args=[target.pk]), {"role": "viewer"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.role == Membership.VIEWER


def test_htmx_gets_the_members_section_back(client, team, alice, bob):
    client.force_login(alice)
    target = membership(bob, team)
    response = client.post(
        reverse("member_role", args=[target.pk]), {"role": "owner"}, headers=HTMX
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="panel" id="members">')
    assert "bob is now an owner." in html  # the message, swapped in out of band


def test_the_last_owner_cannot_be_demoted(client, team, alice, bob):
    client.force_login(alice)
    own = membership(alice, team)
    response = client.post(reverse("member_role", args=[own.pk]), {"role": "member"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "alice is the last owner of Alpha" in html
    own.refresh_from_db()
    assert own.role == Membership.OWNER


def test_the_last_owner_cannot_be_removed(client, team, alice):
    client.force_login(alice)
    own = membership(alice, team)
    response = client.post(reverse("member_remove", args=[own.pk]))
    assert response.status_code == 422
    assert Membership.objects.filter(pk=own.pk).exists()


def test_an_owner_steps_down_when_another_owner_remains(client, team, alice, bob):
    Membership.objects.filter(user=bob).update(role=Membership.OWNER)
    client.force_login(alice)
    own = membership(alice, team)
    response = client.post(reverse("member_role", args=[own.pk]), {"role": "member"})
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.role == Membership.MEMBER
    assert client.post(reverse("team_budget"), {"monthly_budget": "1"}).status_code == 403


def test_an_owner_removes_a_member(client, team, alice, bob):
    make_generation(team, bob, credits=4)
    client.force_login(alice)
    response = client.post(reverse("member_remove", args=[membership(bob, team).pk]))
    assert response.status_code == 302
    assert not bob.memberships.exists()
    # What they spent still counts, under their name.
    assert "bob (no longer in the team)" in client.get(reverse("team")).content.decode()


def test_a_removed_member_loses_access_at_once(client, team, alice, bob):
    g = make_generation(team, alice)
    client.force_login(bob)
    assert client.get(reverse("generation", args=[g.pk])).status_code == 200
    membership(bob, team).delete()
    assert client.get(reverse("generation", args=[g.pk])).status_code == 404


def test_an_owner_leaves_when_another_owner_remains(client, team, alice, bob):
    Membership.objects.filter(user=bob).update(role=Membership.OWNER)
    client.force_login(alice)
    response = client.post(reverse("member_remove", args=[membership(alice, team).pk]))
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert not alice.memberships.exists()
    assert client.get(reverse("history")).status_code == 403  # "you are not in a team"


def test_members_cannot_change_roles_or_remove_people(client, team, alice, bob, vera):
    client.force_login(bob)
    target = membership(vera, team)
    assert (
        client.post(reverse("member_role", args=[target.pk]), {"role": "owner"}).status_code == 403
    )
    assert client.post(reverse("member_remove", args=[target.pk])).status_code == 403
    target.refresh_from_db()
    assert target.role == Membership.VIEWER


def test_an_owner_cannot_touch_another_teams_members(client, team, alice, charlie):
    client.force_login(charlie)
    target = membership(alice, team)
    assert (
        client.post(reverse("member_role", args=[target.pk]), {"role": "viewer"}).status_code == 404
    )
    assert client.post(reverse("member_remove", args=[target.pk])).status_code == 404


def test_two_owners_cannot_demote_each_other_into_no_owner(team, alice, bob):
    Membership.objects.filter(user=bob).update(role=Membership.OWNER)
    a, b = membership(alice, team), membership(bob, team)
    rules.change_role(a, Membership.MEMBER)
    with pytest.raises(rules.LastOwner):
        rules.change_role(b, Membership.MEMBER)  # b read while a was still an owner


# Several teams


@pytest.fixture
def alice_in_two_teams(alice, charlie):
    other = charlie.memberships.get().team
    Membership.objects.create(user=alice, team=other, role=Membership.VIEWER)
    return other


def test_a_person_switches_teams(client, team, alice, charlie, alice_in_two_teams):
    ours = make_generation(team, alice)
    theirs = make_generation(alice_in_two_teams, charlie)
    client.force_login(alice)
    html = client.get(reverse("history")).content.decode()
    assert str(ours.pk) in html and str(theirs.pk) not in html
    assert "Other" in html  # the team menu offers the other team
    response = client.post(reverse("team_switch"), {"team": alice_in_two_teams.pk})
    assert response.status_code == 302
    html = client.get(reverse("history")).content.decode()
    assert str(theirs.pk) in html and str(ours.pk) not in html
    # As a viewer there, alice cannot generate.
    assert client.get(reverse("generate", args=["img2video"])).status_code == 403
    assert client.get(reverse("generation", args=[ours.pk])).status_code == 404


def test_it_refuses_to_switch_to_a_team_of_others(client, team, alice, charlie):
    client.force_login(alice)
    other = charlie.memberships.get().team
    assert client.post(reverse("team_switch"), {"team": other.pk}).status_code == 404
    assert client.post(reverse("team_switch"), {"team": "nonsense"}).status_code == 404


def test_a_person_without_a_team_is_told_so(client, django_user_model):
    lone = django_user_model.objects.create(username="lone", password=password_hash())
    client.force_login(lone)
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "not in a team" in response.content.decode()


# The Django admin


@pytest.fixture
def admin_client_(client, django_user_model, team, alice):
    root = django_user_model.objects.create_superuser("root", password=PASSWORD)
    client.force_login(root)
    return client


@pytest.mark.parametrize(
    "model", ["team", "membership", "invite", "generation", "sharelink", "stagedimage", "creation"]
)
def test_the_admin_lists_and_adds(admin_client_, model, team, alice):
    make_generation(team, alice)
    assert admin_client_.get(reverse(f"admin:studio_{model}_changelist")).status_code == 200
    assert admin_client_.get(reverse(f"admin:studio_{model}_add")).status_code == 200


def test_the_admin_edits_a_team_with_its_people_and_invites(admin_client_, team, alice):
    invite_for(team)
    response = admin_client_.get(reverse("admin:studio_team_change", args=[team.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "monthly_budget" in html and "alice" in html and "invites-0-role" in html


def test_the_admin_makes_invites_that_expire(admin_client_, team):
    response = admin_client_.get(reverse("admin:studio_invite_add"))
    assert 'name="expires_at_0"' in response.content.decode()
    expires = timezone.now() + timedelta(days=3)
    response = admin_client_.post(
        reverse("admin:studio_invite_add"),
        {
            "team": team.pk,
            "role": "viewer",
            "expires_at_0": expires.strftime("%Y-%m-%d"),
            "expires_at_1": expires.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302
    invite = Invite.objects.get()
    assert invite.created_by.username == "root" and len(invite.token) >= 43
    page = admin_client_.get(reverse("admin:studio_invite_change", args=[invite.pk]))
    assert f"/invite/{invite.token}/" in page.content.decode()


def test_the_admin_keeps_a_teams_last_owner(admin_client_, team, alice):
    own = membership(alice, team)
    response = admin_client_.post(
        reverse("admin:studio_membership_change", args=[own.pk]),
        {"user": alice.pk, "team": team.pk, "role": "member"},
    )
    assert response.status_code == 200
    assert "last owner of Alpha" in response.content.decode()
    admin_client_.post(reverse("admin:studio_membership_delete", args=[own.pk]), {"post": "yes"})
    assert Membership.objects.filter(pk=own.pk).exists()


def test_the_admin_revokes_shared_links(admin_client_, team, alice):
    share = ShareLink.objects.create(generation=make_generation(team, alice), created_by=alice)
    admin_client_.post(
        reverse("admin:studio_sharelink_changelist"),
        {"action": "revoke", "_selected_action": [share.pk]},
    )
    share.refresh_from_db()
    assert share.revoked_at is not None
