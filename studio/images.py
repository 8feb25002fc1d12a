"""Input images: read by content, measured the way Vidu measures them, and encoded
into a request body that always fits Vidu's 20 MB limit."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from studio import catalog

# A guard against decompression bombs: a small file that claims a huge canvas. Checked
# from the header before any pixel is decoded, and below Pillow's own limit (about 89
# megapixels) so the simulator, which keeps Pillow's default, never refuses what we pass.
MAX_PIXELS = 80_000_000
EXIF_ORIENTATION = 0x0112
TURNED = (5, 6, 7, 8)  # EXIF orientations shown a quarter turn round: width and height swap
THUMBNAIL_SIZE = (480, 480)


class ImageProblem(ValueError):
    """An upload Vidu would refuse; the message is for the user."""


@dataclass
class ImageInfo:
    format: str  # png, jpeg, webp
    width: int  # as shown, after EXIF orientation
    height: int
    size: int


def size_problem(size: int) -> str | None:
    if size > catalog.IMAGE_MAX_BYTES:
        shown = f"{size / catalog.MB:.1f} MB"
        if shown == "50.0 MB":
            shown = "just over 50 MB"
        return f"This image is {shown}; Vidu takes images up to 50 MB."
    return None


def inspect(data: bytes) -> ImageInfo:
    """Check an uploaded image as Vidu would, by its content, not its name."""
    problem = size_problem(len(data))
    if problem:
        raise ImageProblem(problem)
    accepted = catalog.LIMITS["image_formats"].text
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = catalog.CONTENT_FORMATS.get(image.format or "")
            if kind is None:
                raise ImageProblem(f"This file is a {image.format} image; Vidu takes {accepted}.")
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageProblem(
                    f"This image is {width}×{height} ({width * height / 1e6:.0f} "
                    f"megapixels); the studio takes up to {MAX_PIXELS // 1_000_000} "
                    "megapixels. Scale it down first."
                )
            # An MPO's extra pictures are not frames of an animation.
            if kind != "jpeg" and getattr(image, "n_frames", 1) > 1:
                raise ImageProblem("This image is animated; Vidu needs a still image.")
            orientation = image.getexif().get(EXIF_ORIENTATION, 1)
            if kind == "jpeg":
                # Decoding at an eighth of the size still reads every byte, so a cut
                # or damaged file fails here, at a fraction of the memory.
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            image.load()
    except ImageProblem:
        raise
    except Image.DecompressionBombError:
        raise ImageProblem("This image has too many pixels to be read safely.") from None
    except UnidentifiedImageError:
        raise ImageProblem(f"This file is not an image; Vidu takes {accepted}.") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise ImageProblem(
            "This image is damaged or cut short and cannot be read; save it again and "
            "upload the new file."
        ) from None
    if orientation in TURNED:
        width, height = height, width
    problem = catalog.image_ratio_problem(width, height)
    if problem:
        raise ImageProblem(problem)
    return ImageInfo(format=kind, width=width, height=height, size=len(data))


def thumbnail(data: bytes) -> bytes:
    """A small upright JPEG of an image that `inspect` accepted, for the form."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", THUMBNAIL_SIZE)
        picture = _flatten(ImageOps.exif_transpose(image))
    picture.thumbnail(THUMBNAIL_SIZE)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


def data_uri(data: bytes, kind: str) -> str:
    return f"data:image/{kind};base64,{base64.b64encode(data).decode()}"


def _uri_length(data: bytes, kind: str) -> int:
    # data:image/<kind>;base64, plus the base64 text, plus the JSON quotes and comma.
    return len(f"data:image/{kind};base64,") + (len(data) + 2) // 3 * 4 + 3


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG: transparency over black, as the simulator's renderer shows it."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (0, 0, 0))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _scaled(size: tuple[int, int], factor: float) -> tuple[int, int]:
    """`size` times `factor`, keeping the aspect ratio on the allowed side of 1:4 and 4:1."""
    width, height = size
    new_w = max(1, round(width * factor))
    new_h = max(1, round(new_w * height / width))
    while catalog.image_ratio_problem(new_w, new_h) and new_w > 1 and new_h > 1:
        if new_w > new_h:
            new_w -= 1
        else:
            new_h -= 1
    return new_w, new_h


def shrink(data: bytes, budget: int) -> bytes:
    """Re-encode as JPEG, then downscale, until its data URI takes at most `budget` bytes.

    Returns JPEG bytes of the same picture, upright (EXIF orientation applied), with the
    aspect ratio kept. Downscaling goes on as far as needed: the request must fit.
    """
    with Image.open(io.BytesIO(data)) as image:
        picture = _flatten(ImageOps.exif_transpose(image))
    for quality in (92, 85):
        out = _jpeg(picture, quality)
        if _uri_length(out, "jpeg") <= budget:
            return out
    size = picture.size
    while True:
        # Bytes grow with the area: aim a little under the budget in one step.
        factor = min(0.9, max(0.1, (budget / _uri_length(out, "jpeg")) ** 0.5 * 0.95))
        size = _scaled(size, factor)
        out = _jpeg(picture.resize(size, Image.Resampling.LANCZOS), 85)
        if _uri_length(out, "jpeg") <= budget:
            return out
        if max(size) <= 16:
            raise ImageProblem(
                "This image cannot be made small enough for Vidu's 20 MB request limit."
            )


def _jpeg(picture: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def request_images(
    images: list[tuple[bytes, str]], reserve: int = 64 * 1024, urls: list[str | None] | None = None
) -> list[str]:
    """What to send as `images` for [(bytes, format)], so the request body fits 20 MB.

    `reserve`: bytes the rest of the JSON body takes. Images go as data URIs while they
    fit. An image that does not fit its share goes as its URL in `urls` (a link Vidu can
    fetch: the studio's own copy), or, without one, is re-encoded and downscaled until
    it fits. Smaller images keep their bytes; the larger ones share what is left.
    """
    urls = urls or [None] * len(images)
    budget = catalog.REQUEST_BODY_MAX_BYTES - reserve
    if sum(_uri_length(data, kind) for data, kind in images) <= budget:
        return [data_uri(data, kind) for data, kind in images]
    out: list[str] = [""] * len(images)
    order = sorted(range(len(images)), key=lambda i: _uri_length(*images[i]))
    left = budget
    for rank, index in enumerate(order):
        data, kind = images[index]
        share = left // (len(images) - rank)
        if _uri_length(data, kind) <= share:
            out[index] = data_uri(data, kind)
        elif urls[index]:
            out[index] = urls[index]
        else:
            out[index] = data_uri(shrink(data, share), "jpeg")
        left -= len(out[index]) + 3
    return out


def json_size(body: dict) -> int:
    """Bytes `body` takes as compact JSON, whether the client escapes non-ASCII or not."""
    utf8 = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    escaped = json.dumps(body, separators=(",", ":")).encode()
    return max(len(utf8), len(escaped))
