"""How big a request may be, refused early with a message that says so.

The largest legal request is the start-and-end form: two images of up to 50 MB and the
form's text. A request announcing more than STUDIO_REQUEST_MAX_BYTES is refused before
any of its body is read. The form's text (everything but the files) may take
DATA_UPLOAD_MAX_MEMORY_SIZE; Django stops reading at that point, and the refusal says
what happened instead of a bare "Bad Request". Both answer 413 with a plain page, or,
for htmx, the message alone.
"""

from __future__ import annotations

import math
import threading
import time

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.utils.html import format_html

from studio import catalog, staging

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
# Upload files left behind are looked for this often in each web process (and by the
# reconciler's sweep): see staging.sweep_upload_files.
SWEEP_EVERY = 600.0


def megabytes(size: int, *, limit: bool = False) -> str:
    """A size in the studio's megabytes (decimal, as "50 MB" in Vidu's rules); a limit
    rounded down, so that what it says is always taken."""
    figure = size / catalog.MB
    if limit:
        figure = math.floor(figure * 10) / 10 if figure < 10 else math.floor(figure)
    return f"{figure:,.0f} MB" if figure >= 10 else f"{figure:.1f} MB"


def request_too_large(size: int) -> str:
    return (
        f"This request is {megabytes(size)}; the studio takes at most "
        f"{megabytes(settings.STUDIO_REQUEST_MAX_BYTES, limit=True)} at once: up to two images of "
        f"{megabytes(catalog.IMAGE_MAX_BYTES, limit=True)} each and the form. Nothing was sent or "
        "saved. Go back, choose smaller images, and send the form again."
    )


def text_too_large() -> str:
    longest_prompt = max(rules.prompt_max for rules in catalog.ENDPOINT_RULES.values())
    most = megabytes(settings.DATA_UPLOAD_MAX_MEMORY_SIZE, limit=True)
    return (
        f"The text in this form is more than {most}, "
        f"more than its fields take (a prompt at most {longest_prompt:,} characters, the "
        f"payload and the metadata {catalog.PAYLOAD_MAX_CHARS:,} each). Nothing was sent "
        "or saved. Go back, shorten it, and send the form again."
    )


def refusal(request: HttpRequest, message: str) -> HttpResponse:
    """413 with `message`: a plain page, or for htmx the message alone."""
    if request.headers.get("HX-Request") == "true":
        body = format_html('<p class="error" role="alert">{}</p>', message)
    else:
        body = format_html(
            '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            "<title>Too large to send</title>"
            '<link rel="stylesheet" href="{}"></head>'
            '<body><main class="page"><h1>Too large to send</h1>'
            '<p class="error" role="alert">{}</p>'
            "<p>Use your browser's Back button to return to the form.</p>"
            '<p><a href="/">Vidu Studio</a></p>'
            "</main></body></html>\n",
            static("css/studio.css"),
            message,
        )
    response = HttpResponse(body, status=413, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


class RequestSizeLimit:
    """Refuses a request too large before its body is read, and form text over Django's
    limit with a message; now and then removes upload files left behind."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._swept_at = 0.0
        self._sweeping = threading.Lock()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0  # as Django reads it: no body
        if size > settings.STUDIO_REQUEST_MAX_BYTES:
            return refusal(request, request_too_large(size))
        if request.method == "POST" and request.content_type in FORM_TYPES:
            self._sweep_now_and_then()
            try:
                request.POST  # noqa: B018 -- read here, where its refusal can be answered
            except RequestDataTooBig:
                return refusal(request, text_too_large())
            except OSError:
                pass  # the client went away: answered as before, by the CSRF check
        return self.get_response(request)

    def _sweep_now_and_then(self) -> None:
        now = time.monotonic()
        if now - self._swept_at < SWEEP_EVERY or not self._sweeping.acquire(blocking=False):
            return
        try:
            self._swept_at = now
            staging.sweep_upload_files()
        finally:
            self._sweeping.release()
