"""Check a create request the way the provider does, and load its images.

The parameter rules come from `studio.catalog`, the body's shape from
`studio.vidu.schemas.CreateRequest`; this module only turns their verdicts into the
provider's error reasons and fetches or decodes the images.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import warnings
from dataclasses import dataclass

import httpx
from PIL import Image
from pydantic import ValidationError

from studio import catalog
from studio.vidu.schemas import CreateRequest

from .errors import ApiError

EXIF_ORIENTATION = 0x0112
ROTATED_ORIENTATIONS = (5, 6, 7, 8)  # width and height swap once the EXIF turn is applied
DOWNLOAD_TIMEOUT = 10.0


@dataclass
class Picture:
    data: bytes
    format: str  # png, jpeg, webp
    size: tuple[int, int]  # as displayed, EXIF orientation applied
    placeholder: str  # what the create answer echoes instead of the image


@dataclass
class Accepted:
    endpoint: str
    request: CreateRequest
    params: dict  # catalog.check_parameters' params: defaults filled in
    pictures: list[Picture]


def bad(reason: str, message: str) -> ApiError:
    return ApiError(400, reason, message)


def parse_body(raw: bytes) -> dict:
    if len(raw) > catalog.REQUEST_BODY_MAX_BYTES:
        limit = catalog.REQUEST_BODY_MAX_BYTES // (1024 * 1024)
        raise bad("BadRequest", f"The request body is larger than {limit} MB.")
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise bad("BadRequest", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise bad("BadRequest", "The request body must be a JSON object.")
    return data


def check_shape(data: dict) -> CreateRequest:
    try:
        return CreateRequest.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        kind = first["type"]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        if kind == "extra_forbidden":
            raise bad("FieldUnwanted", f"The field {where} is not accepted.") from None
        if kind == "missing":
            raise bad("FieldLacking", f"The field {where} is required.") from None
        if first["loc"][:1] == ("images",) and kind in ("too_short", "too_long"):
            raise bad("FieldItemCountOutOfRange", f"images: {first['msg']}.") from None
        raise bad("FieldInvalid", f"The field {where} is invalid: {first['msg']}.") from None


def check_request(endpoint: str, data: dict) -> Accepted:
    """The accepted request, or ApiError with the provider's reason."""
    request = check_shape(data)
    wanted = catalog.ENDPOINT_RULES[endpoint].images
    if len(request.images) != wanted:
        noun = "image" if wanted == 1 else "images (start and end frame)"
        raise bad(
            "FieldItemCountOutOfRange",
            f"{endpoint} takes exactly {wanted} {noun}; the request has {len(request.images)}.",
        )
    checked = catalog.check_parameters(endpoint, request.body())
    if not checked.ok:
        problem = checked.problems[0]
        raise bad(problem.reason, problem.message)
    pictures = [load_picture(i, text) for i, text in enumerate(request.images)]
    for picture in pictures:
        problem = catalog.image_ratio_problem(*picture.size)
        if problem:
            raise bad("FieldInvalid", problem)
    if len(pictures) == 2:
        problem = catalog.start_end_ratio_problem(pictures[0].size, pictures[1].size)
        if problem:
            raise bad("FieldInvalid", problem)
    return Accepted(endpoint, request, checked.params, pictures)


def load_picture(index: int, text: str) -> Picture:
    where = f"images[{index}]"
    text = text.strip()
    if text.startswith("data:"):
        data, placeholder = decode_data_uri(where, text)
    elif text.startswith(("http://", "https://")):
        data = download(where, text)
        placeholder = text if len(text) <= 300 else text[:297] + "..."
    else:
        raise bad(
            "FieldInvalid",
            f"{where} must be an image URL (http or https) or a data URI such as "
            "data:image/png;base64,...",
        )
    if len(data) > catalog.IMAGE_MAX_BYTES:
        raise bad("FieldInvalid", f"{where} is larger than 50 MB.")
    image_format, size = inspect(where, data)
    return Picture(data, image_format, size, placeholder)


def decode_data_uri(where: str, text: str) -> tuple[bytes, str]:
    header, comma, encoded = text.partition(",")
    if not comma or not header.endswith(";base64"):
        raise bad("FieldInvalid", f"{where} must be base64 data: data:image/png;base64,...")
    try:
        data = base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError):
        raise bad("FieldInvalid", f"{where} is not valid base64.") from None
    return data, f"{header},...({len(data)} bytes)"


def download(where: str, url: str) -> bytes:
    try:
        with httpx.stream("GET", url, timeout=DOWNLOAD_TIMEOUT, follow_redirects=True) as answer:
            if answer.status_code != 200:
                raise bad(
                    "ImageDownloadFailure",
                    f"{where} could not be downloaded: HTTP {answer.status_code}.",
                )
            chunks, total = [], 0
            for chunk in answer.iter_bytes():
                total += len(chunk)
                if total > catalog.IMAGE_MAX_BYTES:
                    raise bad("FieldInvalid", f"{where} is larger than 50 MB.")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as error:
        raise bad(
            "ImageDownloadFailure", f"{where} could not be downloaded: {error.__class__.__name__}."
        ) from None


def inspect(where: str, data: bytes) -> tuple[str, tuple[int, int]]:
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
        raise bad("ImageFormatInvalid", f"{where} has too many pixels.") from None
    except Exception:
        raise bad(
            "ImageFormatInvalid", f"{where} is not an image Vidu can read ({accepted})."
        ) from None
    if image_format not in catalog.IMAGE_FORMATS:
        raise bad(
            "ImageFormatInvalid",
            f"{where} is {image_format.upper() or 'an unknown format'}; Vidu takes {accepted}.",
        )
    if orientation in ROTATED_ORIENTATIONS:
        width, height = height, width
    return image_format, (width, height)
