"""Input images: read by content, measured the way Vidu measures them, and encoded
into a request body that always fits Vidu's 20 MB limit.

An image may be 50 MB: none is ever read whole to be checked. Dimensions and EXIF
orientation come from the headers, the rest of the file is checked in pieces, and a
picture is decoded only where that takes little memory.

A small file may claim a huge canvas (80 megapixels of one colour fit in a quarter of a
megabyte of PNG). A thumbnail or a re-encoded copy is therefore decoded at a reduced size:
a JPEG by libjpeg's scaling, a PNG a band of rows at a time, each band averaged down
before the next is read, so the whole canvas is never in memory. A picture that cannot
be decoded small (a big WebP or progressive JPEG) gets a placeholder thumbnail instead.
Every decode runs on one of a few decoding threads per process (`in_turn`), so many
at once wait rather than add up.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import re
import struct
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TypeVar

from django.conf import settings
from django.core.files.base import ContentFile, File
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from studio import catalog

T = TypeVar("T")

# A guard against decompression bombs: a small file that claims a huge canvas. Checked
# from the header before any pixel is decoded, and below Pillow's own limit (about 89
# megapixels) so the simulator, which keeps Pillow's default, never refuses what we pass.
MAX_PIXELS = 80_000_000
EXIF_ORIENTATION = 0x0112
TURNED = (5, 6, 7, 8)  # EXIF orientations shown a quarter turn round: width and height swap
THUMBNAIL_SIZE = (480, 480)
# The memory a check may spend decoding a picture. A WebP or a progressive JPEG that
# needs more is checked by its structure instead: every chunk or segment present, to
# the end. (A PNG's pixel data is always inflated in full, a piece at a time; a baseline
# JPEG is decoded at an eighth of its size.)
CHECK_MAX_BYTES = 32 * 1024 * 1024
PIECE = 1024 * 1024  # files are read in pieces of at most this size
METADATA_MAX_BYTES = 1024 * 1024  # an EXIF or XMP block bigger than this is not read
# A thumbnail is made from the picture decoded at no more than this many pixels (twice
# the thumbnail's size each way, for a clean downscale).
THUMBNAIL_DECODE_PIXELS = (2 * THUMBNAIL_SIZE[0]) * (2 * THUMBNAIL_SIZE[1])
# A copy re-encoded to fit Vidu's 20 MB body starts from the picture decoded at no more
# than this many pixels (4096 × 4096: more than any video Vidu makes shows).
DECODE_MAX_PIXELS = 4096 * 4096
# The memory a thumbnail may spend on a format that cannot be decoded small (a WebP's
# canvas, a progressive JPEG's coefficients). Above it the thumbnail is a placeholder.
DECODE_MAX_BYTES = 64 * 1024 * 1024
# A big PNG is decoded this many bytes of its rows at a time.
PNG_BAND_BYTES = 1024 * 1024


class ImageProblem(ValueError):
    """An upload Vidu would refuse; the message is for the user."""


class TooCostly(Exception):
    """The picture cannot be decoded within the memory allowed here; its size as shown."""

    def __init__(self, width: int, height: int):
        super().__init__(f"a {width}×{height} picture that cannot be decoded small")
        self.width, self.height = width, height


_on_decoder = threading.local()
_decoders_lock = threading.Lock()
_decoders: tuple[int, int, ThreadPoolExecutor] | None = None  # count, pid, threads


def _mark_decoder() -> None:
    _on_decoder.yes = True


def in_turn(work: Callable[..., T], *args) -> T:
    """Run `work(*args)`, a decode, on one of this process's STUDIO_IMAGE_DECODES
    decoding threads, and wait for it: more decodes at once wait their turn.

    The same few threads do every decode, so the memory a decode leaves with the
    allocator after it is done stays with them, instead of with each of a web
    process's request threads in turn.
    """
    global _decoders
    if getattr(_on_decoder, "yes", False):
        return work(*args)  # already in a turn
    count = max(1, int(getattr(settings, "STUDIO_IMAGE_DECODES", 2)))
    with _decoders_lock:
        if _decoders is None or _decoders[:2] != (count, os.getpid()):
            if _decoders is not None and _decoders[1] == os.getpid():
                _decoders[2].shutdown(wait=False)
            _decoders = (
                count,
                os.getpid(),
                ThreadPoolExecutor(count, "image-decode", initializer=_mark_decoder),
            )
        pool = _decoders[2]
    return pool.submit(work, *args).result()


@dataclass
class ImageInfo:
    format: str  # png, jpeg, webp
    width: int  # as shown, after EXIF orientation
    height: int
    size: int


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
        with self.open() as fh:
            return fh.read()


def storable(data: bytes | IO[bytes]) -> File:
    """Content for a FileField's save(): bytes as they are, a file copied in pieces.

    An upload is wrapped rather than given as it is, so that the storage copies its
    temporary file instead of moving it away from a request that may read it again.
    """
    if isinstance(data, (bytes, bytearray)):
        return ContentFile(data)
    return File(data)


@contextmanager
def _opened(source: bytes | IO[bytes] | str | os.PathLike) -> Iterator[tuple[IO[bytes], int]]:
    """A binary file for `source` (bytes, a path, or an open file such as an upload),
    at its start, and its size in bytes. A file given open is left open."""
    if isinstance(source, (bytes, bytearray)):
        yield io.BytesIO(source), len(source)
    elif isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fh:
            yield fh, os.fstat(fh.fileno()).st_size
    else:
        size = getattr(source, "size", None)
        if size is None:
            source.seek(0, os.SEEK_END)
            size = source.tell()
        source.seek(0)
        yield source, size


def size_problem(size: int) -> str | None:
    if size > catalog.IMAGE_MAX_BYTES:
        shown = f"{size / catalog.MB:.1f} MB"
        if shown == "50.0 MB":
            shown = "just over 50 MB"
        return f"This image is {shown}; Vidu takes images up to 50 MB."
    return None


def inspect(source: bytes | IO[bytes] | str | os.PathLike) -> ImageInfo:
    """Check an uploaded image as Vidu would, by its content, not its name.

    `source`: the image's bytes, its path, or an open file (an upload, read from its
    start; left open). The file is read in pieces, and a picture is decoded only where
    that takes at most CHECK_MAX_BYTES (see the module's docstring).
    """
    accepted = catalog.LIMITS["image_formats"].text
    with _opened(source) as (fh, size):
        problem = size_problem(size)
        if problem:
            raise ImageProblem(problem)
        try:
            kind, width, height, orientation = in_turn(_examine, fh, size, accepted)
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
    width, height = _shown(width, height, orientation)
    problem = catalog.image_ratio_problem(width, height)
    if problem:
        raise ImageProblem(problem)
    return ImageInfo(format=kind, width=width, height=height, size=size)


def _examine(fh: IO[bytes], size: int, accepted: str) -> tuple[str, int, int, int]:
    """(format, width, height, EXIF orientation) of a file that must be whole. Run
    `in_turn`: it may decode a small picture or a reduced one."""
    head = fh.read(32)
    fh.seek(0)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        # Pillow reads a WebP whole and sets aside its canvas as it opens it.
        width, height = _webp_canvas(head) or (0, 0)
        if size + width * height * 4 > CHECK_MAX_BYTES:
            return _examine_webp(fh, size)
    with Image.open(fh) as image:
        kind = catalog.CONTENT_FORMATS.get(image.format or "")
        if kind is None:
            raise ImageProblem(f"This file is a {image.format} image; Vidu takes {accepted}.")
        width, height = image.size
        _check_pixel_count(width, height)
        # An MPO's extra pictures are not frames of an animation.
        if kind != "jpeg" and getattr(image, "n_frames", 1) > 1:
            raise ImageProblem("This image is animated; Vidu needs a still image.")
        if kind == "png":
            # PngImageFile.getexif() decodes the picture to look for an eXIf chunk after
            # the pixel data; the check below finds that chunk on its way.
            info = dict(image.info)
            late_exif = _check_png(fh, size)
            if late_exif and "exif" not in info:
                info["exif"] = late_exif
            return kind, width, height, _orientation(info)
        orientation = image.getexif().get(EXIF_ORIENTATION, 1)  # from the header
        if kind == "jpeg":
            _check_jpeg(image, fh)
        else:
            image.load()  # a WebP small enough to decode
    return kind, width, height, orientation


def _check_pixel_count(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ImageProblem(
            f"This image is {width}×{height} ({width * height / 1e6:.0f} "
            f"megapixels); the studio takes up to {MAX_PIXELS // 1_000_000} "
            "megapixels. Scale it down first."
        )


def _orientation(info: dict) -> int:
    """The EXIF orientation that Pillow reads from an image's metadata (EXIF, then XMP),
    read from `info` alone: a probe image stands in for the file, so nothing loads."""
    probe = Image.new("L", (1, 1))
    probe.info.update(info)
    return probe.getexif().get(EXIF_ORIENTATION, 1)


def _read_exact(fh: IO[bytes], n: int) -> bytes:
    data = fh.read(n)
    if len(data) < n:
        raise EOFError("the file ends early")
    return data


# PNG

_CHUNK_NAME = re.compile(rb"\w{4}")  # what Pillow takes for a chunk's name
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by colour type
# Adam7's passes: (first column, first row, column step, row step).
_ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)


def _png_rows(ihdr: bytes) -> list[tuple[int, int]]:
    """(bytes per row with its filter byte, rows) for each pass of a PNG's pixel data."""
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", ihdr[:13])
    if colour not in _PNG_CHANNELS:
        raise SyntaxError(f"unknown PNG colour type {colour}")
    bits = depth * _PNG_CHANNELS[colour]
    rows = []
    for x0, y0, dx, dy in _ADAM7 if interlace else ((0, 0, 1, 1),):
        across = (width - x0 + dx - 1) // dx if width > x0 else 0
        down = (height - y0 + dy - 1) // dy if height > y0 else 0
        if across and down:
            rows.append((1 + (across * bits + 7) // 8, down))
    return rows


class _Filters:
    """Checks the filter byte that starts each row as inflated pixel data goes by."""

    def __init__(self, rows: list[tuple[int, int]]):
        self.passes = iter(rows)
        self.row_bytes, self.left = next(self.passes, (0, 0))
        self.at = 0  # where the next filter byte is

    def check(self, data: bytes, start: int) -> None:
        end = start + len(data)
        while self.left and self.at < end:
            if data[self.at - start] > 4:
                raise OSError("unrecognized data stream contents when reading image file")
            self.at += self.row_bytes
            self.left -= 1
            if not self.left:
                self.row_bytes, self.left = next(self.passes, (0, 0))


def _check_png(fh: IO[bytes], size: int) -> bytes | None:
    """Inflate a PNG's pixel data a piece at a time, keeping none of it.

    Fails where decoding would: rows missing, an unknown filter, broken compression, a
    chunk after the pixels cut short. Returns an eXIf chunk that follows the pixel data,
    which Pillow's header does not have.
    """
    inflater = zlib.decompressobj()
    filters: _Filters | None = None
    need = got = 0
    pixels = "before"  # then "reading", then "done"
    late_exif = None
    for name, length, start in _png_chunks(fh):
        if not _CHUNK_NAME.fullmatch(name):
            if pixels == "done":
                break  # as Pillow: what follows complete pixels may be anything
            raise SyntaxError(f"broken PNG file (chunk {name!r})")
        if name == b"IHDR" and filters is None:
            rows = _png_rows(_read_exact(fh, 13))
            filters = _Filters(rows)
            need = sum(row_bytes * count for row_bytes, count in rows)
        elif name == b"IDAT" and pixels != "done" and filters is not None:
            pixels = "reading"
            got = _inflate(fh, length, inflater, filters, got, need)
            if got >= need:
                pixels = "done"
        elif pixels == "reading" or name == b"IEND":
            break  # the pixel data ends with the first chunk of another kind
        elif pixels == "done":
            # Pillow reads each chunk after the pixel data in full.
            if start + length > size:
                raise OSError("Truncated File Read")
            if name == b"eXIf" and late_exif is None and length <= METADATA_MAX_BYTES:
                late_exif = b"Exif\x00\x00" + _read_exact(fh, length)
    if filters is None or got < need:
        raise OSError("image file is truncated")
    return late_exif


def _png_chunks(fh: IO[bytes]) -> Iterator[tuple[bytes, int, int]]:
    """Each chunk of a PNG: its name, its length and where its data starts. The reader
    may read some of the data; the next chunk is found from the length whatever it read,
    past the CRC (zlib checks the pixel data itself)."""
    fh.seek(8)
    while True:
        head = fh.read(8)
        if len(head) < 8:
            return
        length, name = struct.unpack(">I4s", head)
        start = fh.tell()
        yield name, length, start
        fh.seek(start + length + 4)


def _inflate(fh: IO[bytes], length: int, inflater, filters: _Filters, got: int, need: int) -> int:
    """Feed one IDAT chunk to `inflater`, up to the last row; the bytes inflated so far."""
    left = length
    while left and got < need and not inflater.eof:
        data = fh.read(min(PIECE, left))
        if not data:
            break  # cut short: what is there may still hold every row
        left -= len(data)
        while data and got < need:
            try:
                out = inflater.decompress(data, min(PIECE, need - got))
            except zlib.error as exc:
                raise OSError(f"broken data stream: {exc}") from None
            filters.check(out, got)
            got += len(out)
            data = inflater.unconsumed_tail
    return got


# JPEG


def _check_jpeg(image: Image.Image, fh: IO[bytes]) -> None:
    width, height = image.size
    coefficients = width * height * 2 * len(image.getbands())
    if image.info.get("progressive") and coefficients > CHECK_MAX_BYTES:
        # A progressive JPEG is decoded from the coefficients of the whole picture,
        # whatever the scale asked for: follow its segments to the end marker instead.
        _check_jpeg_segments(fh)
        return
    # Decoding at an eighth of the size still reads every byte, so a cut or damaged
    # file fails here, at a fraction of the memory.
    image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
    image.load()


def _check_jpeg_segments(fh: IO[bytes]) -> None:
    """Follow a JPEG's segments from its start marker to its end marker, in pieces."""
    fh.seek(0)
    if fh.read(2) != b"\xff\xd8":
        raise SyntaxError("not a JPEG file")
    while True:
        marker = _next_marker(fh)
        if marker is None:
            raise OSError("image file is truncated")
        if marker == 0xD9:  # EOI
            return
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # no length follows
            continue
        (length,) = struct.unpack(">H", _read_exact(fh, 2))
        if length < 2:
            raise SyntaxError("broken JPEG segment")
        fh.seek(length - 2, os.SEEK_CUR)


def _next_marker(fh: IO[bytes]) -> int | None:
    """The code of the next marker, the file left just after it; None at the end.

    Passes over entropy-coded data: 0xFF then 0x00 is a stuffed byte, 0xFF then 0xFF
    fill, 0xFF then 0xD0-0xD7 a restart marker inside the scan.
    """
    while True:
        start = fh.tell()
        piece = fh.read(PIECE)
        if not piece:
            return None
        at = piece.find(b"\xff")
        while at >= 0:
            if at + 1 == len(piece):
                if len(piece) < PIECE:
                    return None
                fh.seek(start + at)  # read again from this 0xFF
                break
            code = piece[at + 1]
            if code == 0x00 or code == 0xFF or 0xD0 <= code <= 0xD7:
                at = piece.find(b"\xff", at + 1)
                continue
            fh.seek(start + at + 2)
            return code


# WebP


def _webp_canvas(head: bytes) -> tuple[int, int] | None:
    """A WebP's size from its first 30 bytes, when its first chunk says it."""
    if len(head) < 30:
        return None
    return _webp_chunk_size(head[12:16], head[20:30])


def _webp_chunk_size(name: bytes, body: bytes) -> tuple[int, int] | None:
    if name == b"VP8X" and len(body) >= 10:
        return int.from_bytes(body[4:7], "little") + 1, int.from_bytes(body[7:10], "little") + 1
    if name == b"VP8 " and len(body) >= 10 and body[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", body[6:10])
        return width & 0x3FFF, height & 0x3FFF
    if name == b"VP8L" and len(body) >= 5 and body[0] == 0x2F:
        bits = int.from_bytes(body[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _examine_webp(fh: IO[bytes], size: int) -> tuple[str, int, int, int]:
    """A WebP too big to decode for a check: its chunks read one by one, each of them
    there in full, the size, frames and metadata taken from them."""
    head = _read_exact(fh, 12)
    end = 8 + struct.unpack("<I", head[4:8])[0]
    if end > size:
        raise OSError("image file is truncated")
    canvas = picture = None
    animated, frames, info = False, 0, {}
    at = 12
    while at + 8 <= end:
        fh.seek(at)
        name, length = struct.unpack("<4sI", _read_exact(fh, 8))
        if at + 8 + length > end:
            raise OSError("image file is truncated")
        if name == b"VP8X":
            body = _read_exact(fh, min(length, 10))
            canvas = _webp_chunk_size(name, body)
            animated = bool(body[0] & 0x02)
        elif name in (b"VP8 ", b"VP8L") and picture is None:
            picture = _webp_chunk_size(name, _read_exact(fh, min(length, 10)))
            if picture is None:
                raise SyntaxError("broken WebP bitstream header")
        elif name == b"ANMF":
            frames += 1
        elif name in (b"EXIF", b"XMP ") and length <= METADATA_MAX_BYTES:
            info["exif" if name == b"EXIF" else "xmp"] = _read_exact(fh, length)
        at += 8 + length + (length & 1)
    width, height = canvas or picture or (0, 0)
    if not width or not height or (picture is None and not frames):
        raise SyntaxError("a WebP without a picture")
    limit = Image.MAX_IMAGE_PIXELS
    if limit and width * height > 2 * limit:
        raise Image.DecompressionBombError("too many pixels")
    _check_pixel_count(width, height)
    if animated and frames > 1:
        raise ImageProblem("This image is animated; Vidu needs a still image.")
    return "webp", width, height, _orientation(info)


def thumbnail(source: bytes | IO[bytes] | str | os.PathLike) -> bytes:
    """A small upright JPEG of an image that `inspect` accepted, for the form.

    Decoded at a reduced size (see the module's docstring); a picture that cannot be
    decoded small gets a placeholder of its shape that says so.
    """
    return in_turn(_thumbnail, source)


def _thumbnail(source: bytes | IO[bytes] | str | os.PathLike) -> bytes:
    try:
        picture = _picture(source, THUMBNAIL_DECODE_PIXELS, costly=False)
    except TooCostly as big:
        picture = _placeholder(big.width, big.height)
    picture.thumbnail(THUMBNAIL_SIZE)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


def _placeholder(width: int, height: int) -> Image.Image:
    """A plain tile of the picture's shape, saying that it has no preview."""
    size = _scaled((width, height), min(1.0, THUMBNAIL_SIZE[0] / max(width, height)))
    tile = Image.new("RGB", size, (58, 58, 58))
    draw = ImageDraw.Draw(tile)
    font = ImageFont.load_default(size=max(10, min(18, size[0] // 12, size[1] // 4)))
    draw.multiline_text(
        (size[0] / 2, size[1] / 2),
        f"No preview\n{width} x {height} pixels",
        fill=(220, 220, 220),
        font=font,
        anchor="mm",
        align="center",
    )
    return tile


def data_uri(data: bytes, kind: str) -> str:
    return f"data:image/{kind};base64,{base64.b64encode(data).decode()}"


def _uri_length(size: int, kind: str) -> int:
    """What a data URI of `size` bytes takes in the body: data:image/<kind>;base64,
    the base64 text, and the JSON quotes and comma."""
    return len(f"data:image/{kind};base64,") + (size + 2) // 3 * 4 + 3


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG: transparency over black, as the simulator's renderer shows it."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (0, 0, 0))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode == "RGB":
        return image  # converting would only copy the whole picture
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


def _picture(
    source: bytes | IO[bytes] | str | os.PathLike, max_pixels: int, *, costly: bool
) -> Image.Image:
    """The picture, upright and flattened to RGB, at no more than about `max_pixels`.

    Decoded at a reduced size where the format allows: a JPEG by libjpeg's scaling (down
    to an eighth), a PNG a band of rows at a time (`_png_reduced`); the rest is a
    downscale of what was decoded. A WebP's whole canvas and a progressive JPEG's
    coefficients take memory whatever the size asked for: with `costly` false, one that
    takes more than DECODE_MAX_BYTES raises TooCostly instead. Run it `in_turn`.
    """
    with _opened(source) as (fh, size):
        head = fh.read(32)
        fh.seek(0)
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            # Pillow sets aside the whole canvas as it opens a WebP: judged before.
            width, height = _webp_canvas(head) or (0, 0)
            if not costly and (width * height * 4 > DECODE_MAX_BYTES or not width):
                _, width, height, orientation = _examine_webp(fh, size)
                if width * height * 4 > DECODE_MAX_BYTES:
                    raise TooCostly(*_shown(width, height, orientation))
            fh.seek(0)
        with Image.open(fh) as image:
            width, height = image.size
            if image.format == "PNG" and width * height > max_pixels:
                picture, info = _png_reduced(fh, image, max_pixels)
            else:
                if image.format in ("JPEG", "MPO"):
                    if (
                        not costly
                        and image.info.get("progressive")
                        and _jpeg_coefficient_bytes(image) > DECODE_MAX_BYTES
                    ):
                        orientation = image.getexif().get(EXIF_ORIENTATION, 1)  # the header's
                        raise TooCostly(*_shown(width, height, orientation))
                    _draft(image, max_pixels)
                image.load()
                info = image.info
                picture = image
                if picture.width * picture.height > max_pixels:
                    picture = _reduce(picture, max_pixels)
                picture = _flatten(picture)
    # Turned upright last, at the reduced size.
    picture.info = {k: v for k, v in info.items() if k in ("exif", "xmp", "XML:com.adobe.xmp")}
    ImageOps.exif_transpose(picture, in_place=True)
    return picture


def _shown(width: int, height: int, orientation: int) -> tuple[int, int]:
    """A picture's size as shown, after its EXIF orientation."""
    return (height, width) if orientation in TURNED else (width, height)


def _draft(image: Image.Image, max_pixels: int) -> None:
    """Have libjpeg decode at a half, a quarter or an eighth of the size, the largest
    that keeps to `max_pixels` (an eighth when none does)."""
    width, height = image.size
    factor = 1
    while factor < 8 and math.ceil(width / factor) * math.ceil(height / factor) > max_pixels:
        factor *= 2
    if factor > 1:
        image.draft("RGB", (width // factor, height // factor))


def _jpeg_coefficient_bytes(image: Image.Image) -> int:
    """The memory libjpeg sets aside for a progressive JPEG's coefficients: two bytes a
    sample, for each component at its own sampling, in whole 8 × 8 blocks."""
    width, height = image.size
    layers = getattr(image, "layer", None) or [("", 1, 1, 0)] * len(image.getbands())
    h_max = max(layer[1] for layer in layers) or 1
    v_max = max(layer[2] for layer in layers) or 1
    total = 0
    for _, h, v, _ in layers:
        blocks_across = math.ceil(math.ceil(width * h / h_max) / 8) + 1
        blocks_down = math.ceil(math.ceil(height * v / v_max) / 8) + 1
        total += blocks_across * blocks_down * 64 * 2
    return total


def _reduce(picture: Image.Image, max_pixels: int) -> Image.Image:
    """`picture` averaged down by a whole factor to at most `max_pixels`."""
    factor = math.ceil(math.sqrt(picture.width * picture.height / max_pixels))
    while math.ceil(picture.width / factor) * math.ceil(picture.height / factor) > max_pixels:
        factor += 1
    if picture.mode not in ("L", "LA", "RGB", "RGBA", "RGBX", "CMYK", "I", "F"):
        picture = _flatten(picture)
    return picture.reduce(factor)


def _png_reduced(fh: IO[bytes], image: Image.Image, max_pixels: int) -> tuple[Image.Image, dict]:
    """A PNG's picture averaged down to at most `max_pixels`, flattened to RGB, and the
    metadata found on the way (an eXIf chunk after the pixel data included).

    The pixel data is inflated a piece at a time and handled a band of rows at a time:
    Pillow undoes each band's filters (`_unfilter`) and unpacks it, the band is averaged
    down, and only the reduced picture is kept. An interlaced PNG is read from its first
    pass, an eighth of the picture each way, which comes first in the data.
    """
    info = dict(image.info)
    png = _PngBands(image)
    reading = "before"
    for name, length, _start in _png_chunks(fh):
        if name == b"IHDR" and png.ihdr is None:
            png.begin(_read_exact(fh, 13), max_pixels)
        elif name == b"PLTE" and png.palette is None:
            png.palette = _read_exact(fh, length)
        elif name == b"IDAT" and reading != "after" and png.ihdr is not None:
            reading = "pixels"
            png.read_pixels(fh, length)
            if not png.rows_left:
                reading = "after"
        elif reading == "pixels":
            break  # the pixel data ends with the first chunk of another kind
        elif name == b"IEND":
            break
        elif name == b"eXIf" and "exif" not in info and length <= METADATA_MAX_BYTES:
            info["exif"] = b"Exif\x00\x00" + _read_exact(fh, length)
    if png.out is None or png.rows_left:
        raise OSError("image file is truncated")
    return png.out, info


class _PngBands:
    """A PNG's pixel data inflated and averaged down a band of rows at a time, into
    `out`: what `_png_reduced` keeps from one IDAT chunk to the next."""

    def __init__(self, image: Image.Image):
        self.image = image
        self.ihdr: bytes | None = None
        self.palette: bytes | None = None
        self.inflater = zlib.decompressobj()
        self.pending = bytearray()
        self.out: Image.Image | None = None
        self.previous: bytes | None = None
        self.row_bytes = self.rows_left = self.width = self.height = 0
        self.factor = self.band_rows = self.done = 0

    def begin(self, ihdr: bytes, max_pixels: int) -> None:
        """Size the reduced picture from the IHDR chunk's fields."""
        self.ihdr = ihdr
        self.row_bytes, self.rows_left = _png_rows(ihdr)[0]
        width, height = _png_first_pass(self.image.size, interlaced=bool(ihdr[12]))
        self.width, self.height = width, height
        factor = math.ceil(math.sqrt(width * height / max_pixels))
        while math.ceil(width / factor) * math.ceil(height / factor) > max_pixels:
            factor += 1
        self.factor = factor
        self.band_rows = max(factor, PNG_BAND_BYTES // self.row_bytes // factor * factor)
        self.out = Image.new("RGB", (math.ceil(width / factor), math.ceil(height / factor)))

    def read_pixels(self, fh: IO[bytes], length: int) -> None:
        """Inflate an IDAT chunk's `length` bytes a piece at a time, reducing whole bands."""
        left = length
        while left and self.rows_left:
            data = fh.read(min(PIECE, left))
            if not data:
                break
            left -= len(data)
            while self.rows_left:
                try:
                    piece = self.inflater.decompress(data, PIECE)
                except zlib.error as exc:
                    raise OSError(f"broken data stream: {exc}") from None
                self.pending += piece
                data = self.inflater.unconsumed_tail
                self.reduce_bands()
                if not data and len(piece) < PIECE:
                    break  # all this piece's data inflated: on to the next

    def reduce_bands(self) -> None:
        """Unfilter, unpack and average down each whole band of rows inflated so far."""
        row_bytes, band_rows = self.row_bytes, self.band_rows
        while self.rows_left and len(self.pending) >= min(band_rows, self.rows_left) * row_bytes:
            count = min(band_rows, self.rows_left)
            band = bytes(self.pending[: count * row_bytes])
            del self.pending[: count * row_bytes]
            raw = _unfilter(band, row_bytes, self.ihdr, self.previous)
            self.previous = raw[-(row_bytes - 1) :]
            rows = _png_band(self.image, raw, self.width, count, self.palette)
            self.out.paste(_flatten(rows).reduce(self.factor), (0, self.done // self.factor))
            self.done += count
            self.rows_left -= count


def _png_first_pass(size: tuple[int, int], interlaced: bool) -> tuple[int, int]:
    """The size of the picture the first rows of a PNG's data make: the whole picture,
    or an interlaced one's first pass (every eighth pixel each way)."""
    width, height = size
    if not interlaced:
        return width, height
    return math.ceil(width / 8), math.ceil(height / 8)


def _unfilter(band: bytes, row_bytes: int, ihdr: bytes, previous: bytes | None) -> bytearray:
    """The bytes of a band of PNG rows with their filters undone, by Pillow.

    Each row's filter works byte by byte with the byte one pixel to the left and the
    byte above. Taken apart by their place within the pixel (the red bytes, the green
    bytes, ...), the bytes make one-byte-a-pixel grey rows under the same filters: each
    is a small 8-bit grey PNG, whose first row is the unfiltered row above the band.
    """
    depth, colour = ihdr[8], ihdr[9]
    step = max(1, depth * _PNG_CHANNELS[colour] // 8)  # bytes a pixel, as the filters see it
    count = len(band) // row_bytes
    rows = [band[i * row_bytes : (i + 1) * row_bytes] for i in range(count)]
    across = (row_bytes - 1) // step
    raw = bytearray(count * (row_bytes - 1))
    for part in range(step):
        lines = [b"\0" + previous[part::step]] if previous is not None else []
        lines += [row[:1] + row[1 + part :: step] for row in rows]
        grey = (
            b"\x89PNG\r\n\x1a\n"
            + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", across, len(lines), 8, 0, 0, 0, 0))
            + _png_chunk(b"IDAT", zlib.compress(b"".join(lines), 0))
            + _png_chunk(b"IEND", b"")
        )
        with Image.open(io.BytesIO(grey)) as picture:
            picture.load()
            data = picture.tobytes()
        raw[part::step] = data[across:] if previous is not None else data
    return raw


def _png_band(
    image: Image.Image, raw: bytes, width: int, count: int, palette: bytes | None
) -> Image.Image:
    """Unfiltered PNG rows as a picture, unpacked as Pillow unpacks the whole file."""
    rawmode = image.tile[0].args if image.tile else image.mode
    if isinstance(rawmode, tuple):
        rawmode = rawmode[0]
    rows = Image.frombytes(image.mode, (width, count), bytes(raw), "raw", rawmode)
    if image.mode == "P" and palette is not None:
        rows.putpalette(palette, "RGB")
    if "transparency" in image.info:
        rows.info["transparency"] = image.info["transparency"]
    return rows


def _png_chunk(name: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + name + data + struct.pack(">I", zlib.crc32(name + data))


def shrink(source: bytes | IO[bytes] | str | os.PathLike, budget: int) -> bytes:
    """Re-encode as JPEG, then downscale, until its data URI takes at most `budget` bytes.

    `source`: the image's bytes, path or open file. Returns JPEG bytes of the same
    picture, upright (EXIF orientation applied), with the aspect ratio kept. Downscaling
    goes on as far as needed: the request must fit. The picture is decoded at no more
    than DECODE_MAX_PIXELS, in one of the process's decoding turns (`in_turn`).
    """
    return in_turn(_shrink, source, budget)


def _shrink(source: bytes | IO[bytes] | str | os.PathLike, budget: int) -> bytes:
    picture = _picture(source, DECODE_MAX_PIXELS, costly=True)
    for quality in (92, 85):
        out = _jpeg(picture, quality)
        if _uri_length(len(out), "jpeg") <= budget:
            return out
    size = picture.size
    while True:
        # Bytes grow with the area: aim a little under the budget in one step.
        factor = min(0.9, max(0.1, (budget / _uri_length(len(out), "jpeg")) ** 0.5 * 0.95))
        size = _scaled(size, factor)
        out = _jpeg(picture.resize(size, Image.Resampling.LANCZOS), 85)
        if _uri_length(len(out), "jpeg") <= budget:
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
