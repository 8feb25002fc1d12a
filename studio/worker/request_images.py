"""The `images` of a provider request, packed so the body always fits Vidu's 20 MB limit:
each image as a base64 data URI while it fits, as a link Vidu can fetch, or re-encoded
as a smaller JPEG until it fits.

Nothing sent carries the image's metadata: bytes sent as they are go without their
EXIF, XMP or text (`studio.images.metadata`), a re-encoded copy is written without any,
and a link serves the studio's copy, stored without it.

Everything is decided from the images' sizes; an image is read only to be sent as its
bytes or re-encoded, and re-encoding starts from the picture decoded at a reduced size
(`studio.images.decoding`), in one of the process's decoding turns.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO

from PIL import Image

from studio import catalog
from studio.images import decoding, metadata
from studio.images.formats import ImageSource
from studio.images.uploads import ImageProblem

# A copy re-encoded to fit Vidu's 20 MB body starts from the picture decoded at no more
# than this many pixels (4096 × 4096: more than any video Vidu makes shows).
DECODE_MAX_PIXELS = 4096 * 4096


@dataclass(frozen=True)
class Source:
    """An image to send, known by its size and format before it is read.

    Whether it goes as a data URI, as a link or re-encoded is decided from those; its
    bytes are read only when they are sent or re-encoded. `open` gives a new binary file
    each call, which the caller closes.
    """

    size: int
    format: str
    open: Callable[[], IO[bytes]]

    @classmethod
    def of(cls, data: bytes, kind: str) -> Source:
        return cls(len(data), kind, lambda: io.BytesIO(data))

    def read(self) -> bytes:
        """Its bytes as they are sent: without the image's metadata (EXIF, XMP, text),
        read in pieces; never more than `size`."""
        with self.open() as fh:
            return metadata.strip(fh, self.format)


def request_images(
    images: Sequence[Source | tuple[bytes, str]],
    reserve: int = 64 * 1024,
    urls: Sequence[str | None] | None = None,
) -> list[str]:
    """What to send as `images`, so the request body fits 20 MB.

    `images`: a `Source` per image, or (bytes, format). `reserve`: bytes the rest of the
    JSON body takes. Images go as data URIs while they fit. An image that does not fit
    its share goes as its URL in `urls` (a link Vidu can fetch: the studio's own copy),
    or, without one, is re-encoded and downscaled until it fits. Smaller images keep
    their bytes; the larger ones share what is left. Everything is decided from the
    sizes: an image is read only to be sent as its bytes or re-encoded.
    """
    sources = [i if isinstance(i, Source) else Source.of(*i) for i in images]
    urls = urls or [None] * len(sources)
    budget = catalog.REQUEST_BODY_MAX_BYTES - reserve
    lengths = [_uri_length(source.size, source.format) for source in sources]
    if sum(lengths) <= budget:
        return [data_uri(source.read(), source.format) for source in sources]
    out: list[str] = [""] * len(sources)
    order = sorted(range(len(sources)), key=lengths.__getitem__)
    left = budget
    for rank, index in enumerate(order):
        source = sources[index]
        share = left // (len(sources) - rank)
        if lengths[index] <= share:
            out[index] = data_uri(source.read(), source.format)
        elif urls[index]:
            out[index] = urls[index]
        else:
            with source.open() as fh:
                out[index] = data_uri(shrink(fh, share), "jpeg")
        left -= len(out[index]) + 3
    return out


def json_size(body: dict) -> int:
    """Bytes `body` takes as compact JSON, whether the client escapes non-ASCII or not."""
    utf8 = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    escaped = json.dumps(body, separators=(",", ":")).encode()
    return max(len(utf8), len(escaped))


def data_uri(data: bytes, kind: str) -> str:
    return f"data:image/{kind};base64,{base64.b64encode(data).decode()}"


def _uri_length(size: int, kind: str) -> int:
    """What a data URI of `size` bytes takes in the body: data:image/<kind>;base64,
    the base64 text, and the JSON quotes and comma."""
    return len(f"data:image/{kind};base64,") + (size + 2) // 3 * 4 + 3


def shrink(source: ImageSource, budget: int) -> bytes:
    """Re-encode as JPEG, then downscale, until its data URI takes at most `budget` bytes.

    `source`: the image's bytes, path or open file. Returns JPEG bytes of the same
    picture, upright (EXIF orientation applied), with the aspect ratio kept. Downscaling
    goes on as far as needed: the request must fit. The picture is decoded at no more
    than DECODE_MAX_PIXELS, in one of the process's decoding turns (`in_turn`).
    """
    return decoding.in_turn(_shrink, source, budget)


def _shrink(source: ImageSource, budget: int) -> bytes:
    picture = decoding.picture(source, DECODE_MAX_PIXELS, costly=True)

    def fits(jpeg: bytes) -> bool:
        return _uri_length(len(jpeg), "jpeg") <= budget

    for quality in (92, 85):
        out = decoding.jpeg(picture, quality, optimize=True)
        if fits(out):
            return out
    size = picture.size
    while True:
        # Bytes grow with the area: aim a little under the budget in one step.
        factor = min(0.9, max(0.1, (budget / _uri_length(len(out), "jpeg")) ** 0.5 * 0.95))
        size = decoding.scaled(size, factor)
        out = decoding.jpeg(picture.resize(size, Image.Resampling.LANCZOS), 85, optimize=True)
        if fits(out):
            return out
        if max(size) <= 16:
            raise ImageProblem(
                "This image cannot be made small enough for Vidu's 20 MB request limit."
            )
