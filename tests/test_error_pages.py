"""Error pages in the studio's own look: what happened in plain words and the way back,
never whether something of another team exists."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views import defaults

from tests.factories import make_generation

pytestmark = pytest.mark.usefixtures("media_root")
MISSING = "00000000-0000-0000-0000-000000000000"


def error_section(html: str) -> str:
    start = html.index('<section class="error-page"')
    return html[start : html.index("</section>", start)]


def test_a_missing_page_is_the_styled_404_with_the_way_back(client, alice):
    client.force_login(alice)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "There is nothing to see here" in html and 'class="topbar"' in html
    assert f'href="{reverse("history")}"' in error_section(html)
    assert f'href="{reverse("generate", args=["img2video"])}"' in error_section(html)


def test_another_teams_generation_looks_exactly_like_one_that_never_existed(client, alice, charlie):
    theirs = make_generation(charlie.memberships.get().team, charlie)
    client.force_login(alice)
    hidden = client.get(reverse("generation", args=[theirs.pk]))
    missing = client.get(reverse("generation", args=[MISSING]))
    assert hidden.status_code == missing.status_code == 404
    assert error_section(hidden.content.decode()) == error_section(missing.content.decode())


def test_logged_out_the_404_offers_to_log_in(client):
    html = client.get("/no-such-page/").content.decode()
    assert "There is nothing to see here" in html
    assert f'href="{reverse("login")}"' in error_section(html)


def test_a_viewer_refused_gets_the_styled_403_saying_why(client, vera):
    client.force_login(vera)
    response = client.get(reverse("generate", args=["img2video"]))
    assert response.status_code == 403
    section = error_section(response.content.decode())
    assert "You cannot do that here" in section
    assert "Viewers can see the history but not make videos." in section
    assert f'href="{reverse("history")}"' in section
    assert reverse("generate", args=["img2video"]) not in section  # no form for a viewer


def test_a_form_with_a_stale_token_gets_the_styled_403_saying_what_to_do(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(reverse("team_budget"), {"monthly_budget": "5"})
    assert response.status_code == 403
    section = error_section(response.content.decode())
    assert "Nothing was changed. Reload the page" in section
    assert f'href="{reverse("history")}"' in section


def test_a_bad_request_is_the_styled_400(client, alice, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    response = client.get(reverse("history"), HTTP_HOST="elsewhere.example")
    assert response.status_code == 400
    section = error_section(response.content.decode())
    assert "That could not be read" in section and "nothing was charged" in section
    assert f'href="{reverse("login")}"' in section


def test_an_unreadable_upload_says_why_and_leads_back_to_the_form(client, bob):
    client.force_login(bob)
    url = reverse("generate", args=["img2video"])
    response = client.post(
        url,
        data=b"--x\r\nContent-Disposition: form-data; name=\r\n\r\nbroken",
        content_type="multipart/form-data; boundary=",
    )
    assert response.status_code == 400
    section = error_section(response.content.decode())
    assert "rename the file" in section and f'href="{url}"' in section


def test_the_500_page_stands_alone(db):
    response = defaults.server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in html and "studio.css" in html
    assert 'href="/"' in error_section(html)
