"""Media behind permission checks, with HTTP Range support so browsers can seek.

A team's media answers its members (404 for anyone else, the login page for anonymous
visitors); a shared result's video and cover answer whoever has the link, until it is
revoked or the video hidden. A video made with a watermark is shared with it.
"""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET

from studio.access import active_share, generation_for

# One range of bytes (ASCII digits only); a list of ranges or another unit gets the whole
# file, as RFC 9110 allows.
RANGE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")
# No file has a byte position of more digits than this (10**18 bytes is an exabyte): a
# longer number is refused as unsatisfiable before Python is asked to read it.
MAX_DIGITS = 18
CHUNK = 256 * 1024


def _unsatisfiable(size: int) -> HttpResponse:
    response = HttpResponse(status=416)
    response["Content-Range"] = f"bytes */{size}"
    return response


def byte_range(first: str, last: str, size: int) -> tuple[int, int] | None:
    """The (start, end) of a `bytes=first-last` range in a file of `size` bytes, both
    inclusive, or None when no byte of it can be sent (RFC 9110, 14.1.2)."""
    if len(first) > MAX_DIGITS or len(last) > MAX_DIGITS:
        return None
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    else:  # the last N bytes
        start = max(0, size - int(last))
        end = size - 1
    if start >= size or start > end:
        return None
    return start, end


def _chunks(fh, remaining: int):
    try:
        while remaining > 0:
            data = fh.read(min(CHUNK, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
    finally:
        fh.close()


def ranged_file(
    request: HttpRequest, field_file, content_type: str, filename: str | None = None
) -> HttpResponse:
    """Serve a stored file whole, or the byte range the browser asked for (RFC 9110)."""
    if not field_file:
        raise Http404
    try:
        size = field_file.size
        fh = field_file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    header = request.headers.get("Range", "")
    match = RANGE.match(header.strip()) if header else None
    if match and (match[1] or match[2]):
        satisfiable = byte_range(match[1], match[2], size)
        if satisfiable is None:
            fh.close()
            return _unsatisfiable(size)
        start, end = satisfiable
        fh.seek(start)
        response = StreamingHttpResponse(
            _chunks(fh, end - start + 1), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    else:
        response = FileResponse(fh, content_type=content_type)
        response["Content-Length"] = str(size)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    if filename:
        response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _creation_file(
    request: HttpRequest, generation_id, field: str, content_type: str, suffix: str
) -> HttpResponse:
    """One file of a generation's stored video, for people who may see the generation."""
    generation, _ = generation_for(request, generation_id)
    creation = generation.creations.first()
    if creation is None:
        raise Http404
    return ranged_file(
        request, getattr(creation, field), content_type, f"vidu-{generation.pk}{suffix}"
    )


@require_GET
@login_required
def video(request: HttpRequest, generation_id) -> HttpResponse:
    return _creation_file(request, generation_id, "video", "video/mp4", ".mp4")


@require_GET
@login_required
def cover(request: HttpRequest, generation_id) -> HttpResponse:
    return _creation_file(request, generation_id, "cover", "image/jpeg", ".jpg")


@require_GET
@login_required
def watermarked(request: HttpRequest, generation_id) -> HttpResponse:
    return _creation_file(request, generation_id, "watermarked", "video/mp4", "-watermarked.mp4")


def _shared(response: HttpResponse) -> HttpResponse:
    # Revalidate every time, so a revoked link stops working at once, even from a cache.
    response["Cache-Control"] = "no-cache"
    response["X-Robots-Tag"] = "noindex"
    return response


def _shared_file(
    request: HttpRequest, token: str, field: str, content_type: str, filename: str
) -> HttpResponse:
    """One file of a shared video, for anyone holding a link that still works."""
    creation = active_share(token).generation.creations.first()
    if creation is None:
        raise Http404
    # A video made with a watermark is shared only with it: without the watermarked
    # copy, 404 rather than the clean file.
    stored = creation.shared_video if field == "video" else getattr(creation, field)
    return _shared(ranged_file(request, stored, content_type, filename))


@require_GET
def shared_video(request: HttpRequest, token: str) -> HttpResponse:
    return _shared_file(request, token, "video", "video/mp4", "video.mp4")


@require_GET
def shared_cover(request: HttpRequest, token: str) -> HttpResponse:
    return _shared_file(request, token, "cover", "image/jpeg", "cover.jpg")


@require_GET
@login_required
def input_image(request: HttpRequest, generation_id, position: int) -> HttpResponse:
    generation, _ = generation_for(request, generation_id)
    image = generation.images.filter(position=position).first()
    if image is None:
        raise Http404
    return ranged_file(request, image.file, image.content_type)
