"""Images kept for a form that is not submitted yet: after a validation error, so nobody
uploads twice, and for "generate again", which reuses a generation's images.

Each staged image belongs to one person in one team; every lookup goes through `find`,
which answers None for anybody else's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.core.files import File
from django.utils import timezone

from studio.images import ImageInfo, storable
from studio.models import Generation, StagedImage, Team

# A form left open over lunch still works; a form abandoned yesterday does not.
KEEP_FOR = timedelta(days=1)


def find(team: Team, owner, staged_id: str) -> StagedImage | None:
    try:
        pk = uuid.UUID(str(staged_id))
    except ValueError:
        return None
    return StagedImage.objects.filter(pk=pk, team=team, owner=owner).first()


def keep(team: Team, owner, data, info: ImageInfo, original_name: str) -> StagedImage:
    """Stage an image `images.inspect` accepted: its bytes, or an open file (an upload),
    copied in pieces."""
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
    staged.file.save(f"{staged.pk}.{info.format}", storable(data), save=False)
    staged.save()
    return staged


def open_file(staged: StagedImage) -> File:
    """The staged image's file, open for reading; the caller closes it."""
    return staged.file.storage.open(staged.file.name, "rb")


def info_of(staged: StagedImage) -> ImageInfo:
    """What `images.inspect` found when the image was staged."""
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
        with fh:  # copied in pieces, never held whole
            staged.append(keep(team, owner, fh, info, image.original_name or image.file.name))
    return staged


def discard(staged_images: Iterable[StagedImage | None]) -> None:
    seen = set()
    for staged in staged_images:
        if staged is None or staged.pk in seen:
            continue
        seen.add(staged.pk)
        staged.file.delete(save=False)
        staged.delete()


def sweep(team: Team | None = None) -> int:
    """Forget images staged longer ago than KEEP_FOR: this team's, or everyone's."""
    old = StagedImage.objects.filter(created_at__lt=timezone.now() - KEEP_FOR)
    if team is not None:
        old = old.filter(team=team)
    old = list(old[:500])
    discard(old)
    return len(old)
