"""Uploaded images checked by their content, the way Vidu checks them: format, size,
aspect ratio, a still picture, and a file that decodes whole.

An image may be 50 MB: none is ever read whole to be checked. Dimensions and EXIF
orientation come from the headers, the rest of the file is checked in pieces, and a
picture is decoded only where that takes at most CHECK_MAX_BYTES. A small file that
claims a huge canvas (a decompression bomb) is refused from its header, before any of
its pixels is decoded.
"""

from __future__ import annotations

import os
import re
import struct
import zlib
from dataclasses import dataclass
from typing import IO

from django.core.files.base import ContentFile, File
from PIL import Image, UnidentifiedImageError

from studio import catalog
from studio.images import decoding, formats, metadata

# A guard against decompression bombs: a small file that claims a huge canvas. Checked
# from the header before any pixel is decoded, and below Pillow's own limit (about 89
# megapixels) so the simulator, which keeps Pillow's default, never refuses what we pass.
MAX_PIXELS = 80_000_000
# The memory a check may spend decoding a picture. A WebP or a progressive JPEG that
# needs more is checked by its structure instead: every chunk or segment present, to
# the end. (A PNG's pixel data is always inflated in full, a piece at a time; a baseline
# JPEG is decoded at an eighth of its size.)
CHECK_MAX_BYTES = 32 * 1024 * 1024
ANIMATED = "This image is animated; Vidu needs a still image."


class ImageProblem(ValueError):
    """An upload Vidu would refuse; the message is for the user."""


@dataclass
class ImageInfo:
    format: str  # png, jpeg, webp
    width: int  # as shown, after EXIF orientation
    height: int
    size: int


def storable(data: bytes | IO[bytes], kind: str | None = None) -> File:
    """Content for a FileField's save(): bytes as they are, a file copied in pieces.

    An upload is wrapped rather than given as it is, so that the storage copies its
    temporary file instead of moving it away from a request that may read it again.
    With `kind` (the format `inspect` found), the copy leaves out the image's metadata
    (`metadata.Stripped`) as the storage reads it: the stored file may be smaller, and
    its size is the storage's to say once saved.
    """
    if kind is not None:
        return File(metadata.Stripped(data, kind))
    if isinstance(data, (bytes, bytearray)):
        return ContentFile(data)
    return File(data)


def size_problem(size: int) -> str | None:
    if size > catalog.IMAGE_MAX_BYTES:
        shown = f"{size / catalog.MB:.1f} MB"
        if shown == "50.0 MB":
            shown = "just over 50 MB"
        return f"This image is {shown}; Vidu takes images up to 50 MB."
    return None


def inspect(source: formats.ImageSource) -> ImageInfo:
    """Check an uploaded image as Vidu would, by its content, not its name.

    `source`: the image's bytes, its path, or an open file (an upload, read from its
    start; left open). The file is read in pieces, and a picture is decoded only where
    that takes at most CHECK_MAX_BYTES (see the module's docstring), in one of the
    process's decoding turns (`decoding.in_turn`).
    """
    accepted = catalog.LIMITS["image_formats"].text
    with formats.opened(source) as (fh, size):
        problem = size_problem(size)
        if problem:
            raise ImageProblem(problem)
        try:
            kind, width, height, orientation = decoding.in_turn(_examine, fh, size, accepted)
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
    width, height = formats.shown(width, height, orientation)
    problem = catalog.image_ratio_problem(width, height)
    if problem:
        raise ImageProblem(problem)
    return ImageInfo(format=kind, width=width, height=height, size=size)


def _examine(fh: IO[bytes], size: int, accepted: str) -> tuple[str, int, int, int]:
    """(format, width, height, EXIF orientation) of a file that must be whole. Run
    `in_turn`: it may decode a small picture or a reduced one."""
    canvas = formats.webp_canvas(fh)
    # Pillow reads a WebP whole and sets aside its canvas as it opens it.
    if canvas is not None and size + canvas[0] * canvas[1] * 4 > CHECK_MAX_BYTES:
        return _examine_webp(fh, size)
    with Image.open(fh) as image:
        kind = catalog.CONTENT_FORMATS.get(image.format or "")
        if kind is None:
            raise ImageProblem(f"This file is a {image.format} image; Vidu takes {accepted}.")
        width, height = image.size
        _check_pixel_count(width, height)
        # An MPO's extra pictures are not frames of an animation.
        if kind != "jpeg" and getattr(image, "n_frames", 1) > 1:
            raise ImageProblem(ANIMATED)
        if kind == "png":
            # PngImageFile.getexif() decodes the picture to look for an eXIf chunk after
            # the pixel data; the check below finds that chunk on its way.
            info = dict(image.info)
            late_exif = _check_png(fh, size)
            if late_exif and "exif" not in info:
                info["exif"] = late_exif
            return kind, width, height, formats.orientation(info)
        orientation = image.getexif().get(formats.EXIF_ORIENTATION, 1)  # from the header
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


# PNG

_CHUNK_NAME = re.compile(rb"\w{4}")  # what Pillow takes for a chunk's name


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
    for name, length, start in formats.png_chunks(fh):
        if not _CHUNK_NAME.fullmatch(name):
            if pixels == "done":
                break  # as Pillow: what follows complete pixels may be anything
            raise SyntaxError(f"broken PNG file (chunk {name!r})")
        if name == b"IHDR" and filters is None:
            rows = formats.png_rows(formats.read_exact(fh, 13))
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
            if name == b"eXIf" and late_exif is None and length <= formats.METADATA_MAX_BYTES:
                late_exif = formats.png_exif(fh, length)
    if filters is None or got < need:
        raise OSError("image file is truncated")
    return late_exif


def _inflate(fh: IO[bytes], length: int, inflater, filters: _Filters, got: int, need: int) -> int:
    """Feed one IDAT chunk to `inflater`, up to the last row; the bytes inflated so far."""
    left = length
    while left and got < need and not inflater.eof:
        data = fh.read(min(formats.PIECE, left))
        if not data:
            break  # cut short: what is there may still hold every row
        left -= len(data)
        while data and got < need:
            try:
                out = inflater.decompress(data, min(formats.PIECE, need - got))
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
    # Decoding at an eighth of the size (the smallest libjpeg makes) still reads every
    # byte, so a cut or damaged file fails here, at a fraction of the memory.
    decoding.draft(image, 1)
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
        (length,) = struct.unpack(">H", formats.read_exact(fh, 2))
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
        piece = fh.read(formats.PIECE)
        if not piece:
            return None
        at = piece.find(b"\xff")
        while at >= 0:
            if at + 1 == len(piece):
                if len(piece) < formats.PIECE:
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


def _examine_webp(fh: IO[bytes], size: int) -> tuple[str, int, int, int]:
    """A WebP too big to decode for a check: judged from its chunks, each of them there
    in full, as Pillow would judge it decoded."""
    webp = formats.read_webp(fh, size)
    limit = Image.MAX_IMAGE_PIXELS
    if limit and webp.width * webp.height > 2 * limit:
        raise Image.DecompressionBombError("too many pixels")
    _check_pixel_count(webp.width, webp.height)
    if webp.frames > 1:
        raise ImageProblem(ANIMATED)
    return "webp", webp.width, webp.height, formats.orientation(webp.info)
