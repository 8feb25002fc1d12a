"""An image's metadata taken out, its picture left as it was: what the studio keeps of an
upload and what it sends to a provider carry no EXIF, XMP, text or time that could
locate or identify the person who took it (GPS position, camera serial, owner's name).

Nothing is re-encoded: the metadata's segments (JPEG) or chunks (PNG, WebP) are left
out and every other byte is copied as it is, in pieces of at most `formats.PIECE`, so a
50 MB upload is never held whole.

- JPEG: every APPn segment but APP0 JFIF, APP2 ICC profile and APP14 Adobe goes, and
  every COM; so does whatever follows the end marker (an MPO's other pictures, a phone's
  motion clip).
- PNG: eXIf, tEXt, zTXt, iTXt and tIME go, and whatever follows IEND.
- WebP: EXIF and XMP go, and the extended header's flags for them are cleared.

The EXIF orientation is the one tag kept: a picture stored on its side and shown upright
stays shown upright, with the width and height `uploads.inspect` recorded. Where the
file has an orientation other than 1 (from its EXIF, or else its XMP, as Pillow reads
it), a new EXIF block holding that tag alone takes the old one's place.
"""

from __future__ import annotations

import io
import os
import re
import struct
from collections.abc import Iterator
from typing import IO

from PIL import Image

from studio.images import formats

_ICC = b"ICC_PROFILE\x00"
_JFIF = b"JFIF\x00"
_ADOBE = b"Adobe"
_EXIF = b"Exif\x00\x00"
# The next marker in a JPEG: 0xFF then neither a stuffed zero, nor fill, nor a restart.
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_JPEG_LENGTHLESS = {0x01, 0xD8, *range(0xD0, 0xD8)}  # TEM, SOI, RST0-7
PNG_DROPPED = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}
_PNG_CHUNK_NAME = re.compile(rb"\w{4}")
WEBP_DROPPED = {b"EXIF", b"XMP "}
_WEBP_EXIF_FLAG, _WEBP_XMP_FLAG = 0x08, 0x04


def exif_of_orientation(orientation: int) -> bytes:
    """An EXIF block (TIFF header and IFD0, without the "Exif" prefix) holding only the
    orientation."""
    exif = Image.Exif()
    exif[formats.EXIF_ORIENTATION] = orientation
    return exif.tobytes()[len(_EXIF) :]


class Stripped(io.RawIOBase):
    """`source` (bytes, or a binary file read from its start) as a file without its
    metadata, produced as it is read. `seek(0)` starts again from the source's start;
    `size` counts the bytes given so far (all of them once read to the end)."""

    def __init__(self, source: bytes | IO[bytes], kind: str):
        super().__init__()
        self.source = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
        self.kind = kind
        self._restart()

    def _restart(self) -> None:
        self.source.seek(0)
        self._pieces = _FILTERS[self.kind](self.source)
        self._left, self._at = b"", 0  # a piece produced, and how much of it is given
        self.size = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False  # only back to the start, which `seek(0)` does all the same

    def tell(self) -> int:
        return self.size

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if (offset, whence) == (0, os.SEEK_SET):
            self._restart()
            return 0
        if (offset, whence) == (0, os.SEEK_CUR):
            return self.size
        raise io.UnsupportedOperation("a stripped image is read from its start")

    def readinto(self, buffer) -> int:
        while self._at >= len(self._left):
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._left, self._at = piece, 0
        n = min(len(buffer), len(self._left) - self._at)
        buffer[:n] = memoryview(self._left)[self._at : self._at + n]
        self._at += n
        self.size += n
        return n


def strip(source: bytes | IO[bytes], kind: str) -> bytes:
    """`source` without its metadata, as bytes (for what is sent whole anyway)."""
    out = io.BytesIO()
    for piece in _FILTERS[kind](
        io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    ):
        out.write(piece)
    return out.getvalue()


def _copy(fh: IO[bytes], n: int) -> Iterator[bytes]:
    """The next `n` bytes of `fh` in pieces; fewer where the file ends first."""
    while n > 0:
        piece = fh.read(min(formats.PIECE, n))
        if not piece:
            return
        n -= len(piece)
        yield piece


# JPEG


def _jpeg(fh: IO[bytes]) -> Iterator[bytes]:
    fh.seek(0)
    if fh.read(2) != b"\xff\xd8":
        raise ValueError("not a JPEG file")
    orientation = _header_orientation(fh)
    pending = _jpeg_exif_segment(orientation) if orientation != 1 else b""
    fh.seek(2)
    yield b"\xff\xd8"
    in_scan = False  # entropy-coded data follows: copied up to the next marker
    code = yield from _to_marker(fh, copy=False)
    while code is not None:
        if code == 0xD9:  # EOI: what follows is another file's
            yield b"\xff\xd9"
            return
        if code in _JPEG_LENGTHLESS:
            if code != 0xD8:
                yield bytes((0xFF, code))
            code = yield from _to_marker(fh, copy=in_scan)
            continue
        head = formats.read_exact(fh, 2)
        (length,) = struct.unpack(">H", head)
        if length < 2:
            raise SyntaxError("broken JPEG segment")
        start = fh.tell()
        kept = _jpeg_keeps(code, fh.read(min(length - 2, 16)))
        fh.seek(start)
        if pending and (code == 0xE1 or (kept and code != 0xE0)):
            yield pending  # where the old EXIF was, else before the first non-JFIF segment
            pending = b""
        if kept:
            yield bytes((0xFF, code)) + head
            yield from _copy(fh, length - 2)
        fh.seek(start + length - 2)
        in_scan = code == 0xDA
        code = yield from _to_marker(fh, copy=in_scan)


def _jpeg_keeps(code: int, body: bytes) -> bool:
    if code == 0xFE:  # COM
        return False
    if 0xE0 <= code <= 0xEF:
        return (
            (code == 0xE0 and body.startswith(_JFIF))
            or (code == 0xE2 and body.startswith(_ICC))
            or (code == 0xEE and body.startswith(_ADOBE))
        )
    return True


def _jpeg_exif_segment(orientation: int) -> bytes:
    body = _EXIF + exif_of_orientation(orientation)
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def _header_orientation(fh: IO[bytes]) -> int:
    """The orientation Pillow reads from an image's header (EXIF, else XMP), as
    `uploads.inspect` read it; nothing is decoded. The file is left anywhere."""
    fh.seek(0)
    try:
        with Image.open(fh) as image:
            info = dict(image.info)
        if "exif" not in info and image.format == "PNG":
            info.update(_png_late_exif(fh))
        return formats.orientation(info)
    except Exception:  # metadata Pillow cannot read shows the picture as stored
        return 1


def _to_marker(fh: IO[bytes], copy: bool):
    """Yield the bytes up to the next marker when `copy`, skip them otherwise; return the
    marker's code, the file left just after it, or None at the end of the file."""
    while True:
        start = fh.tell()
        piece = fh.read(formats.PIECE)
        if not piece:
            return None
        while piece[-1] == 0xFF:  # a marker may start at the end of the piece
            more = fh.read(1)
            if not more:
                break
            piece += more
        found = _JPEG_MARKER.search(piece)
        if found is None:
            if copy:
                yield piece
            continue
        if copy and found.start():
            yield piece[: found.start()]
        fh.seek(start + found.end())
        return piece[found.start() + 1]


# PNG


def _png(fh: IO[bytes]) -> Iterator[bytes]:
    fh.seek(0)
    signature = formats.read_exact(fh, 8)
    orientation = _header_orientation(fh)
    yield signature
    for name, length, start in formats.png_chunks(fh):
        if not _PNG_CHUNK_NAME.fullmatch(name):
            return  # what follows complete pixels may be anything: none of it is kept
        if name in PNG_DROPPED:
            continue
        fh.seek(start - 8)
        yield from _copy(fh, length + 12)
        if name == b"IHDR" and orientation != 1:
            yield formats.png_chunk(b"eXIf", exif_of_orientation(orientation))
        if name == b"IEND":
            return


def _png_late_exif(fh: IO[bytes]) -> dict:
    """An eXIf chunk after the pixel data, which Pillow's header does not have."""
    for name, length, _ in formats.png_chunks(fh):
        if name == b"eXIf" and length <= formats.METADATA_MAX_BYTES:
            return {"exif": formats.png_exif(fh, length)}
        if name == b"IEND":
            break
    return {}


# WebP


def _webp(fh: IO[bytes]) -> Iterator[bytes]:
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    fh.seek(0)
    head = formats.read_exact(fh, 12)
    if head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        raise ValueError("not a WebP file")
    end = min(size, 8 + struct.unpack("<I", head[4:8])[0])
    chunks, info = [], {}
    at = 12
    while at + 8 <= end:
        fh.seek(at)
        name, length = struct.unpack("<4sI", formats.read_exact(fh, 8))
        chunks.append((name, at, length))
        if name in WEBP_DROPPED and length <= formats.METADATA_MAX_BYTES:
            info.setdefault("exif" if name == b"EXIF" else "xmp", fh.read(length))
        at += 8 + length + (length & 1)
    extended = any(name == b"VP8X" for name, _, _ in chunks)
    try:
        orientation = formats.orientation(info) if extended else 1
    except Exception:  # an EXIF block Pillow cannot read shows the picture as stored
        orientation = 1
    exif = exif_of_orientation(orientation) if orientation != 1 else b""
    kept = [chunk for chunk in chunks if chunk[0] not in WEBP_DROPPED]
    total = 4 + sum(8 + length + (length & 1) for _, _, length in kept)
    if exif:
        total += 8 + len(exif) + (len(exif) & 1)
    yield b"RIFF" + struct.pack("<I", total) + b"WEBP"
    for name, at, length in kept:
        fh.seek(at)
        whole = 8 + length + (length & 1)
        if name == b"VP8X":
            chunk = bytearray(fh.read(whole))
            if len(chunk) > 8:
                chunk[8] &= ~(_WEBP_EXIF_FLAG | _WEBP_XMP_FLAG) & 0xFF
                if exif:
                    chunk[8] |= _WEBP_EXIF_FLAG
            yield bytes(chunk) + b"\x00" * (whole - len(chunk))
            continue
        given = 0
        for piece in _copy(fh, whole):
            given += len(piece)
            yield piece
        if given < whole:  # a last pad byte missing: the size above counts it
            yield b"\x00" * (whole - given)
    if exif:
        yield b"EXIF" + struct.pack("<I", len(exif)) + exif + b"\x00" * (len(exif) & 1)


_FILTERS = {"jpeg": _jpeg, "png": _png, "webp": _webp}
