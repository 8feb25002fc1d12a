"""What the studio reads of an image file by hand, shared by `uploads` (the check) and
`decoding` (pictures decoded small): the file opened whatever it was given as, a PNG's
chunks and the layout of its rows, a WebP's chunks, and the EXIF orientation.

Pillow reads each file's header; these read what Pillow could only get by decoding, or
by holding, the whole picture. A file is read in pieces of at most PIECE bytes.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TypeAlias

from PIL import Image

# An image as the studio is given it: its bytes, its path, or an open file (an upload,
# a stored file), read from its start and left open.
ImageSource: TypeAlias = bytes | IO[bytes] | str | os.PathLike
PIECE = 1024 * 1024  # files are read in pieces of at most this size
METADATA_MAX_BYTES = 1024 * 1024  # an EXIF or XMP block bigger than this is not read
EXIF_ORIENTATION = 0x0112
_TURNED = (5, 6, 7, 8)  # EXIF orientations shown a quarter turn round: width and height swap


@contextmanager
def opened(source: ImageSource) -> Iterator[tuple[IO[bytes], int]]:
    """A binary file for `source`, at its start, and its size in bytes. A file given
    open is left open."""
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


def read_exact(fh: IO[bytes], n: int) -> bytes:
    data = fh.read(n)
    if len(data) < n:
        raise EOFError("the file ends early")
    return data


def shown(width: int, height: int, orientation: int) -> tuple[int, int]:
    """A picture's size as shown, after its EXIF orientation."""
    return (height, width) if orientation in _TURNED else (width, height)


def orientation(info: dict) -> int:
    """The EXIF orientation that Pillow reads from an image's metadata (EXIF, then XMP),
    read from `info` alone: a probe image stands in for the file, so nothing loads."""
    probe = Image.new("L", (1, 1))
    probe.info.update(info)
    return probe.getexif().get(EXIF_ORIENTATION, 1)


# PNG

PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by colour type
# Adam7's passes: (first column, first row, column step, row step).
ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)


def png_rows(ihdr: bytes) -> list[tuple[int, int]]:
    """(bytes per row with its filter byte, rows) for each pass of a PNG's pixel data."""
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", ihdr[:13])
    if colour not in PNG_CHANNELS:
        raise SyntaxError(f"unknown PNG colour type {colour}")
    bits = depth * PNG_CHANNELS[colour]
    rows = []
    for x0, y0, dx, dy in ADAM7 if interlace else ((0, 0, 1, 1),):
        across = (width - x0 + dx - 1) // dx if width > x0 else 0
        down = (height - y0 + dy - 1) // dy if height > y0 else 0
        if across and down:
            rows.append((1 + (across * bits + 7) // 8, down))
    return rows


def png_chunks(fh: IO[bytes]) -> Iterator[tuple[bytes, int, int]]:
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


def png_exif(fh: IO[bytes], length: int) -> bytes:
    """An eXIf chunk's data, as Pillow keeps EXIF in `info`."""
    return b"Exif\x00\x00" + read_exact(fh, length)


def png_chunk(name: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + name + data + struct.pack(">I", zlib.crc32(name + data))


# WebP


def webp_canvas(fh: IO[bytes]) -> tuple[int, int] | None:
    """A WebP's size as its first chunk says it, (0, 0) where that chunk does not say;
    None for a file that is not a WebP. Read from the file's start, and left there."""
    head = fh.read(30)
    fh.seek(0)
    if head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    return (len(head) == 30 and _webp_chunk_size(head[12:16], head[20:30])) or (0, 0)


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


@dataclass(frozen=True)
class WebpChunks:
    """What a WebP's chunks say, read one by one without decoding the picture."""

    width: int  # the canvas, as stored
    height: int
    frames: int  # 1 for a still picture
    info: dict  # its EXIF and XMP, as Pillow names them in `info`


def read_webp(fh: IO[bytes], size: int) -> WebpChunks:
    """A WebP's chunks read one by one, each of them there in full; fails where its
    structure is cut short or holds no picture."""
    fh.seek(0)
    head = read_exact(fh, 12)
    end = 8 + struct.unpack("<I", head[4:8])[0]
    if end > size:
        raise OSError("image file is truncated")
    canvas = picture = None
    animated, frames, info = False, 0, {}
    at = 12
    while at + 8 <= end:
        fh.seek(at)
        name, length = struct.unpack("<4sI", read_exact(fh, 8))
        if at + 8 + length > end:
            raise OSError("image file is truncated")
        if name == b"VP8X":
            body = read_exact(fh, min(length, 10))
            canvas = _webp_chunk_size(name, body)
            animated = bool(body[0] & 0x02)
        elif name in (b"VP8 ", b"VP8L") and picture is None:
            picture = _webp_chunk_size(name, read_exact(fh, min(length, 10)))
            if picture is None:
                raise SyntaxError("broken WebP bitstream header")
        elif name == b"ANMF":
            frames += 1
        elif name in (b"EXIF", b"XMP ") and length <= METADATA_MAX_BYTES:
            info["exif" if name == b"EXIF" else "xmp"] = read_exact(fh, length)
        at += 8 + length + (length & 1)
    width, height = canvas or picture or (0, 0)
    if not width or not height or (picture is None and not frames):
        raise SyntaxError("a WebP without a picture")
    return WebpChunks(width, height, frames if animated else 1, info)
