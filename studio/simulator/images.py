"""Load a request's images the way the provider does: a data URI or an http(s) URL to
download, checked by content (not by name) for format, size and pixel count.

Every front takes images as text; `where` names the field in the front's own words
(`images[0]`, `input.first_frame_url`) so its error messages point at what the client sent.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from dataclasses import dataclass

import httpx
from PIL import Image

from studio import catalog

from .errors import bad

EXIF_ORIENTATION = 0x0112
ROTATED_ORIENTATIONS = (5, 6, 7, 8)  # width and height swap once the EXIF turn is applied
DOWNLOAD_TIMEOUT = 10.0
PLACEHOLDER_URL_CHARS = 300


@dataclass
class Picture:
    data: bytes
    format: str  # png, jpeg, webp
    size: tuple[int, int]  # as displayed, EXIF orientation applied
    placeholder: str  # what a create answer echoes instead of the image


def load_picture(where: str, text: str, field: str = "images") -> Picture:
    """The picture, or ApiError (FieldInvalid, ImageDownloadFailure, ImageFormatInvalid)."""
    text = text.strip()
    if text.startswith("data:"):
        data, placeholder = decode_data_uri(where, text, field)
    elif text.startswith(("http://", "https://")):
        data = download(where, text, field)
        placeholder = (
            text
            if len(text) <= PLACEHOLDER_URL_CHARS
            else text[: PLACEHOLDER_URL_CHARS - 3] + "..."
        )
    else:
        raise bad(
            "FieldInvalid",
            f"{where} must be an image URL (http or https) or a data URI such as "
            "data:image/png;base64,...",
            field,
        )
    if len(data) > catalog.IMAGE_MAX_BYTES:
        raise bad("FieldInvalid", f"{where} is larger than 50 MB.", field)
    image_format, size = inspect(where, data, field)
    return Picture(data, image_format, size, placeholder)


def decode_data_uri(where: str, text: str, field: str) -> tuple[bytes, str]:
    header, comma, encoded = text.partition(",")
    if not comma or not header.endswith(";base64"):
        raise bad("FieldInvalid", f"{where} must be base64 data: data:image/png;base64,...", field)
    try:
        data = base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError):
        raise bad("FieldInvalid", f"{where} is not valid base64.", field) from None
    return data, f"{header},...({len(data)} bytes)"


def download(where: str, url: str, field: str) -> bytes:
    try:
        with httpx.stream("GET", url, timeout=DOWNLOAD_TIMEOUT, follow_redirects=True) as answer:
            if answer.status_code != 200:
                raise bad(
                    "ImageDownloadFailure",
                    f"{where} could not be downloaded: HTTP {answer.status_code}.",
                    field,
                )
            chunks, total = [], 0
            for chunk in answer.iter_bytes():
                total += len(chunk)
                if total > catalog.IMAGE_MAX_BYTES:
                    raise bad("FieldInvalid", f"{where} is larger than 50 MB.", field)
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as error:
        raise bad(
            "ImageDownloadFailure",
            f"{where} could not be downloaded: {error.__class__.__name__}.",
            field,
        ) from None


def inspect(where: str, data: bytes, field: str) -> tuple[str, tuple[int, int]]:
    """The image's real format (by content) and its displayed size."""
    accepted = ", ".join(f.upper() for f in catalog.IMAGE_FORMATS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.verify()  # must come straight after open
            with Image.open(io.BytesIO(data)) as image:
                image_format = catalog.CONTENT_FORMATS.get(image.format or "", "")
                image_format = image_format or (image.format or "").lower()
                width, height = image.size
                orientation = image.getexif().get(EXIF_ORIENTATION, 1)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise bad("ImageFormatInvalid", f"{where} has too many pixels.", field) from None
    except Exception:
        raise bad(
            "ImageFormatInvalid", f"{where} is not an image Vidu can read ({accepted}).", field
        ) from None
    if image_format not in catalog.IMAGE_FORMATS:
        raise bad(
            "ImageFormatInvalid",
            f"{where} is {image_format.upper() or 'an unknown format'}; Vidu takes {accepted}.",
            field,
        )
    if orientation in ROTATED_ORIENTATIONS:
        width, height = height, width
    return image_format, (width, height)
