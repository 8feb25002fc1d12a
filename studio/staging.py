"""Images kept for a form that is not submitted yet: after a validation error, so nobody
uploads twice, for "generate again", which reuses a generation's images, and a finished
video's last frame, to build the next video on.

Each staged image belongs to one person in one team; every lookup goes through `find`,
which answers None for anybody else's. A person keeps at most
STUDIO_STAGED_MAX_PER_PERSON images of at most STUDIO_STAGED_MAX_BYTES_PER_PERSON in all:
staging one more discards their oldest, never one the form in hand is using.

The periodic sweep also removes upload files a web process left behind in
FILE_UPLOAD_TEMP_DIR (a process killed in the middle of a request never deletes its own).
"""

from __future__ import annotations

import io
import logging
import os
import time
import uuid
from collections.abc import Iterable
from datetime import timedelta

import av
from django.conf import settings
from django.core.files import File
from django.utils import timezone

from studio.images.uploads import ImageInfo, ImageProblem, inspect, storable
from studio.models import Generation, StagedImage, Team

log = logging.getLogger(__name__)

# A form left open over lunch still works; a form abandoned yesterday does not.
KEEP_FOR = timedelta(days=1)
# An upload's temporary file lives as long as its request: one this old was left behind.
UPLOAD_FILES_KEPT_FOR = timedelta(hours=1)


def find(team: Team, owner, staged_id: str) -> StagedImage | None:
    try:
        pk = uuid.UUID(str(staged_id))
    except ValueError:
        return None
    return StagedImage.objects.filter(pk=pk, team=team, owner=owner).first()


def keep(
    team: Team,
    owner,
    data,
    info: ImageInfo,
    original_name: str,
    in_use: Iterable[StagedImage | None] = (),
) -> StagedImage:
    """Stage an image `uploads.inspect` accepted: its bytes, or an open file (an upload),
    copied in pieces without the image's metadata (`studio.images.metadata`).

    `in_use`: the images the form in hand already keeps. Over the person's cap, their
    oldest other staged images are discarded; these, and the new one, never are.
    """
    sweep(team)
    staged = StagedImage(
        team=team,
        owner=owner,
        format=info.format,
        width=info.width,
        height=info.height,
        size=info.size,
        original_name=original_name[:255],
    )
    staged.file.save(f"{staged.pk}.{info.format}", storable(data, info.format), save=False)
    staged.size = staged.file.size  # as stored: smaller by the metadata left out
    staged.save()
    limit(owner, in_use=[staged, *in_use])
    return staged


def limit(owner, in_use: Iterable[StagedImage | None] = ()) -> int:
    """Keep `owner`'s staged images (in every team) within the per-person cap, discarding
    the oldest first and never those `in_use`. How many were discarded."""
    most = settings.STUDIO_STAGED_MAX_PER_PERSON
    most_bytes = settings.STUDIO_STAGED_MAX_BYTES_PER_PERSON
    protected = {image.pk for image in in_use if image is not None}
    mine = list(
        StagedImage.objects.filter(owner=owner)
        .order_by("-created_at", "-pk")
        .values_list("pk", "size")
    )
    count = sum(1 for pk, _ in mine if pk in protected)
    total = sum(size for pk, size in mine if pk in protected)
    over = []
    for pk, size in mine:  # newest first
        if pk in protected:
            continue
        if count + 1 > most or total + size > most_bytes:
            over.append(pk)
        else:
            count, total = count + 1, total + size
    if over:
        discard(StagedImage.objects.filter(pk__in=over))
    return len(over)


def open_file(staged: StagedImage) -> File:
    """The staged image's file, open for reading; the caller closes it."""
    return staged.file.storage.open(staged.file.name, "rb")


def info_of(staged: StagedImage) -> ImageInfo:
    """What `uploads.inspect` found when the image was staged."""
    return ImageInfo(staged.format, staged.width, staged.height, staged.size)


def from_generation(generation: Generation, team: Team, owner) -> list[StagedImage | None]:
    """Copies of a generation's input images, by position; None where a file is gone."""
    staged: list[StagedImage | None] = []
    for image in generation.images.order_by("position"):
        try:
            fh = image.file.open("rb")
        except (FileNotFoundError, OSError, ValueError):
            staged.append(None)
            continue
        info = ImageInfo(image.format, image.width, image.height, image.size)
        name = image.original_name or image.file.name
        with fh:  # copied in pieces, never held whole
            staged.append(keep(team, owner, fh, info, name, in_use=staged))
    return staged


# How far before the end a last frame is looked for: a keyframe is at most this far back
# in the videos Vidu makes, so only the end of the file is decoded.
LAST_FRAME_WINDOW = 2.0


class NoLastFrame(Exception):
    """The stored video could not be read, or holds no picture."""


def last_frame(fh) -> tuple[av.VideoFrame, int]:
    """The last picture of the video in `fh`, and how many frames were decoded to find
    it: from a keyframe shortly before the end, not from the start."""
    try:
        with av.open(fh) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            last, decoded = _decode_tail(container, stream, LAST_FRAME_WINDOW)
            if last is None:  # the seek went past every keyframe: read it all
                last, decoded = _decode_tail(container, stream, None)
    except (av.FFmpegError, IndexError, OSError, ValueError) as exc:
        raise NoLastFrame(str(exc)) from exc
    if last is None:
        raise NoLastFrame("the video holds no picture")
    return last, decoded


def last_frame_png(fh) -> bytes:
    """The last picture of the video in `fh`, as PNG."""
    frame, _ = last_frame(fh)
    out = io.BytesIO()
    frame.to_image().save(out, "PNG")
    return out.getvalue()


def _decode_tail(container, stream, window: float | None):
    """Seek to the keyframe at or before `window` seconds from the end (None: the start)
    and decode on to the last frame."""
    end = float(stream.duration * stream.time_base) if stream.duration else 0.0
    target = max(0.0, end - window) if window is not None else 0.0
    container.seek(int(target / stream.time_base), stream=stream, backward=True)
    last, decoded = None, 0
    for frame in container.decode(stream):
        last, decoded = frame, decoded + 1
    return last, decoded


def from_last_frame(creation, team: Team, owner) -> StagedImage:
    """Stage the last frame of a stored video as the person's image for a new form.
    Raises NoLastFrame when the video cannot be read."""
    try:
        fh = creation.video.open("rb")
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise NoLastFrame(str(exc)) from exc
    with fh:
        data = last_frame_png(fh)
    try:
        info = inspect(data)
    except ImageProblem as exc:
        raise NoLastFrame(str(exc)) from exc
    name = f"last-frame-{str(creation.generation_id)[:8]}.png"
    return keep(team, owner, data, info, name)


def discard(staged_images: Iterable[StagedImage | None]) -> None:
    seen = set()
    for staged in staged_images:
        if staged is None or staged.pk in seen:
            continue
        seen.add(staged.pk)
        staged.file.delete(save=False)
        staged.delete()


def sweep(team: Team | None = None) -> int:
    """Forget images staged longer ago than KEEP_FOR: this team's, or everyone's (and
    then upload files left behind too)."""
    old = StagedImage.objects.filter(created_at__lt=timezone.now() - KEEP_FOR)
    if team is not None:
        old = old.filter(team=team)
    old = list(old[:500])
    discard(old)
    if team is None:
        sweep_upload_files()
    return len(old)


def sweep_upload_files() -> int:
    """Delete files in FILE_UPLOAD_TEMP_DIR older than UPLOAD_FILES_KEPT_FOR: uploads'
    temporary files whose process died before it could delete them. How many."""
    folder = settings.FILE_UPLOAD_TEMP_DIR
    if not folder:
        return 0  # the system's temporary directory is not the studio's to sweep
    before = time.time() - UPLOAD_FILES_KEPT_FOR.total_seconds()
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < before:
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:
            continue  # its request finished meanwhile
        except OSError as exc:
            log.warning("could not remove the left-behind upload %s: %s", entry.path, exc)
    if removed:
        log.info("removed %s upload files left behind in %s", removed, folder)
    return removed
