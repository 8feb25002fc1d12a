"""The studio's public address: one rule for callbacks, signed image links, shares and
invites."""

from django.test import RequestFactory
from django.urls import reverse

from studio import addresses
from studio.worker import submission


def test_without_a_public_url_jobs_have_no_address_and_pages_use_their_own(settings):
    settings.STUDIO_PUBLIC_URL = ""
    settings.ALLOWED_HOSTS = ["studio.local"]
    request = RequestFactory().get("/", HTTP_HOST="studio.local:8000")
    assert addresses.public_base() is None
    assert addresses.public_url("/s/abc/") is None
    assert submission.callback_url() is None
    assert addresses.public_base(request) == "http://studio.local:8000"
    assert addresses.public_url("/s/abc/", request) == "http://studio.local:8000/s/abc/"


def test_the_public_url_wins_everywhere(settings):
    settings.STUDIO_PUBLIC_URL = "https://studio.example.com"
    request = RequestFactory().get("/", HTTP_HOST="studio.local:8000")
    assert addresses.public_base(request) == "https://studio.example.com"
    assert addresses.public_url("/s/abc/", request) == "https://studio.example.com/s/abc/"
    assert submission.callback_url() == "https://studio.example.com" + reverse("vidu_callback")
