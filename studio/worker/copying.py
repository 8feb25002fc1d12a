"""Copying a finished generation's videos into the studio's storage while the provider's
links are valid (24 hours at Vidu), checking each is a playable video, and making a
cover from the video where the provider gives none, or one that is not a picture.

The links come from the provider's answer and are fetched through `fetching` (public
addresses only, redirects checked) and read no further than what the file can weigh.
Everything is downloaded and checked in temporary files first; only a video that plays
is written to the studio's storage, with its cover and any watermarked copy, and what
was written is removed again when the attempt fails after all. A cover or watermarked
copy that cannot be had never costs the video.
"""

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
from PIL import Image

from studio.models import Creation, Generation, ResultStatus, State
from studio.vidu import registry
from studio.vidu.base import ProviderError, Refused, Video
from studio.worker import fetching
from studio.worker.connections import backoff, dialect_for
from studio.worker.queue import enqueue_fetch

log = logging.getLogger(__name__)

FETCH_ATTEMPTS = 4  # per copy job; the reconciler and the page's button retry later
RESULTS_KEPT_BY_PROVIDER = timedelta(hours=24)  # result URLs stay valid this long
COVER_WIDTH = 640
# What a download may weigh before the studio stops reading it. A video: a generous
# 5 MB a second of the length asked for (40 Mbit/s, well above what a generated 1080p
# video needs), plus a floor for short ones; the longest any model makes when the length
# is unknown. A watermarked copy is held to the same; a cover to a few MB.
VIDEO_BYTES_PER_SECOND = 5_000_000
VIDEO_FLOOR_BYTES = 50_000_000
LONGEST_VIDEO_SECONDS = 16
COVER_MAX_BYTES = 5_000_000
COVER_MAX_PIXELS = 4096 * 4096  # a cover is one frame of the video: 4K fits well within
# FFmpeg picks a reader by what a file holds. A downloaded file is read only as MP4 (the
# ISO/QuickTime reader) and only from that file, so its content can never choose a reader
# that follows links (an HLS playlist's fetches the links listed in it).
VIDEO_FORMAT = "mp4"
VIDEO_OPTIONS = {"protocol_whitelist": "file"}
PROBLEMS = (ProviderError, httpx.HTTPError, ValueError, av.error.FFmpegError)


def _open_video(path: str):
    return av.open(path, format=VIDEO_FORMAT, options=VIDEO_OPTIONS)


def probe_video(path: str) -> dict:
    """Check that a file is a playable video; return its codec, duration and size."""
    with _open_video(path) as container:
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
    with _open_video(path) as container:
        frame = next(container.decode(container.streams.video[0]))
        image = frame.to_image()
    if image.width > COVER_WIDTH:
        image = image.resize((COVER_WIDTH, round(image.height * COVER_WIDTH / image.width)))
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def check_cover(data: bytes) -> None:
    """Raise ValueError unless `data` is a whole JPEG picture of a sensible size (it is
    kept as the cover, served as a JPEG to the team and on share links)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "JPEG":
                raise ValueError(f"the cover is {image.format or 'not a picture'}, not a JPEG")
            if image.width * image.height > COVER_MAX_PIXELS:
                raise ValueError(f"the cover claims {image.width}×{image.height} pixels")
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (image.width // 8 or 1, image.height // 8 or 1))
            image.load()  # decoded, at an eighth of its size: the whole picture is there
    except (OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValueError(f"the cover is not a picture ({exc})") from None


def video_limit(generation: Generation) -> int:
    """The most a video of this generation's length can weigh."""
    try:
        seconds = int(generation.params.get("duration") or 0)
    except (TypeError, ValueError):
        seconds = 0
    seconds = seconds if 0 < seconds <= 600 else LONGEST_VIDEO_SECONDS
    return VIDEO_FLOOR_BYTES + VIDEO_BYTES_PER_SECOND * seconds


def _download(http: httpx.Client, url: str, into, limit: int) -> int:
    """Write the file at `url` into `into`, reading no more than `limit` bytes."""
    with fetching.get(http, url) as response:
        if response.status_code in (401, 403, 404, 410):
            refusal = Refused(
                "ResultExpired", f"result URL answered {response.status_code}", response.status_code
            )
            refusal.url = url  # for the log, which shows its host and path only
            raise refusal
        response.raise_for_status()
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise fetching.TooLarge(f"announced {declared} bytes, over {limit}", url)
        size = 0
        for chunk in response.iter_raw(1024 * 256):
            size += len(chunk)
            if size > limit:
                raise fetching.TooLarge(f"more than {limit} bytes", url)
            into.write(chunk)
    into.flush()
    return size


def copy_problem(exc: Exception, label: str) -> str:
    """What went wrong copying a video, in words for the page (no URLs, no internals)."""
    if isinstance(exc, ProviderError):
        if exc.reason == "ResultExpired":
            return f"{label}'s link to the video had expired"
        return exc.plain
    if isinstance(exc, fetching.NotAllowed):
        return f"{label}'s link led to an address the studio does not fetch from"
    if isinstance(exc, fetching.TooManyRedirects):
        return f"{label}'s link redirected too many times"
    if isinstance(exc, fetching.TooLarge):
        return f"the file {label} sent was larger than a video of that length can be"
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
    try:
        dialect = dialect_for(generation)
    except registry.NoKey as exc:
        # Asking for fresh links would need a key the studio no longer has for that
        # connection (another connection's key is never sent there): say so, and the
        # retry a person presses, or the reconciler's, finds the key once it is set.
        log.warning("generation %s: %s", generation.pk, exc.message)
        ours.update(
            result_status=ResultStatus.UNAVAILABLE,
            error_message=f"The video could not be copied. {exc.plain}",
            updated_at=timezone.now(),
        )
        return "no key"
    problem = ""
    notes: list[str] = []
    with fetching.client(timeout=120) as http:
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
                    note = store(generation, video, http, dialect.label)
                    if note and note not in notes:
                        notes.append(note)
            except PROBLEMS as exc:
                problem = copy_problem(exc, dialect.label)
                # No signed link in the log: its host and path say which file it was.
                log.info("fetch %s attempt %s: %s", generation.pk, attempt, fetching.described(exc))
                if attempt < FETCH_ATTEMPTS:
                    time.sleep(backoff(attempt))
                continue
            # The message of an earlier failed copy goes; what is missing is said instead.
            Generation.objects.filter(pk=generation.pk).update(
                result_status=ResultStatus.STORED,
                error_message=" ".join(notes),
                updated_at=timezone.now(),
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


def store(generation: Generation, video: Video, http, label: str = "the provider") -> str:
    """Copy one video with its cover (and watermarked copy, when one was asked for);
    returns what the team should be told (a watermarked copy that could not be had), or
    an empty string. Raises, having written nothing, when the video itself cannot be had."""
    if generation.creations.filter(provider_creation_id=video.id).exists():
        return ""
    limit = video_limit(generation)
    with (
        tempfile.NamedTemporaryFile(suffix=".mp4") as file,
        tempfile.NamedTemporaryFile(suffix=".mp4") as marked,
    ):
        video_size = _download(http, video.url, file, limit)
        facts = probe_video(file.name)
        cover = _provider_cover(generation, video, http)
        if cover is None:
            # The provider gives no cover, or none the studio keeps: one from the video.
            cover = make_cover(file.name)
        note, has_marked = "", False
        if video.watermarked_url and generation.params.get("watermark"):
            try:
                _download(http, video.watermarked_url, marked, limit)
                probe_video(marked.name)
                has_marked = True
            except PROBLEMS as exc:
                log.warning(
                    "generation %s: the watermarked copy was not kept: %s",
                    generation.pk,
                    fetching.described(exc),
                )
                note = (
                    f"The watermarked copy could not be copied from {label} "
                    f"({copy_problem(exc, label)}); the video is stored without the "
                    "watermark, so it cannot be shared by link."
                )
        record = Creation(
            generation=generation,
            provider_creation_id=video.id,
            video_size=video_size,
            cover_size=len(cover),
            **facts,
        )
        written = []
        try:
            file.seek(0)
            record.video.save("video.mp4", File(file), save=False)
            written.append(record.video)
            record.cover.save("cover.jpg", ContentFile(cover), save=False)
            written.append(record.cover)
            if has_marked:
                marked.seek(0)
                record.watermarked.save("video-watermarked.mp4", File(marked), save=False)
                written.append(record.watermarked)
            with transaction.atomic():
                record.save()
        except IntegrityError:
            # Another worker stored the same creation first (a copy job recovered from
            # a worker that only looked dead): keep theirs.
            _remove(written)
            return ""
        except BaseException:
            _remove(written)  # nothing left behind in the storage for a failed attempt
            raise
    return note


def _provider_cover(generation: Generation, video: Video, http) -> bytes | None:
    """The provider's cover when it is a picture; None when there is none, or when it
    cannot be fetched or is not a picture (the video is kept all the same)."""
    if not video.cover_url:
        return None
    data = io.BytesIO()
    try:
        _download(http, video.cover_url, data, COVER_MAX_BYTES)
        cover = data.getvalue()
        check_cover(cover)
    except PROBLEMS as exc:
        log.warning(
            "generation %s: the provider's cover was not kept, one is made from the video: %s",
            generation.pk,
            fetching.described(exc),
        )
        return None
    return cover


def _remove(stored_files) -> None:
    for stored in stored_files:
        try:
            stored.delete(save=False)
        except Exception:  # the attempt's own failure matters more than this one
            log.exception("could not remove %s", stored.name)


def retry(generation: Generation) -> bool:
    """Try copying a result that could not be copied before."""
    moved = Generation.objects.filter(
        pk=generation.pk, state=State.SUCCESS, result_status=ResultStatus.UNAVAILABLE
    ).update(result_status=ResultStatus.NONE, error_message="", updated_at=timezone.now())
    if moved:
        enqueue_fetch(generation.pk)
    return bool(moved)
