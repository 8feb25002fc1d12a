"""Input images: checked by content the way Vidu checks them, and sent so the request
always fits Vidu's 20 MB body, with real big images, real HTTP to the simulator, and
the signed links Vidu fetches our copies through."""

from __future__ import annotations

import base64
import io
import json
import os
import struct
import subprocess
import sys
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from django.core import signing
from PIL import Image

from studio import catalog, input_links
from studio.images import decoding, formats, uploads
from studio.models import Generation, InputImage
from studio.simulator import Simulator
from studio.vidu import registry
from studio.worker import payloads, submission
from studio.worker.request_images import Source, data_uri, json_size, request_images, shrink
from tests.conftest import png

KEY = "images-key"


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def noise(width: int, height: int) -> Image.Image:
    """Random pixels: the worst case for every encoder."""
    return Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))


def jpeg_turned(width: int, height: int, orientation: int = 6) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(Image.new("RGB", (width, height), (0, 120, 0)), "JPEG", exif=exif)


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims a huge canvas: a decompression bomb's calling card."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def decoded(uri: str) -> Image.Image:
    header, _, data = uri.partition(",")
    assert header.startswith("data:image/") and header.endswith(";base64")
    return Image.open(io.BytesIO(base64.b64decode(data)))


# what Vidu takes


@pytest.mark.parametrize(
    "data, kind",
    [
        (png(320, 180), "png"),
        (png(320, 180, fmt="JPEG"), "jpeg"),
        (png(320, 180, fmt="WEBP"), "webp"),
        # A phone photo with a depth map opens as MPO: its first picture is a plain JPEG.
        (encode(noise(64, 48), "MPO", save_all=True, append_images=[noise(64, 48)]), "jpeg"),
    ],
)
def test_it_reads_the_format_from_the_content(data, kind):
    info = uploads.inspect(data)
    assert info.format == kind and info.size == len(data)


@pytest.mark.parametrize(
    "data, message",
    [
        (png(320, 180, fmt="GIF"), "This file is a GIF image; Vidu takes PNG, JPEG or WebP."),
        (png(320, 180, fmt="BMP"), "This file is a BMP image"),
        (b"GIF89a, or so it says", "This file is not an image; Vidu takes PNG, JPEG or WebP."),
        (png(320, 180)[:400], "damaged or cut short"),
        (encode(noise(320, 180), "JPEG")[:3000], "damaged or cut short"),
        (
            encode(noise(64, 48), "PNG", save_all=True, append_images=[noise(64, 48)]),
            "This image is animated; Vidu needs a still image.",
        ),
        (
            encode(noise(64, 48), "WEBP", save_all=True, append_images=[noise(64, 48)]),
            "animated",
        ),
        (png(500, 100), "This image is 5:1; Vidu needs an aspect ratio between 1:4 and 4:1."),
        (png(100, 400), "not exactly 1:4"),
        (png_header_only(100_000, 100_000), "too many pixels"),
        (png_header_only(10_000, 8_500), "the studio takes up to 80 megapixels"),
        (b"\0" * (50_000_001), "This image is just over 50 MB; Vidu takes images up to 50 MB."),
    ],
)
def test_it_refuses_what_vidu_would_refuse_with_a_reason(data, message):
    with pytest.raises(uploads.ImageProblem) as problem:
        uploads.inspect(data)
    assert message in str(problem.value)


def test_it_measures_the_image_the_way_it_is_shown():
    # 300 wide, 100 high, shown turned a quarter: 100 wide, 300 high.
    info = uploads.inspect(jpeg_turned(300, 100))
    assert (info.width, info.height) == (100, 300)
    # Stored 100:500 is fine; shown turned it is 5:1 and refused.
    with pytest.raises(uploads.ImageProblem, match="This image is 5:1"):
        uploads.inspect(jpeg_turned(100, 500))


def test_a_thumbnail_is_small_and_upright():
    thumb = Image.open(io.BytesIO(decoding.thumbnail(jpeg_turned(1200, 600))))
    assert thumb.format == "JPEG" and thumb.size == (240, 480)


# the 20 MB request body


@pytest.fixture(scope="module")
def big_png():
    """About 26 MB of incompressible PNG (35 MB as base64), 3:2."""
    data = encode(noise(3600, 2400), "PNG", compress_level=1)
    assert 20_000_000 < len(data) < catalog.IMAGE_MAX_BYTES
    return data


def body_size(uris: list[str], reserve: int) -> int:
    return reserve + sum(len(u) + 3 for u in uris)


def test_small_images_go_as_they_are():
    small = [(png(320, 180), "png"), (png(320, 180, fmt="JPEG"), "jpeg")]
    uris = request_images(small)
    assert [u.split(",")[0] for u in uris] == ["data:image/png;base64", "data:image/jpeg;base64"]
    assert [base64.b64decode(u.split(",")[1]) for u in uris] == [d for d, _ in small]


def test_a_big_image_is_re_encoded_until_the_request_fits(big_png):
    reserve = 1_100_000  # a payload of a megabyte besides
    [uri] = request_images([(big_png, "png")], reserve=reserve)
    assert body_size([uri], reserve) <= catalog.REQUEST_BODY_MAX_BYTES
    picture = decoded(uri)
    assert picture.format == "JPEG"
    assert picture.size[0] / picture.size[1] == pytest.approx(1.5, abs=0.01)
    assert uploads.inspect(base64.b64decode(uri.split(",")[1])).format == "jpeg"


def test_two_big_frames_share_the_body_and_a_small_one_keeps_its_bytes(big_png):
    small = png(360, 240)
    uris = request_images([(big_png, "png"), (big_png, "png"), (small, "png")])
    assert body_size(uris, 64 * 1024) <= catalog.REQUEST_BODY_MAX_BYTES
    assert base64.b64decode(uris[2].split(",")[1]) == small
    assert all(decoded(u).format == "JPEG" for u in uris[:2])


def test_a_big_image_goes_as_its_link_when_vidu_can_fetch_it(big_png):
    small = png(360, 240)
    link = "https://studio.example/inputs/token/frame-0.png"
    uris = request_images([(big_png, "png"), (small, "png")], urls=[link, "unused"])
    assert uris[0] == link
    assert base64.b64decode(uris[1].split(",")[1]) == small


def test_downscaling_goes_as_far_as_the_budget_needs(big_png):
    out = shrink(big_png, 300_000)
    assert len(data_uri(out, "jpeg")) + 3 <= 300_000
    picture = Image.open(io.BytesIO(out))
    assert picture.size[0] < 3600 and picture.size[0] / picture.size[1] == pytest.approx(1.5, 0.01)


def test_a_re_encoded_image_is_upright_and_transparency_is_flattened():
    turned = Image.open(io.BytesIO(shrink(jpeg_turned(1200, 600), 10_000_000)))
    assert turned.size == (600, 1200)
    clear = Image.new("RGBA", (64, 48), (255, 255, 255, 0))
    flat = Image.open(io.BytesIO(shrink(encode(clear, "PNG"), 10_000_000)))
    assert flat.mode == "RGB" and max(flat.getpixel((10, 10))) < 8  # black, as Vidu-sim shows


def test_the_body_size_counts_escaped_text_at_its_worst():
    assert json_size({"prompt": "é"}) == len('{"prompt":"\\u00e9"}')
    assert json_size({"prompt": "é"}) > len('{"prompt":"é"}'.encode())


# build_request with real big images, against the simulator


def stored_generation(team, author, images: list[bytes], **fields) -> Generation:
    endpoint = "img2video" if len(images) == 1 else "start-end2video"
    generation = Generation.objects.create(
        team=team,
        author=author,
        endpoint=endpoint,
        model="viduq2-turbo",
        prompt=fields.pop("prompt", "waves"),
        params={"duration": 1, "resolution": "540p", **fields},
        estimated_credits=1,
    )
    for position, data in enumerate(images):
        InputImage.store(generation, position, data, uploads.inspect(data))
    return generation


def sent_size(request) -> int:
    """The body exactly as the client sends it (httpx: compact, UTF-8)."""
    return len(
        json.dumps(
            registry.connect().body(request), ensure_ascii=False, separators=(",", ":")
        ).encode()
    )


@pytest.fixture
def simulator():
    with Simulator(port=0, api_key=KEY, seconds=60, fps=1) as sim:
        yield sim


def post(simulator, request, kind="img2video") -> httpx.Response:
    return httpx.post(
        f"{simulator.base_url}/ent/v2/{kind}",
        json=registry.connect().body(request),
        headers={"Authorization": f"Token {KEY}"},
        timeout=60,
    )


@pytest.mark.django_db
def test_a_request_with_big_frames_and_a_long_payload_fits_and_is_accepted(
    simulator, team, alice, media_root, settings, big_png
):
    settings.STUDIO_PUBLIC_URL = ""
    # Every character of this payload becomes six bytes when escaped: the worst case.
    generation = stored_generation(team, alice, [big_png, big_png], payload="\x01" * 100_000)
    request = submission.build(generation)
    assert sent_size(request) <= catalog.REQUEST_BODY_MAX_BYTES
    answer = post(simulator, request, "start-end2video")
    assert answer.status_code == 200, answer.text[:500]
    assert answer.json()["payload"] == payloads.provider_payload(generation)


@pytest.mark.django_db(transaction=True)
def test_with_a_public_url_a_big_frame_goes_as_a_signed_link_vidu_fetches(
    simulator, live_server, team, alice, media_root, settings, big_png
):
    settings.STUDIO_PUBLIC_URL = live_server.url
    generation = stored_generation(team, alice, [big_png])
    request = submission.build(generation)
    [link] = request.images
    assert link.startswith(f"{live_server.url}/inputs/") and link.endswith("/frame-0.png")
    assert httpx.get(link).content == big_png  # no login needed
    answer = post(simulator, request)
    assert answer.status_code == 200, answer.text[:500]
    assert answer.json()["images"] == [link]  # the simulator fetched it itself


@pytest.mark.django_db
def test_a_small_frame_stays_a_data_uri_even_with_a_public_url(
    simulator, team, alice, media_root, settings
):
    settings.STUDIO_PUBLIC_URL = "https://studio.example"
    request = submission.build(stored_generation(team, alice, [png(320, 180)]))
    assert request.images[0].startswith("data:image/png;base64,")
    assert post(simulator, request).status_code == 200


# signed links


@pytest.mark.django_db
def test_a_signed_link_serves_its_image_without_login(client, team, alice, media_root, settings):
    settings.STUDIO_PUBLIC_URL = "https://studio.example"
    generation = stored_generation(team, alice, [png(320, 180), png(330, 180)])
    first, second = generation.images.all()
    path = input_links.url_for(first).removeprefix("https://studio.example")
    answer = client.get(path)
    assert answer.status_code == 200 and answer["Content-Type"] == "image/png"
    assert b"".join(answer.streaming_content) == first.file.open("rb").read()
    # The token names one image: another image's path with it finds nothing else.
    token = input_links.token_for(first)
    assert input_links.image_for(token) == first and input_links.image_for(token) != second


@pytest.mark.django_db
def test_it_refuses_altered_and_expired_links(client, team, alice, media_root, monkeypatch):
    generation = stored_generation(team, alice, [png(320, 180)])
    image = generation.images.get()
    token = input_links.token_for(image)
    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/inputs/{altered}/frame-0.png").status_code == 404
    forged = signing.dumps({"i": image.pk, "g": str(generation.pk)}, salt="another-salt")
    assert client.get(f"/inputs/{forged}/frame-0.png").status_code == 404
    assert client.get(f"/inputs/{token}/frame-0.png").status_code == 200
    later = signing.time.time() + input_links.VALID_FOR.total_seconds() + 60
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert client.get(f"/inputs/{token}/frame-0.png").status_code == 404


@pytest.mark.django_db
def test_a_phone_photo_with_a_depth_map_is_sent_as_the_jpeg_it_is(
    simulator, team, alice, media_root, settings
):
    settings.STUDIO_PUBLIC_URL = ""
    mpo = encode(noise(64, 48), "MPO", save_all=True, append_images=[noise(64, 48)])
    request = submission.build(stored_generation(team, alice, [mpo]))
    assert request.images[0].startswith("data:image/jpeg;base64,")
    assert post(simulator, request).status_code == 200


# checked without holding the picture: headers, then the rest of the file in pieces


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_of_rows(
    width: int, height: int, rows: bytes, colour: int = 2, depth: int = 8, interlace: int = 0
) -> bytes:
    """A PNG around pixel data given as it is stored: each row with its filter byte."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    palette = png_chunk(b"PLTE", bytes(range(48))) if colour == 3 else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + palette
        + png_chunk(b"IDAT", zlib.compress(rows))
        + png_chunk(b"IEND", b"")
    )


def stored_bytes(width: int, height: int, bits: int, interlace: int) -> int:
    """How many bytes of rows a PNG holds, counted pass by pass (Adam7 when interlaced)."""
    passes = (
        [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2)]
        + [(0, 1, 1, 2)]
        if interlace
        else [(0, 0, 1, 1)]
    )
    total = 0
    for x0, y0, dx, dy in passes:
        across = max(0, -(-(width - x0) // dx))
        down = max(0, -(-(height - y0) // dy))
        if across and down:
            total += down * (1 + -(-across * bits // 8))
    return total


def pillow_decodes(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except (OSError, SyntaxError, ValueError):
        return False
    return True


def accepted(data: bytes) -> bool:
    try:
        uploads.inspect(data)
    except uploads.ImageProblem as problem:
        assert "damaged or cut short" in str(problem)
        return False
    return True


@pytest.mark.parametrize("interlace", [0, 1])
@pytest.mark.parametrize(
    "colour, depth, channels",
    [(0, 1, 1), (0, 4, 1), (0, 16, 1), (2, 8, 3), (2, 16, 3), (3, 2, 1), (3, 8, 1), (4, 8, 2)]
    + [(6, 8, 4), (6, 16, 4)],
)
def test_the_png_check_agrees_with_decoding_the_whole_picture(colour, depth, channels, interlace):
    width, height = 37, 23  # odd sizes: partial bytes, and Adam7 passes of every shape
    need = stored_bytes(width, height, depth * channels, interlace)
    zeros = b"\0" * need
    bad_filter = b"\x05" + zeros[1:]
    variants = {
        "whole": zeros,
        "with more after the last row": zeros + b"\0" * 50,
        "a byte short": zeros[:-1],
        "a row short": zeros[: need // 2],
        "an unknown filter": bad_filter,
    }
    for name, rows in variants.items():
        data = png_of_rows(width, height, rows, colour, depth, interlace)
        assert accepted(data) == pillow_decodes(data), name
    assert accepted(png_of_rows(width, height, zeros, colour, depth, interlace))
    whole = png_of_rows(width, height, zeros, colour, depth, interlace)
    broken = whole.replace(zlib.compress(zeros), zlib.compress(zeros)[:-9] + b"\xff" * 9)
    assert accepted(broken) == pillow_decodes(broken)


def test_an_exif_chunk_after_the_pixels_still_turns_the_picture():
    # 300 wide, 100 high; an eXIf after the pixel data says it is shown turned.
    exif = Image.Exif()
    exif[0x0112] = 6
    plain = png(300, 100)
    data = plain[:-12] + png_chunk(b"eXIf", exif.tobytes()) + plain[-12:]
    with Image.open(io.BytesIO(data)) as image:
        assert "exif" not in image.info  # the header does not have it
    info = uploads.inspect(data)
    assert (info.width, info.height) == (100, 300)


def big_canvas_png(width: int, height: int) -> bytes:
    """A small, valid PNG of a large black picture: every row there, highly compressed."""
    packer = zlib.compressobj(9)
    row = b"\0" * (1 + width * 3)
    compressed = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", compressed)
        + png_chunk(b"IEND", b"")
    )


def test_a_big_picture_is_checked_without_decoding_its_pixels(decoded_pictures, tmp_path):
    # 64 megapixels: 192 MB of pixels once decoded, from a file of a few hundred kB.
    data = big_canvas_png(8000, 8000)
    assert len(data) < 1_000_000
    path = tmp_path / "big.png"
    path.write_bytes(data)
    info = uploads.inspect(path)
    assert (info.format, info.width, info.height, info.size) == ("png", 8000, 8000, len(data))
    assert decoded_pictures == []
    with pytest.raises(uploads.ImageProblem, match="damaged or cut short"):
        uploads.inspect(data[: len(data) // 2])
    assert decoded_pictures == []


WEBP_EXIF = Image.Exif()
WEBP_EXIF[0x0112] = 6


@pytest.mark.parametrize(
    "make",
    [
        lambda: encode(noise(64, 48), "WEBP"),
        lambda: encode(noise(64, 48), "WEBP", lossless=True),
        lambda: encode(Image.frombytes("RGBA", (64, 48), os.urandom(64 * 48 * 4)), "WEBP"),
        lambda: encode(noise(300, 100), "WEBP", exif=WEBP_EXIF),
        lambda: encode(noise(300, 100), "WEBP", lossless=True, exif=WEBP_EXIF),
        lambda: encode(
            noise(300, 100),
            "WEBP",
            xmp=b'<x:xmpmeta><rdf:Description tiff:Orientation="6"/></x:xmpmeta>',
        ),
        lambda: encode(noise(64, 48), "WEBP", save_all=True, append_images=[noise(64, 48)]),
        lambda: encode(noise(500, 100), "WEBP"),
        lambda: encode(noise(64, 48), "WEBP")[:-100],
        lambda: encode(noise(64, 48), "WEBP", lossless=True)[:4000],
    ],
    ids=[
        "lossy",
        "lossless",
        "alpha",
        "exif",
        "lossless-exif",
        "xmp",
        "animated",
        "wide",
        "cut",
        "cut-lossless",
    ],
)
def test_a_webp_too_big_to_decode_is_judged_from_its_chunks_as_if_decoded(make, monkeypatch):
    data = make()

    def verdict():
        try:
            return uploads.inspect(data)
        except uploads.ImageProblem as problem:
            return str(problem)

    decoded = verdict()
    monkeypatch.setattr(uploads, "CHECK_MAX_BYTES", 0)
    monkeypatch.setattr(Image, "open", None)  # read by the studio alone, in chunks
    assert verdict() == decoded


def test_a_progressive_jpeg_too_big_to_decode_is_followed_to_its_end(monkeypatch):
    turned = Image.Exif()
    turned[0x0112] = 6
    data = encode(noise(300, 100), "JPEG", progressive=True, exif=turned)
    monkeypatch.setattr(uploads, "CHECK_MAX_BYTES", 0)
    monkeypatch.setattr(Image.Image, "load", None)  # never decoded
    info = uploads.inspect(data)
    assert (info.format, info.width, info.height) == ("jpeg", 100, 300)
    for cut in (len(data) - 2, len(data) // 2, 700):
        with pytest.raises(uploads.ImageProblem, match="damaged or cut short"):
            uploads.inspect(data[:cut])


# the worker reads a picture only to send its bytes


class Opened:
    """Counts the stored files opened, and the bytes read from them."""

    def __init__(self, monkeypatch):
        from django.core.files import File
        from django.core.files.storage import default_storage

        self.names: list[str] = []
        self.bytes = 0
        original = default_storage.open
        opened = self

        class Counted(File):
            def read(self, *args):
                data = self.file.read(*args)
                opened.bytes += len(data)
                return data

        def counting(name, mode="rb"):
            self.names.append(name)
            return Counted(original(name, mode).file, name)

        monkeypatch.setattr(default_storage, "open", counting)


@pytest.mark.django_db
def test_with_a_public_url_a_big_stored_image_goes_as_a_link_without_being_read(
    team, alice, media_root, settings, monkeypatch, big_png
):
    settings.STUDIO_PUBLIC_URL = "https://studio.example"
    generation = stored_generation(team, alice, [big_png])
    opened = Opened(monkeypatch)
    request = submission.build(generation)
    [link] = request.images
    assert link == input_links.url_for(generation.images.get())
    assert opened.names == [] and opened.bytes == 0


@pytest.mark.django_db
def test_each_stored_image_is_read_once_and_only_to_be_sent(
    team, alice, media_root, settings, monkeypatch, big_png
):
    settings.STUDIO_PUBLIC_URL = ""
    small = png(360, 240)
    generation = stored_generation(team, alice, [small, big_png])
    opened = Opened(monkeypatch)
    request = submission.build(generation)
    assert base64.b64decode(request.images[0].split(",")[1]) == small
    assert decoded(request.images[1]).format == "JPEG"  # re-encoded to fit
    assert sorted(opened.names) == sorted(i.file.name for i in generation.images.all())
    # Pillow reads a header twice as it recognises the format; nothing more is read again.
    assert len(small) + len(big_png) <= opened.bytes < len(small) + len(big_png) + 64 * 1024


def test_sizes_decide_how_images_go_before_any_is_read():
    def never():
        raise AssertionError("an image sent as its link is never read")

    small = png(360, 240)
    link = "https://studio.example/inputs/token/frame-0.png"
    big = Source(30_000_000, "png", never)
    uris = request_images([big, Source.of(small, "png")], urls=[link, "unused"])
    assert uris[0] == link
    assert base64.b64decode(uris[1].split(",")[1]) == small


# a small file that claims a huge canvas is decoded small, a few at a time


def random_rows_png(width: int, height: int, colour: int, depth: int, interlace: int = 0, **extra):
    """A PNG of random pixels saved by Pillow, whose encoder picks a filter for each row
    (so every filter is used), with transparency or a palette where `extra` says."""
    mode = {(0, 1): "1", (0, 8): "L", (0, 16): "I;16", (2, 8): "RGB", (3, 8): "P"}.get(
        (colour, depth)
    ) or {4: "LA", 6: "RGBA"}[colour]
    bands = len(Image.new(mode, (1, 1)).getbands())
    size = width * height * bands * (2 if mode == "I;16" else 1)
    picture = Image.frombytes(mode, (width, height), os.urandom(size))
    if mode == "P":
        picture.putpalette(os.urandom(768))
    return encode(picture, "PNG", interlace=interlace, **extra)


PNG_KINDS = {
    "grey, 1 bit": lambda w, h: random_rows_png(w, h, 0, 1),
    "grey": lambda w, h: random_rows_png(w, h, 0, 8),
    "grey, a transparent value": lambda w, h: random_rows_png(w, h, 0, 8, transparency=7),
    "grey, 16 bits": lambda w, h: random_rows_png(w, h, 0, 16),
    "grey and alpha": lambda w, h: random_rows_png(w, h, 4, 8),
    "rgb": lambda w, h: random_rows_png(w, h, 2, 8),
    "rgb, a transparent colour": lambda w, h: random_rows_png(w, h, 2, 8, transparency=(1, 2, 3)),
    "rgba": lambda w, h: random_rows_png(w, h, 6, 8),
    "palette, 2 bits": lambda w, h: encode(
        Image.frombytes("L", (w, h), bytes(b % 4 for b in os.urandom(w * h))).convert(
            "P", palette=Image.Palette.ADAPTIVE, colors=4
        ),
        "PNG",
        bits=2,
    ),
    "palette with alpha": lambda w, h: random_rows_png(
        w, h, 3, 8, transparency=bytes(range(0, 256))
    ),
    "rgb, 16 bits": lambda w, h: png_of_rows(
        w, h, b"".join(bytes([n % 5]) + os.urandom(w * 6) for n in range(h)), 2, 16
    ),
    "rgba, 16 bits": lambda w, h: png_of_rows(
        w, h, b"".join(bytes([n % 5]) + os.urandom(w * 8) for n in range(h)), 6, 16
    ),
}


def whole(data: bytes) -> Image.Image:
    """The picture as Pillow decodes the whole file, flattened as the studio flattens it."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return decoding._flatten(image).convert("RGB")


def banded(data: bytes, max_pixels: int) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        fh = io.BytesIO(data)
        picture, _ = decoding._png_reduced(fh, image, max_pixels)
    return picture


@pytest.mark.parametrize("kind", PNG_KINDS)
def test_a_png_decoded_a_band_at_a_time_is_the_picture_pillow_decodes(kind, monkeypatch):
    # Bands of a few rows, so each band's first row is unfiltered from the band before.
    monkeypatch.setattr(decoding, "PNG_BAND_BYTES", 1)
    width, height = 37, 23  # odd sizes: partial bytes, a short last band
    data = PNG_KINDS[kind](width, height)
    assert banded(data, width * height).tobytes() == whole(data).tobytes()
    # Averaged down by three: exactly the whole picture averaged down.
    assert banded(data, 13 * 8).tobytes() == whole(data).reduce(3).tobytes()


def test_an_interlaced_png_is_reduced_from_its_first_pass(monkeypatch):
    monkeypatch.setattr(decoding, "PNG_BAND_BYTES", 1)
    # Pillow writes no interlaced PNG: random rows, unfiltered, in Adam7's seven passes.
    rows = b""
    for x0, y0, dx, dy in formats.ADAM7:
        across, down = -(-(37 - x0) // dx), -(-(23 - y0) // dy)
        rows += b"".join(b"\0" + os.urandom(across * 3) for _ in range(down))
    data = png_of_rows(37, 23, rows, interlace=1)
    picture, full = banded(data, 100), whole(data)
    assert picture.size == (5, 3)  # every eighth pixel each way
    for x in range(5):
        for y in range(3):
            assert picture.getpixel((x, y)) == full.getpixel((8 * x, 8 * y))


def test_a_big_png_is_turned_upright_by_an_exif_chunk_after_its_pixels(monkeypatch):
    monkeypatch.setattr(decoding, "THUMBNAIL_DECODE_PIXELS", 100 * 100)
    exif = Image.Exif()
    exif[0x0112] = 6
    plain = encode(noise(600, 200), "PNG")
    data = plain[:-12] + png_chunk(b"eXIf", exif.tobytes()) + plain[-12:]
    thumb = Image.open(io.BytesIO(decoding.thumbnail(data)))
    assert thumb.size[0] < thumb.size[1]  # 200 wide, 600 high as shown


MEMORY_PROBE = """
import io, sys
from pathlib import Path
from PIL import Image
from studio.images import decoding
from studio.worker.request_images import shrink

def status(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024

data = io.BytesIO(open(sys.argv[2], "rb").read())
Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from here
before = status("VmRSS")
if sys.argv[1] == "thumbnail":
    out = decoding.thumbnail(data)
else:
    out = shrink(data, 300_000)
grew = status("VmHWM") - before
picture = Image.open(io.BytesIO(out))
print(grew, picture.width, picture.height, max(picture.convert("L").getextrema()))
"""


@pytest.mark.parametrize("use, most", [("thumbnail", 32_000_000), ("shrink", 128_000_000)])
@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="measured on Linux")
def test_a_small_file_claiming_a_huge_canvas_takes_little_memory(use, most, tmp_path):
    # 8944 × 8944: 80 megapixels, 240 MB of pixels decoded, in a file of 233 kB. Decoded
    # whole, a thumbnail took 312 MB and a re-encoded copy 536 MB.
    path = tmp_path / "canvas.png"
    path.write_bytes(big_canvas_png(8944, 8944))
    assert path.stat().st_size < 250_000
    probe = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, use, str(path)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "studio.settings"},
        check=True,
    )
    grew, width, height, brightest = (int(n) for n in probe.stdout.split()[-4:])
    assert grew < most
    assert width == height and brightest == 0  # the black square, smaller
    if use == "thumbnail":
        assert width == decoding.THUMBNAIL_SIZE[0]


def test_pictures_are_decoded_a_few_at_a_time(settings, monkeypatch):
    settings.STUDIO_IMAGE_DECODES = 2
    at_once, most = 0, 0
    lock = threading.Lock()
    original = decoding.picture

    def slow(*args, **kwargs):
        nonlocal at_once, most
        with lock:
            at_once += 1
            most = max(most, at_once)
        time.sleep(0.05)
        try:
            return original(*args, **kwargs)
        finally:
            with lock:
                at_once -= 1

    monkeypatch.setattr(decoding, "picture", slow)
    data = png(320, 180)
    with ThreadPoolExecutor(8) as pool:
        thumbs = list(pool.map(lambda _: decoding.thumbnail(data), range(8)))
        shrunk = list(pool.map(lambda _: shrink(data, 10_000_000), range(4)))
    assert most == 2
    assert all(Image.open(io.BytesIO(t)).size == (320, 180) for t in thumbs + shrunk)


@pytest.mark.parametrize(
    "data",
    [
        encode(noise(300, 100), "JPEG", progressive=True, exif=WEBP_EXIF),
        encode(noise(300, 100), "WEBP", exif=WEBP_EXIF),
    ],
    ids=["progressive jpeg", "webp"],
)
def test_a_picture_too_costly_to_decode_small_gets_a_placeholder_of_its_shape(
    data, monkeypatch, decoded_pictures
):
    monkeypatch.setattr(decoding, "DECODE_MAX_BYTES", 0)
    opened = []
    real_open = Image.open

    def recording(fp, *args, **kwargs):
        image = real_open(fp, *args, **kwargs)
        opened.append(image.format)
        return image

    monkeypatch.setattr(Image, "open", recording)
    made = decoding.thumbnail(data)
    assert decoded_pictures == [] and "WEBP" not in opened  # never decoded
    thumb = real_open(io.BytesIO(made))
    assert thumb.format == "JPEG" and thumb.size == (100, 300)  # its shape, as shown
