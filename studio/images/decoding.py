"""Pictures decoded at a reduced size, in bounded memory: the form's thumbnails here, and
the picture the worker re-encodes to fit a request (`picture`).

A small file may claim a huge canvas (80 megapixels of one colour fit in a quarter of a
megabyte of PNG). A picture is therefore decoded at a reduced size: a JPEG by libjpeg's
scaling, a PNG a band of rows at a time, each band averaged down before the next is
read, so the whole canvas is never in memory. A picture that cannot be decoded small (a
big WebP or progressive JPEG) gets a placeholder thumbnail instead. Every decode runs on
one of a few decoding threads per process (`in_turn`), so many at once wait rather than
add up.
"""

from __future__ import annotations

import io
import math
import os
import struct
import threading
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import IO, TypeVar

from django.conf import settings
from PIL import Image, ImageDraw, ImageFont, ImageOps

from studio import catalog
from studio.images import formats

T = TypeVar("T")

THUMBNAIL_SIZE = (480, 480)
# A thumbnail is made from the picture decoded at no more than this many pixels (twice
# the thumbnail's size each way, for a clean downscale).
THUMBNAIL_DECODE_PIXELS = (2 * THUMBNAIL_SIZE[0]) * (2 * THUMBNAIL_SIZE[1])
# The memory a thumbnail may spend on a format that cannot be decoded small (a WebP's
# canvas, a progressive JPEG's coefficients). Above it the thumbnail is a placeholder.
DECODE_MAX_BYTES = 64 * 1024 * 1024
# A big PNG is decoded this many bytes of its rows at a time.
PNG_BAND_BYTES = 1024 * 1024


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


def thumbnail(source: formats.ImageSource) -> bytes:
    """A small upright JPEG of an image that `uploads.inspect` accepted, for the form.

    Decoded at a reduced size (see the module's docstring); a picture that cannot be
    decoded small gets a placeholder of its shape that says so.
    """
    return in_turn(_thumbnail, source)


def _thumbnail(source: formats.ImageSource) -> bytes:
    try:
        reduced = picture(source, THUMBNAIL_DECODE_PIXELS, costly=False)
    except TooCostly as big:
        reduced = _placeholder(big.width, big.height)
    reduced.thumbnail(THUMBNAIL_SIZE)
    return jpeg(reduced, 85)


def _placeholder(width: int, height: int) -> Image.Image:
    """A plain tile of the picture's shape, saying that it has no preview."""
    size = scaled((width, height), min(1.0, THUMBNAIL_SIZE[0] / max(width, height)))
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


def jpeg(picture: Image.Image, quality: int, *, optimize: bool = False) -> bytes:
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=quality, optimize=optimize)
    return out.getvalue()


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


def scaled(size: tuple[int, int], factor: float) -> tuple[int, int]:
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


def picture(source: formats.ImageSource, max_pixels: int, *, costly: bool) -> Image.Image:
    """The picture, upright and flattened to RGB, at no more than about `max_pixels`.

    Decoded at a reduced size where the format allows: a JPEG by libjpeg's scaling (down
    to an eighth), a PNG a band of rows at a time (`_png_reduced`); the rest is a
    downscale of what was decoded. A WebP's whole canvas and a progressive JPEG's
    coefficients take memory whatever the size asked for: with `costly` false, one that
    takes more than DECODE_MAX_BYTES raises TooCostly instead. Run it `in_turn`.
    """
    with formats.opened(source) as (fh, size):
        canvas = formats.webp_canvas(fh)
        # Pillow sets aside the whole canvas as it opens a WebP: judged before.
        if canvas is not None and not costly:
            width, height = canvas
            if width * height * 4 > DECODE_MAX_BYTES or not width:
                webp = formats.read_webp(fh, size)
                if webp.width * webp.height * 4 > DECODE_MAX_BYTES:
                    orientation = formats.orientation(webp.info)
                    raise TooCostly(*formats.shown(webp.width, webp.height, orientation))
                fh.seek(0)
        with Image.open(fh) as image:
            width, height = image.size
            if image.format == "PNG" and width * height > max_pixels:
                reduced, info = _png_reduced(fh, image, max_pixels)
            else:
                if image.format in ("JPEG", "MPO"):
                    if (
                        not costly
                        and image.info.get("progressive")
                        and _jpeg_coefficient_bytes(image) > DECODE_MAX_BYTES
                    ):
                        orientation = image.getexif().get(formats.EXIF_ORIENTATION, 1)
                        raise TooCostly(*formats.shown(width, height, orientation))
                    draft(image, max_pixels)
                image.load()
                info = image.info
                reduced = image
                if reduced.width * reduced.height > max_pixels:
                    reduced = _reduce(reduced, max_pixels)
                reduced = _flatten(reduced)
    # Turned upright last, at the reduced size.
    reduced.info = {k: v for k, v in info.items() if k in ("exif", "xmp", "XML:com.adobe.xmp")}
    ImageOps.exif_transpose(reduced, in_place=True)
    return reduced


def draft(image: Image.Image, max_pixels: int) -> None:
    """Have libjpeg decode at a half, a quarter or an eighth of the size, the largest
    that keeps to `max_pixels` (an eighth when none does)."""
    width, height = image.size
    factor = 1
    while factor < 8 and math.ceil(width / factor) * math.ceil(height / factor) > max_pixels:
        factor *= 2
    if factor > 1:
        image.draft("RGB", (max(1, width // factor), max(1, height // factor)))


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


def _reduction(width: int, height: int, max_pixels: int) -> int:
    """The smallest whole factor that averages a `width` × `height` picture down to at
    most `max_pixels`."""
    factor = math.ceil(math.sqrt(width * height / max_pixels))
    while math.ceil(width / factor) * math.ceil(height / factor) > max_pixels:
        factor += 1
    return factor


def _reduce(image: Image.Image, max_pixels: int) -> Image.Image:
    """`image` averaged down by a whole factor to at most `max_pixels`."""
    factor = _reduction(image.width, image.height, max_pixels)
    if image.mode not in ("L", "LA", "RGB", "RGBA", "RGBX", "CMYK", "I", "F"):
        image = _flatten(image)
    return image.reduce(factor)


# PNG, a band of rows at a time


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
    for name, length, _start in formats.png_chunks(fh):
        if name == b"IHDR" and png.ihdr is None:
            png.begin(formats.read_exact(fh, 13), max_pixels)
        elif name == b"PLTE" and png.palette is None:
            png.palette = formats.read_exact(fh, length)
        elif name == b"IDAT" and reading != "after" and png.ihdr is not None:
            reading = "pixels"
            png.read_pixels(fh, length)
            if not png.rows_left:
                reading = "after"
        elif reading == "pixels":
            break  # the pixel data ends with the first chunk of another kind
        elif name == b"IEND":
            break
        elif name == b"eXIf" and "exif" not in info and length <= formats.METADATA_MAX_BYTES:
            info["exif"] = formats.png_exif(fh, length)
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
        self.row_bytes, self.rows_left = formats.png_rows(ihdr)[0]
        width, height = _png_first_pass(self.image.size, interlaced=bool(ihdr[12]))
        self.width, self.height = width, height
        factor = self.factor = _reduction(width, height, max_pixels)
        self.band_rows = max(factor, PNG_BAND_BYTES // self.row_bytes // factor * factor)
        self.out = Image.new("RGB", (math.ceil(width / factor), math.ceil(height / factor)))

    def read_pixels(self, fh: IO[bytes], length: int) -> None:
        """Inflate an IDAT chunk's `length` bytes a piece at a time, reducing whole bands."""
        left = length
        while left and self.rows_left:
            data = fh.read(min(formats.PIECE, left))
            if not data:
                break
            left -= len(data)
            while self.rows_left:
                try:
                    piece = self.inflater.decompress(data, formats.PIECE)
                except zlib.error as exc:
                    raise OSError(f"broken data stream: {exc}") from None
                self.pending += piece
                data = self.inflater.unconsumed_tail
                self.reduce_bands()
                if not data and len(piece) < formats.PIECE:
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
    step = max(1, depth * formats.PNG_CHANNELS[colour] // 8)  # bytes a pixel, to the filters
    count = len(band) // row_bytes
    rows = [band[i * row_bytes : (i + 1) * row_bytes] for i in range(count)]
    across = (row_bytes - 1) // step
    raw = bytearray(count * (row_bytes - 1))
    for part in range(step):
        lines = [b"\0" + previous[part::step]] if previous is not None else []
        lines += [row[:1] + row[1 + part :: step] for row in rows]
        grey = (
            b"\x89PNG\r\n\x1a\n"
            + formats.png_chunk(b"IHDR", struct.pack(">IIBBBBB", across, len(lines), 8, 0, 0, 0, 0))
            + formats.png_chunk(b"IDAT", zlib.compress(b"".join(lines), 0))
            + formats.png_chunk(b"IEND", b"")
        )
        with Image.open(io.BytesIO(grey)) as decoded:
            decoded.load()
            data = decoded.tobytes()
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
