"""Copying a finished generation's videos into the studio's storage while the provider's
links are valid (24 hours at Vidu), checking each is a playable video, and making a
cover from the video where the provider gives none."""

from __future__ import annotations

import io
import logging
import tempfile
import time
from datetime import timedelta

import av
import httpx
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from studio.models import Creation, Generation, ResultStatus, State
from studio.vidu.base import ProviderError, Refused, Video
from studio.worker.connections import backoff, dialect_for
from studio.worker.queue import enqueue_fetch

log = logging.getLogger(__name__)

FETCH_ATTEMPTS = 4  # per copy job; the reconciler and the page's button retry later
RESULTS_KEPT_BY_PROVIDER = timedelta(hours=24)  # result URLs stay valid this long
COVER_WIDTH = 640


def probe_video(path: str) -> dict:
    """Check that a file is a playable video; return its codec, duration and size."""
    with av.open(path) as container:
        if not container.streams.video:
            raise ValueError("the file has no video stream")
        stream = container.streams.video[0]
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        else:
            duration = (container.duration or 0) / 1_000_000
        # Decoding one frame proves the stream is not just a header.
        next(container.decode(stream))
        return {
            "codec": stream.codec_context.name,
            "duration": duration,
            "width": stream.codec_context.width,
            "height": stream.codec_context.height,
        }


def make_cover(path: str) -> bytes:
    """A JPEG of the video's first frame, at most COVER_WIDTH wide."""
    with av.open(path) as container:
        frame = next(container.decode(container.streams.video[0]))
        image = frame.to_image()
    if image.width > COVER_WIDTH:
        image = image.resize((COVER_WIDTH, round(image.height * COVER_WIDTH / image.width)))
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def _download(http: httpx.Client, url: str, into) -> int:
    with http.stream("GET", url) as response:
        if response.status_code in (401, 403, 404, 410):
            raise Refused(
                "ResultExpired", f"result URL answered {response.status_code}", response.status_code
            )
        response.raise_for_status()
        size = 0
        for chunk in response.iter_bytes(1024 * 256):
            into.write(chunk)
            size += len(chunk)
    into.flush()
    return size


def copy_problem(exc: Exception, label: str) -> str:
    """What went wrong copying a video, in words for the page (no URLs, no internals)."""
    if isinstance(exc, ProviderError):
        if exc.reason == "ResultExpired":
            return f"{label}'s link to the video had expired"
        return exc.plain
    if isinstance(exc, httpx.TimeoutException):
        return f"the download from {label} timed out"
    if isinstance(exc, httpx.HTTPError):
        return f"the download from {label} failed"
    if isinstance(exc, av.error.FFmpegError):
        return f"the file {label} sent is not a playable video"
    return str(exc)


def copy(generation_id: str) -> str:
    """Claim a finished generation's copy, store its videos and covers, and check them."""
    now = timezone.now()
    claimed = Generation.objects.filter(
        pk=generation_id, state=State.SUCCESS, result_status=ResultStatus.NONE
    ).update(result_status=ResultStatus.FETCHING, updated_at=now)
    if not claimed:
        return "not claimed"
    generation = Generation.objects.get(pk=generation_id)
    ours = Generation.objects.filter(pk=generation.pk, result_status=ResultStatus.FETCHING)
    dialect = dialect_for(generation)
    problem = ""
    with httpx.Client(timeout=120, follow_redirects=True) as http:
        for attempt in range(1, FETCH_ATTEMPTS + 1):
            # A heartbeat: the reconciler takes over copies whose worker went quiet.
            if not ours.update(updated_at=timezone.now()):
                return "taken over"
            try:
                # Fresh URLs every attempt: the provider's expire.
                view = dialect.query(generation.provider_task_id)
                if not view.videos:
                    raise ValueError(f"{dialect.label} reported success but listed no video")
                for video in view.videos:
                    store(generation, video, http)
            except (ProviderError, httpx.HTTPError, ValueError, av.error.FFmpegError) as exc:
                problem = copy_problem(exc, dialect.label)
                log.info("fetch %s attempt %s: %s", generation.pk, attempt, exc)
                if attempt < FETCH_ATTEMPTS:
                    time.sleep(backoff(attempt))
                continue
            Generation.objects.filter(pk=generation.pk).update(
                result_status=ResultStatus.STORED, updated_at=timezone.now()
            )
            return "stored"
    # Only over our own claim: a copy that another worker stored meanwhile stays stored.
    ours.update(
        result_status=ResultStatus.UNAVAILABLE,
        error_message=f"The video could not be copied from {dialect.label}: {problem}. The "
        f"studio tries again every few minutes while {dialect.label} keeps it (24 hours); "
        "you can also retry now.",
        updated_at=timezone.now(),
    )
    return "unavailable"


def store(generation: Generation, video: Video, http) -> None:
    if generation.creations.filter(provider_creation_id=video.id).exists():
        return
    with tempfile.NamedTemporaryFile(suffix=".mp4") as file:
        video_size = _download(http, video.url, file)
        facts = probe_video(file.name)
        record = Creation(
            generation=generation, provider_creation_id=video.id, video_size=video_size, **facts
        )
        file.seek(0)
        record.video.save("video.mp4", File(file), save=False)
        if video.cover_url:
            with tempfile.NamedTemporaryFile(suffix=".jpg") as cover:
                record.cover_size = _download(http, video.cover_url, cover)
                cover.seek(0)
                record.cover.save("cover.jpg", File(cover), save=False)
        else:
            # The provider gives no cover: the studio makes one from the video.
            cover = make_cover(file.name)
            record.cover_size = len(cover)
            record.cover.save("cover.jpg", ContentFile(cover), save=False)
        if video.watermarked_url and generation.params.get("watermark"):
            with tempfile.NamedTemporaryFile(suffix=".mp4") as marked:
                _download(http, video.watermarked_url, marked)
                probe_video(marked.name)
                marked.seek(0)
                record.watermarked.save("video-watermarked.mp4", File(marked), save=False)
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError:
            # Another worker stored the same creation first (a copy job recovered from
            # a worker that only looked dead): keep theirs.
            for stored in (record.video, record.cover, record.watermarked):
                if stored:
                    stored.delete(save=False)


def retry(generation: Generation) -> bool:
    """Try copying a result that could not be copied before."""
    moved = Generation.objects.filter(
        pk=generation.pk, state=State.SUCCESS, result_status=ResultStatus.UNAVAILABLE
    ).update(result_status=ResultStatus.NONE, error_message="", updated_at=timezone.now())
    if moved:
        enqueue_fetch(generation.pk)
    return bool(moved)
