"""Input images: read by content, measured the way Vidu measures them, and encoded
into a request body that always fits Vidu's 20 MB limit."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from studio import catalog

# Pillow refuses images over this many pixels (decompression bombs): 16k x 16k.
Image.MAX_IMAGE_PIXELS = 16384 * 16384
PIL_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}


class ImageProblem(ValueError):
    """An upload Vidu would refuse; the message is for the user."""


@dataclass
class ImageInfo:
    format: str  # png, jpeg, webp
    width: int  # after EXIF orientation
    height: int
    size: int


def inspect(data: bytes) -> ImageInfo:
    """Check an uploaded image as Vidu would, by its content, not its name."""
    if len(data) > catalog.IMAGE_MAX_BYTES:
        raise ImageProblem(
            f"This image is {len(data) / 1024 / 1024:.1f} MB; Vidu takes images up to 50 MB."
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = PIL_FORMATS.get(probe.format or "")
            if kind is None:
                raise ImageProblem(
                    f"This file is {probe.format or 'not an image Vidu reads'}; "
                    "Vidu takes PNG, JPEG or WebP."
                )
            if getattr(probe, "n_frames", 1) > 1:
                raise ImageProblem("This image is animated; Vidu needs a still image.")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
            width, height = upright.size
    except ImageProblem:
        raise
    except Image.DecompressionBombError:
        raise ImageProblem("This image has too many pixels to process safely.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageProblem(
            "This file is not an image that can be read (or it is damaged)."
        ) from None
    problem = catalog.image_ratio_problem(width, height)
    if problem:
        raise ImageProblem(problem)
    return ImageInfo(format=kind, width=width, height=height, size=len(data))


def data_uri(data: bytes, kind: str) -> str:
    return f"data:image/{kind};base64,{base64.b64encode(data).decode()}"


def _encoded_size(data: bytes) -> int:
    return (len(data) + 2) // 3 * 4 + 30


def _shrink(data: bytes, budget: int) -> tuple[bytes, str]:
    """Re-encode as JPEG, then downscale, until the image fits `budget` bytes of base64."""
    with Image.open(io.BytesIO(data)) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
    scale = 1.0
    for quality in (92, 85, 80, 80, 80, 80, 80, 80):
        size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
        out = io.BytesIO()
        image.resize(size, Image.Resampling.LANCZOS).save(out, "JPEG", quality=quality)
        if _encoded_size(out.getvalue()) <= budget:
            return out.getvalue(), "jpeg"
        if quality == 80:
            scale *= 0.75
    raise ImageProblem("This image cannot be made small enough for Vidu's 20 MB request limit.")


def request_images(images: list[tuple[bytes, str]], reserve: int = 64 * 1024) -> list[str]:
    """Data URIs for `images` [(bytes, format)], re-encoded where the body would pass 20 MB.

    `reserve` keeps room for the rest of the JSON body (prompt, payload, ...).
    """
    budget = catalog.REQUEST_BODY_MAX_BYTES - reserve
    if sum(_encoded_size(data) for data, _ in images) <= budget:
        return [data_uri(data, kind) for data, kind in images]
    share = budget // len(images)
    uris = []
    for data, kind in images:
        if _encoded_size(data) > share:
            data, kind = _shrink(data, share)
        uris.append(data_uri(data, kind))
    return uris
