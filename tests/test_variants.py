"""Variants: several seeds, or several models, of one request, made as one batch."""

from __future__ import annotations

import pytest
from django.urls import reverse

from studio.models import Batch, Generation, InputImage, Team
from tests.conftest import drain_queue, fresh_form_token
from tests.factories import make_generation
from tests.test_generate import upload

pytestmark = pytest.mark.usefixtures("media_root")
URL = reverse("generate", args=["img2video"])


def request(**extra) -> dict:
    return {
        "model": "viduq2-turbo",
        "prompt": "a slow pan over the bay",
        "duration": "3",
        "resolution": "540p",
        "images": upload(),
        **extra,
    }


def test_seed_variants_are_one_batch_each_with_its_own_recorded_seed(
    client, alice, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, request(variants="3", variant_mode="seeds"))
    batch = Batch.objects.get()
    made = list(batch.generations.order_by("created_at"))
    assert response.status_code == 302
    assert response["Location"] == reverse("batch", args=[batch.pk])
    assert (batch.mode, batch.author, batch.team) == ("seeds", alice, alice.memberships.get().team)
    seeds = [g.params["seed"] for g in made]
    assert len(made) == 3 and len(set(seeds)) == 3 and all(seeds)
    assert {g.model for g in made} == {"viduq2-turbo"}
    assert {g.params["duration"] for g in made} == {3}
    assert [g.form_token is not None for g in made] == [True, False, False]
    assert InputImage.objects.count() == 3  # each video keeps its own input
    assert all(i.file.size > 0 for i in InputImage.objects.all())
    assert drain_queue() == ["studio.worker.jobs.submit"] * 3


def test_a_typed_seed_is_the_first_variants(client, alice):
    client.force_login(alice)
    client.post(URL, request(variants="2", variant_mode="seeds", seed="1234"))
    seeds = [g.params["seed"] for g in Generation.objects.order_by("created_at")]
    assert seeds[0] == 1234 and seeds[1] != 1234


def test_start_and_end_frames_go_with_every_variant(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("generate", args=["start-end2video"]),
        {
            "model": "viduq2-turbo",
            "prompt": "from one frame to the other",
            "start_image": upload("start.png"),
            "end_image": upload("end.png"),
            "variant_mode": "models",
            "extra_models": ["viduq1"],
        },
    )
    assert response.status_code == 302
    for generation in Generation.objects.all():
        names = list(generation.images.order_by("position").values_list("original_name", flat=True))
        assert names == ["start.png", "end.png"]
    assert Generation.objects.count() == 2


def test_one_video_is_no_batch_as_before(client, alice):
    client.force_login(alice)
    response = client.post(URL, request(variants="1"))
    generation = Generation.objects.get()
    assert generation.batch is None and "seed" not in generation.params
    assert response["Location"] == reverse("generation", args=[generation.pk])


def test_model_variants_take_each_models_own_options(client, alice):
    client.force_login(alice)
    data = request(variant_mode="models", extra_models=["viduq1", "vidu2.0"], variants="4")
    response = client.post(URL, data)
    batch = Batch.objects.get()
    made = {g.model: g for g in batch.generations.all()}
    assert response["Location"] == reverse("batch", args=[batch.pk])
    assert batch.mode == "models" and set(made) == {"viduq2-turbo", "viduq1", "vidu2.0"}
    assert made["viduq2-turbo"].params["duration"] == 3
    # Vidu Q1 makes 5 s at 1080p only; Vidu 2.0 4 or 8 s, and 360p by default at 4 s.
    assert (made["viduq1"].params["duration"], made["viduq1"].params["resolution"]) == (
        5,
        "1080p",
    )
    assert (made["vidu2.0"].params["duration"], made["vidu2.0"].params["resolution"]) == (
        4,
        "360p",
    )
    assert made["viduq1"].estimated_credits == 8 and made["vidu2.0"].estimated_credits == 2


def test_the_form_says_what_each_model_will_make_before_anything_is_sent(client, alice):
    client.force_login(alice)
    query = "model=viduq2-turbo&duration=3&resolution=540p&variant_mode=models&extra_models=viduq1"
    html = client.get(f"{URL}?{query}").content.decode()
    assert 'id="plan-notes"' in html
    assert "Vidu Q1</strong>: 5 s · 1080p" in html
    assert "duration 5 instead of 3; resolution 1080p instead of 540p)" in html
    assert "≈ 11 credits for 2 videos" in html  # 3 for Q2 Turbo at 3 s, 8 for Q1


def test_model_variants_need_another_model(client, alice):
    client.force_login(alice)
    response = client.post(URL, request(variant_mode="models"))
    assert response.status_code == 422
    assert "Choose at least one more model" in response.content.decode()
    assert not Generation.objects.exists() and not Batch.objects.exists()


def test_a_model_not_offered_is_refused_beside_the_field(client, alice):
    client.force_login(alice)
    response = client.post(URL, request(variant_mode="models", extra_models=["nope"]))
    html = response.content.decode()
    assert response.status_code == 422 and 'id="error-extra_models"' in html
    assert not Generation.objects.exists()


def test_the_estimate_is_the_total_for_every_variant(client, alice):
    client.force_login(alice)
    html = client.get(f"{URL}?model=viduq2-turbo&variants=4").content.decode()
    assert "≈ 20 credits for 4 videos" in html
    swap = client.get(
        f"{URL}?model=viduq2-turbo&variants=3&variant_mode=seeds",
        headers={"HX-Request": "true", "HX-Target": "options"},
    ).content.decode()
    assert 'id="estimate"' in swap and "≈ 15 credits for 3 videos" in swap


def test_a_batch_past_the_budget_makes_nothing_at_all(client, alice, team):
    Team.objects.filter(pk=team.pk).update(monthly_budget=8)  # 3 videos of 3 credits: 9
    client.force_login(alice)
    response = client.post(URL, request(variants="3"))
    assert response.status_code == 422
    assert "past its monthly budget of 8 credits" in response.content.decode()
    assert not Generation.objects.exists() and not Batch.objects.exists()
    assert not InputImage.objects.exists()
    assert drain_queue() == []
    assert client.post(URL, request(variants="2")).status_code == 302  # 6 fits


def test_a_batch_past_the_persons_limit_makes_nothing_at_all(client, bob, team):
    bob.memberships.filter(team=team).update(monthly_limit=5)
    client.force_login(bob)
    response = client.post(URL, request(variants="2"))
    html = response.content.decode()
    assert response.status_code == 422
    assert "your own monthly limit of 5 credits" in html and "you have 5 credits left" in html
    assert not Generation.objects.exists() and not Batch.objects.exists()


def test_a_double_submit_makes_one_batch(client, alice):
    client.force_login(alice)
    token = fresh_form_token()
    first = client.post(URL, request(variants="3", form_token=token))
    second = client.post(URL, request(variants="3", form_token=token))
    batch = Batch.objects.get()
    assert Generation.objects.count() == 3
    assert first["Location"] == second["Location"] == reverse("batch", args=[batch.pk])
    page = client.get(second["Location"]).content.decode()
    assert "This form was already sent: here are the videos it started." in page


def test_the_batch_page_shows_every_variant_and_polls_them(client, alice, team):
    client.force_login(alice)
    client.post(URL, request(variants="3"))
    batch = Batch.objects.get()
    made = list(batch.generations.order_by("created_at"))
    Generation.objects.filter(pk=made[0].pk).update(state="failed")
    html = client.get(reverse("batch", args=[batch.pk])).content.decode()
    for place, generation in enumerate(made, start=1):
        assert f'id="gen-{generation.pk}"' in html
        assert f"Seed {generation.params['seed']}" in html
        assert f"{place} of 3" in html
        assert reverse("generation", args=[generation.pk]) in html
    compare = "/compare/?" + "&amp;".join(f"ids={g.pk}" for g in made)
    assert compare in html
    assert 'id="poller"' in html
    assert f"g={made[0].pk}." not in html  # done: not polled any more
    assert f"g={made[1].pk}.queued-none" in html


def test_a_hidden_variant_stays_hidden_on_the_batch_page(client, alice, team):
    from django.utils import timezone

    batch = Batch.objects.create(team=team, author=alice)
    kept = make_generation(team, alice, batch=batch, params={"seed": 5})
    hidden = make_generation(team, alice, batch=batch, hidden_at=timezone.now())
    client.force_login(alice)
    html = client.get(reverse("batch", args=[batch.pk])).content.decode()
    assert f'id="gen-{kept.pk}"' in html and str(hidden.pk) not in html
    assert "Seed 5" in html and "1 of 1" in html


def test_a_model_batch_names_each_variant_by_its_model(client, alice):
    client.force_login(alice)
    client.post(URL, request(variant_mode="models", extra_models=["viduq1"]))
    html = client.get(reverse("batch", args=[Batch.objects.get().pk])).content.decode()
    assert ">Vidu Q2 Turbo</a>" in html and ">Vidu Q1</a>" in html


def test_another_teams_batch_is_not_found(client, alice, charlie, team):
    batch = Batch.objects.create(team=team, author=alice)
    make_generation(team, alice, batch=batch)
    client.force_login(charlie)
    assert client.get(reverse("batch", args=[batch.pk])).status_code == 404


def test_a_card_of_a_batch_links_to_it_in_the_history(client, alice, team):
    batch = Batch.objects.create(team=team, author=alice)
    make_generation(team, alice, batch=batch)
    make_generation(team, alice)
    client.force_login(alice)
    html = client.get(reverse("history")).content.decode()
    assert html.count('class="batch-link"') == 1
    assert reverse("batch", args=[batch.pk]) in html


def test_the_poll_keeps_a_batch_cards_place(client, alice, team):
    batch = Batch.objects.create(team=team, author=alice)
    first = make_generation(team, alice, batch=batch)
    second = make_generation(team, alice, batch=batch)
    client.force_login(alice)
    # The page saw both queued; the second has failed since.
    Generation.objects.filter(pk=second.pk).update(state="failed")
    query = f"g={first.pk}.queued-none&g={second.pk}.queued-none"
    html = client.get(f"{reverse('poll')}?view=card&{query}").content.decode()
    assert f'id="gen-{second.pk}"' in html and "2 of 2 · batch</a>" in html


def test_places_are_counted_in_one_query(django_assert_num_queries, alice, team):
    from studio.models import mark_batch_places

    batches = [Batch.objects.create(team=team, author=alice) for _ in range(2)]
    cards = [make_generation(team, alice, batch=b) for b in batches for _ in range(3)]
    cards.append(make_generation(team, alice))
    with django_assert_num_queries(1):
        mark_batch_places(cards)
    assert [getattr(c, "batch_place", None) for c in cards] == [
        "1 of 3",
        "2 of 3",
        "3 of 3",
    ] * 2 + [None]


def test_the_form_offers_the_persons_recent_prompts(client, alice, bob, team):
    for n in range(10):
        make_generation(team, alice, prompt=f"prompt number {n}")
    make_generation(team, alice, prompt="prompt number 9")  # again: once in the list
    make_generation(team, alice, prompt="")
    make_generation(team, bob, prompt="bob's own words")
    client.force_login(alice)
    html = client.get(URL).content.decode()
    listed = html[html.index('id="recent-prompts"') :]
    listed = listed[: listed.index("</div>")]
    assert listed.count("data-fill-prompt=") == 8
    assert 'data-fill-prompt="prompt number 9"' in listed
    assert "prompt number 1<" not in listed and "bob" not in listed
    assert f"{URL}?prompt=prompt%20number%209" in listed


def test_a_recent_prompt_link_prefills_the_form(client, alice, team):
    make_generation(team, alice, prompt="a heron at dawn")
    client.force_login(alice)
    html = client.get(f"{URL}?prompt=a%20heron%20at%20dawn").content.decode()
    assert ">\na heron at dawn</textarea>" in html


def test_no_recent_prompts_no_list(client, alice):
    client.force_login(alice)
    assert 'id="recent-prompts"' not in client.get(URL).content.decode()
