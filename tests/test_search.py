"""The history's search: every word must be in the prompt, in any order and any case;
"words in quotes" are one phrase. The same answers on SQLite and PostgreSQL (the
suite's second pass)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import make_generation

pytestmark = pytest.mark.usefixtures("media_root")


def found(client, q: str) -> set[str]:
    html = client.get(reverse("history"), {"q": q}).content.decode()
    return set(re.findall(r'data-generation-id="([^"]+)"', html))


@pytest.fixture
def prompts(team, alice):
    return {
        key: str(make_generation(team, alice, prompt=prompt).pk)
        for key, prompt in {
            "hills": "Green HILLS at sunset, slow pan",
            "sea": "a sunset over the sea",
            "hills-dawn": "hills at dawn",
        }.items()
    }


def test_every_word_must_match_in_any_order_and_case(client, alice, prompts):
    client.force_login(alice)
    assert found(client, "hills sunset") == {prompts["hills"]}
    assert found(client, "SUNSET hills") == {prompts["hills"]}
    assert found(client, "  sunset  ") == {prompts["hills"], prompts["sea"]}
    assert found(client, "hills") == {prompts["hills"], prompts["hills-dawn"]}
    assert found(client, "hills sunset dawn") == set()


def test_a_word_being_typed_matches_the_start_of_a_longer_one(client, alice, prompts):
    client.force_login(alice)
    assert found(client, "hil suns") == {prompts["hills"]}


def test_words_in_quotes_are_one_phrase(client, alice, prompts):
    client.force_login(alice)
    assert found(client, '"at sunset"') == {prompts["hills"]}
    assert found(client, '"sunset at"') == set()
    assert found(client, '"hills at" dawn') == {prompts["hills-dawn"]}
    assert found(client, '"at sunset') == {prompts["hills"]}  # an unclosed quote is ignored


def test_the_search_stays_in_the_team(client, alice, charlie, prompts):
    make_generation(charlie.memberships.get().team, charlie, prompt="green hills at sunset")
    client.force_login(alice)
    assert found(client, "hills sunset") == {prompts["hills"]}


def test_more_words_ask_no_more_queries(client, alice, prompts):
    client.force_login(alice)
    client.get(reverse("history"), {"q": "hills"})

    def queries(q: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert found(client, q) == {prompts["hills"]}
        return len(captured)

    assert queries("green") == queries("green hills at sunset slow pan") <= 5


def test_postgresql_full_text_also_finds_other_forms_of_the_words(client, alice, prompts):
    """On PostgreSQL its full-text search adds other forms of each word; SQLite has none
    without an extension, so there the words match as typed."""
    client.force_login(alice)
    if connection.vendor == "postgresql":
        assert found(client, "sunsets hill") == {prompts["hills"]}
        assert found(client, "panning hills") == {prompts["hills"]}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'generation_prompt_fts'"
            )
            assert "to_tsvector('english'" in cursor.fetchone()[0]
    else:
        assert found(client, "sunsets hill") == set()
    assert found(client, "sunset hill") == {prompts["hills"]}  # "hill" begins "hills"
