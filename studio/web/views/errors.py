"""Error pages that say what went wrong in the person's words.

404, 403 and 500 are Django's own views over templates/404.html, 403.html and 500.html;
a 400 needs its reason picked here."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render

UNREADABLE_UPLOAD = (
    "The studio could not read the upload. A file whose name is very long (hundreds of "
    "characters) is the usual cause: rename the file, then choose it again."
)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400: for an upload the server could not even parse, say why and how to go on;
    anything else gets the plain explanation and the way back."""
    if isinstance(exception, MultiPartParserError):
        back = request.path if request.path.startswith("/generate/") else "/"
        context = {"message": UNREADABLE_UPLOAD, "back": back}
    else:
        context = {}
    return render(request, "400.html", context, status=400)


FORM_EXPIRED = (
    "This form was sent without the page's security token, or with an old one: the page "
    "was open from before you logged in or out. Nothing was changed. Reload the page, "
    "then send it again."
)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 for a form whose CSRF token is missing or stale: what to do, not Django's reason."""
    return render(request, "403.html", {"exception": FORM_EXPIRED}, status=403)
