"""Error pages that say what went wrong in the person's words."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render

UNREADABLE_UPLOAD = (
    "The studio could not read the upload. A file whose name is very long (hundreds of "
    "characters) is the usual cause: rename the file, then choose it again."
)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400: for an upload the server could not even parse, say why and how to go on."""
    unreadable = isinstance(exception, MultiPartParserError)
    message = UNREADABLE_UPLOAD if unreadable else "The request could not be understood."
    back = request.path if unreadable and request.path.startswith("/generate/") else "/"
    return render(
        request, "errors/bad_request.html", {"message": message, "back": back}, status=400
    )
