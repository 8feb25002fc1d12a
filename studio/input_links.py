"""Signed, expiring links to a generation's input images, for Vidu to fetch.

Used for an image too large to travel inside the 20 MB request as a data URI, when the
studio has a public address (STUDIO_PUBLIC_URL). The link needs no login: the token is
signed with SECRET_KEY, names one image of one generation, and expires. It serves the
stored copy, which was kept without the upload's metadata (`InputImage.store`).
"""

from __future__ import annotations

from datetime import timedelta

from django.core import signing
from django.urls import reverse

from studio.addresses import public_base, public_url
from studio.models import InputImage

SALT = "studio.input-image"
# Vidu may fetch the image when an off-peak task starts, up to 48 hours after it is sent.
VALID_FOR = timedelta(days=3)


def token_for(image: InputImage) -> str:
    return signing.dumps({"i": image.pk, "g": str(image.generation_id)}, salt=SALT)


def url_for(image: InputImage) -> str | None:
    """A link to `image` that Vidu can fetch, or None when the studio has no public URL."""
    if public_base() is None:
        return None
    path = reverse(
        "signed_input", args=[token_for(image), f"frame-{image.position}.{image.format}"]
    )
    return public_url(path)


def image_for(token: str) -> InputImage | None:
    """The image a token names, or None when it is forged, altered or expired."""
    try:
        value = signing.loads(token, salt=SALT, max_age=VALID_FOR)
    except signing.BadSignature:  # SignatureExpired is one too
        return None
    if not isinstance(value, dict):
        return None
    return InputImage.objects.filter(pk=value.get("i"), generation_id=value.get("g")).first()
