"""The budget counts a video at what its provider really charges for that kind, not
only at the studio's estimate: the highest figure seen is reserved from then on, videos
already waiting are raised to it, and the team page says how far the month can still
go over."""

from __future__ import annotations

from decimal import Decimal

import pytest

from studio import budgets
from studio.models import Generation, SeenPrice
from studio.vidu.base import CREDITS, PROCESSING, SUCCESS, Cost, TaskView
from studio.worker import reports
from tests.conftest import FormClient
from tests.test_budgets import FORM, set_budget, submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

ESTIMATE = 3  # the catalog's for FORM: viduq2-turbo, 3 s at 540p


def charged(generation: Generation, credits: int, state: str = SUCCESS) -> None:
    """The provider reports the task and what it cost."""
    view = TaskView(f"task-{generation.pk}", state, cost=Cost(Decimal(credits), CREDITS))
    reports.apply_view(generation, view, "poll")


def submitted(client) -> Generation:
    assert submit(client).status_code == 302
    return Generation.objects.latest("created_at")


@pytest.fixture
def owner_client(alice):
    client = FormClient()
    client.force_login(alice)
    return client


def test_a_kind_charged_above_the_estimate_is_reserved_at_that_price(owner_client, team):
    first = submitted(owner_client)
    assert first.estimated_credits == ESTIMATE
    charged(first, 6)
    assert SeenPrice.objects.get(model="viduq2-turbo", duration=3).highest == 6
    assert submitted(owner_client).estimated_credits == 6
    charged(first, 4)  # a lower figure later does not lower what is reserved
    assert submitted(owner_client).estimated_credits == 6


def test_quick_submits_stop_at_the_budget_by_the_real_price(owner_client, team):
    """Budget 30, estimate 3, real price 6: the studio used to let ten through (30 by
    its estimate) and 60 was spent."""
    set_budget(team, 30)
    charged(submitted(owner_client), 6)  # 6 of the 30 spent
    statuses = [submit(owner_client).status_code for _ in range(10)]
    assert statuses.count(302) == 4  # 4 × 6 = 24 more: exactly the budget
    assert budgets.spent_this_month(team) == 30


def test_videos_waiting_for_a_figure_are_raised_to_the_price_seen(owner_client, team):
    first, waiting = submitted(owner_client), submitted(owner_client)
    other = owner_client.post("/generate/img2video/", {**FORM, "duration": "5", "images": _image()})
    assert other.status_code == 302
    charged(first, 6, PROCESSING)  # the official API gives the figure early
    waiting.refresh_from_db()
    assert waiting.estimated_credits == 6
    five = Generation.objects.get(params__duration=5)
    assert five.estimated_credits == 5  # another kind keeps its own reservation


def test_a_kind_never_charged_is_reserved_by_how_far_the_provider_went_over(owner_client):
    charged(submitted(owner_client), 6)  # twice the estimate
    response = owner_client.post(
        "/generate/img2video/", {**FORM, "duration": "5", "images": _image()}
    )
    assert response.status_code == 302
    assert Generation.objects.get(params__duration=5).estimated_credits == 10  # 5 × 2


def test_the_team_page_says_how_far_the_month_can_still_go_over(owner_client, team):
    set_budget(team, 100)
    charged(submitted(owner_client), 6)
    waiting = submitted(owner_client)  # reserved at 6
    Generation.objects.filter(pk=waiting.pk).update(estimated_credits=ESTIMATE)  # before
    page = owner_client.get("/team/").content.decode()
    assert "1 video still counts at a reservation" in page
    assert "3 credits more than counted here" in page  # 6 seen, 3 counted


def test_the_page_says_when_a_kind_was_never_charged(owner_client, team):
    set_budget(team, 100)
    submitted(owner_client)
    page = owner_client.get("/team/").content.decode()
    assert "1 of them is of a kind no provider has charged for yet" in page


def test_an_uncharged_figure_teaches_nothing_and_other_teams_are_raised_too(
    owner_client, team, charlie
):
    first = submitted(owner_client)
    charged(first, 0)
    assert not SeenPrice.objects.exists()
    theirs = FormClient()
    theirs.force_login(charlie)
    elsewhere = submitted(theirs)
    assert elsewhere.team_id != team.pk
    charged(first, 6)
    elsewhere.refresh_from_db()
    assert elsewhere.estimated_credits == 6  # the same provider's price, for everyone


def _image():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.conftest import png

    return SimpleUploadedFile("frame.png", png(), "image/png")


def test_a_video_whose_length_was_left_to_the_provider_is_charged_and_teaches_nothing(
    team, alice
):
    """A task sent without a duration or a resolution (the model's defaults) names no
    kind of video: its figure is kept, and no price is learnt from it."""
    from tests.factories import make_generation

    generation = make_generation(team, alice, params={"seed": 4321})
    charged(generation, 9)
    generation.refresh_from_db()
    assert generation.credits == 9
    assert not SeenPrice.objects.exists()
