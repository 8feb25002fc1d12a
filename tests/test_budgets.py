"""Credits spent this month, and the monthly budget checked atomically at submit time."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from studio import budgets
from studio.models import Generation, Team
from tests.conftest import FormClient, drain_queue, png, require
from tests.factories import make_generation

pytestmark = pytest.mark.usefixtures("media_root")

# viduq2-turbo, 3 s at 540p: the catalog estimates 3 credits.
FORM = {"model": "viduq2-turbo", "prompt": "a slow pan", "duration": "3", "resolution": "540p"}


def submit(client):
    image = SimpleUploadedFile("frame.png", png(), "image/png")
    return client.post(reverse("generate", args=["img2video"]), {**FORM, "images": image})


def set_budget(team, credits):
    Team.objects.filter(pk=team.pk).update(monthly_budget=credits)


def test_it_counts_vidus_figure_else_the_estimate(team, alice):
    make_generation(team, alice, state="success", credits=7)  # estimate 2
    make_generation(team, alice, state="processing")  # estimate 2, no figure yet
    assert budgets.spent_this_month(team) == 9


def test_it_counts_uncharged_failures_as_nothing(team, alice):
    make_generation(team, alice, state="failed", credits=0)
    make_generation(team, alice, state="cancelled", credits=0)
    make_generation(team, alice, state="failed")  # refused before Vidu charged anything
    make_generation(team, alice, state="failed", credits=4)  # charged anyway
    assert budgets.spent_this_month(team) == 4


def test_it_counts_this_calendar_month_only(team, alice):
    now = datetime(2026, 3, 15, 12, tzinfo=UTC)
    last_month = make_generation(team, alice, credits=50)
    Generation.objects.filter(pk=last_month.pk).update(
        created_at=datetime(2026, 2, 28, 23, tzinfo=UTC)
    )
    this_month = make_generation(team, alice, credits=5)
    Generation.objects.filter(pk=this_month.pk).update(created_at=datetime(2026, 3, 1, tzinfo=UTC))
    assert budgets.spent_this_month(team, now) == 5
    assert budgets.month_start(now) == datetime(2026, 3, 1, tzinfo=UTC)
    assert budgets.next_month_start(now) == datetime(2026, 4, 1, tzinfo=UTC)


def test_it_counts_only_the_team(team, alice, charlie):
    make_generation(charlie.memberships.get().team, charlie, credits=100)
    make_generation(team, alice, credits=1)
    assert budgets.spent_this_month(team) == 1


def test_the_report_splits_by_member_and_model_and_labels_estimates(team, alice, bob):
    make_generation(team, alice, state="success", credits=6, model="viduq1")
    make_generation(team, bob, state="processing", model="viduq2-turbo")  # ~2, estimated
    make_generation(team, bob, state="success", credits=3, model="viduq2-turbo")
    report = budgets.report(team)
    assert (report.total.total, report.total.charged, report.total.estimated) == (11, 9, 2)
    members = {line.label: (line.videos, line.charged, line.estimated) for line in report.by_member}
    assert members == {"alice": (1, 6, 0), "bob": (2, 3, 2)}
    models = {line.label: (line.videos, line.total) for line in report.by_model}
    assert models == {"viduq1": (1, 6), "viduq2-turbo": (2, 5)}
    assert report.remaining is None


def test_the_report_names_people_who_left(team, alice, bob):
    make_generation(team, bob, credits=3)
    bob.memberships.all().delete()
    [line] = budgets.report(team).by_member
    assert line.label == "bob (no longer in the team)"


def test_a_submit_within_the_budget_goes_through(client, team, bob):
    set_budget(team, 3)
    client.force_login(bob)
    assert submit(client).status_code == 302
    assert Generation.objects.count() == 1


def test_a_submit_past_the_budget_is_refused_saying_what_is_left(client, team, alice, bob):
    set_budget(team, 10)
    make_generation(team, alice, state="success", credits=8)
    client.force_login(bob)
    response = submit(client)
    assert response.status_code == 422
    html = response.content.decode()
    assert "monthly budget of 10 credits" in html
    assert "it needs about 3, and 2 credits are left this month" in html
    assert "a slow pan" in html  # the form keeps what was typed
    assert Generation.objects.count() == 1
    assert drain_queue() == []


def test_failed_uncharged_videos_leave_the_budget_alone(client, team, alice, bob):
    set_budget(team, 3)
    make_generation(team, alice, state="failed", credits=0)
    make_generation(team, alice, state="cancelled")
    client.force_login(bob)
    assert submit(client).status_code == 302


def test_a_team_without_a_budget_has_no_limit(client, team, alice, bob):
    make_generation(team, alice, state="success", credits=10_000)
    client.force_login(bob)
    assert submit(client).status_code == 302


def test_another_teams_spending_does_not_count(client, team, bob, charlie):
    set_budget(team, 3)
    make_generation(charlie.memberships.get().team, charlie, credits=500)
    client.force_login(bob)
    assert submit(client).status_code == 302


def submit_at_once(user, count: int, monkeypatch) -> list[int]:
    """`count` submits from their own threads (own database connections), released
    together; the budget check lingers, so unserialized checks would overlap."""
    real_spent = budgets.spent_this_month

    def slow_spent(*args, **kwargs):
        total = real_spent(*args, **kwargs)
        time.sleep(0.3)
        return total

    monkeypatch.setattr(budgets, "spent_this_month", slow_spent)
    barrier = threading.Barrier(count)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def run():
        try:
            client = FormClient()
            client.force_login(user)
            barrier.wait(timeout=30)
            statuses.append(submit(client).status_code)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    return sorted(statuses)


@pytest.mark.django_db(transaction=True)
def test_two_submits_at_once_cannot_together_pass_the_budget(team, bob, monkeypatch):
    set_budget(team, 5)  # room for one 3-credit video, not two
    assert submit_at_once(bob, 2, monkeypatch) == [302, 422]
    assert Generation.objects.count() == 1
    assert budgets.spent_this_month(team) == 3


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_many_submits_at_once_stay_within_the_budget_on_postgresql(team, bob, monkeypatch):
    if connection.vendor != "postgresql":
        require("this race test needs PostgreSQL (DATABASE_URL=postgres://...)")
    set_budget(team, 7)  # room for two 3-credit videos
    assert submit_at_once(bob, 5, monkeypatch) == [302, 302, 422, 422, 422]
    assert Generation.objects.count() == 2
    assert budgets.spent_this_month(team) == 6


def test_budget_refusals_say_how_much_is_left():
    exc = budgets.OverBudget(budget=10, spent=12, estimate=3)
    assert exc.remaining == 0
    assert "0 credits are left" in str(exc)
    assert "1 credit is left" in str(budgets.OverBudget(budget=10, spent=9, estimate=3))


def test_the_month_turns_over_in_utc():
    late = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    assert budgets.month_start(late + timedelta(minutes=2)) == datetime(2027, 1, 1, tzinfo=UTC)
    assert budgets.next_month_start(late) == datetime(2027, 1, 1, tzinfo=UTC)


def test_not_charged_is_one_rule_for_pages_and_the_budget(team, alice):
    cases = [
        (dict(state="failed"), True),
        (dict(state="cancelled"), True),
        (dict(state="failed", credits=0), False),  # the provider's own figure counts
        (dict(state="failed", credits=4), False),
        (dict(state="success"), False),
        (dict(state="processing"), False),
    ]
    made = {make_generation(team, alice, **fields).pk: expected for fields, expected in cases}
    assert {g.pk: g.not_charged for g in Generation.objects.filter(pk__in=made)} == made
    in_query = set(
        Generation.objects.filter(Generation.not_charged_condition()).values_list("pk", flat=True)
    )
    assert in_query == {pk for pk, expected in made.items() if expected}


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_budget_holds_where_the_database_defaults_to_repeatable_read(team, bob, monkeypatch):
    """A REPEATABLE READ snapshot taken before the lock's wait would not see the submit
    that held it: the studio names READ COMMITTED on its own connections."""
    if connection.vendor != "postgresql":
        require("this race test needs PostgreSQL (DATABASE_URL=postgres://...)")
    database = connection.ops.quote_name(connection.settings_dict["NAME"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"ALTER DATABASE {database} SET default_transaction_isolation = 'repeatable read'"
        )
    try:
        set_budget(team, 7)  # room for two 3-credit videos
        assert submit_at_once(bob, 5, monkeypatch) == [302, 302, 422, 422, 422]
        assert budgets.spent_this_month(team) == 6
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER DATABASE {database} RESET default_transaction_isolation")
