"""Every view declares the methods it answers; anything else is 405, before any other
check (so a PUT to a form never renders it, and never changes anything)."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

OTHER_METHODS = ("put", "patch", "delete", "options")


def studio_routes() -> list[URLPattern]:
    """The routes of studio/web/urls.py (the admin is Django's own and has its own rules)."""
    return [p for p in get_resolver().url_patterns if isinstance(p, URLPattern)]


def url_of(pattern: URLPattern) -> str:
    """A URL the route matches, with made-up values for its parts."""
    values = {"uuid": str(uuid.uuid4()), "int": "1"}
    filled = re.sub(
        r"<(?:(\w+):)?\w+>", lambda m: values.get(m.group(1), "x"), str(pattern.pattern)
    )
    return "/" + filled


def test_the_route_list_is_the_studios():
    names = {p.name for p in studio_routes()}
    assert {"generate", "history", "generation", "vidu_callback", "share_video"} <= names
    assert {"gallery_zip", "gallery_selection", "generation_star", "generation_hide"} <= names
    assert not [p for p in get_resolver().url_patterns if isinstance(p, URLResolver)][1:]


@pytest.mark.django_db
@pytest.mark.parametrize("pattern", studio_routes(), ids=lambda p: p.name)
def test_a_method_a_view_does_not_declare_answers_405(client, alice, pattern):
    client.force_login(alice)
    url = url_of(pattern)
    for method in OTHER_METHODS:
        response = getattr(client, method)(url)
        assert response.status_code == 405, (pattern.name, url, method, response.status_code)
        assert response.has_header("Allow")
