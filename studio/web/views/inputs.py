"""Input images behind a signed, expiring link, for Vidu to fetch (no login)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from studio import input_links
from studio.web.views.media import ranged_file


@require_GET
def signed_input(request: HttpRequest, token: str, filename: str) -> HttpResponse:
    image = input_links.image_for(token)
    if image is None:
        raise Http404
    return ranged_file(request, image.file, image.content_type)
