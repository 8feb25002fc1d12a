"""What the studio keeps of an uploaded image, and what it sends to the provider, carry
none of the upload's metadata (GPS position, camera serial, author), and the picture
itself is the one uploaded: the metadata is left out, nothing is re-encoded."""

from __future__ import annotations

import base64
import io
import struct

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageOps, PngImagePlugin

from studio.images import formats, metadata, uploads
from studio.models import Generation, InputImage, StagedImage
from studio.worker import request_images, submission
from tests.factories import make_generation

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

SERIAL = "CAMERA-SERIAL-4711"
AUTHOR = "Jane Doe, 12 Example Street"
GPS_IFD = 0x8825
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="' + AUTHOR.encode() + b'"/>'
    b"</rdf:RDF></x:xmpmeta>"
)
# What must never reach the storage or the request, whatever the format.
TELLTALES = (SERIAL.encode(), AUTHOR.encode(), b"Exif\x00\x00", b"GPS", b"xmpmeta")


def camera_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Example Camera Co."  # Make
    exif[0xA431] = SERIAL  # BodySerialNumber
    exif[0x013B] = AUTHOR  # Artist
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (52.0, 22.0, 7.5), 3: "E", 4: (4.0, 53.0, 2.25), 0x1B: "GPS"})
    if orientation is not None:
        exif[formats.EXIF_ORIENTATION] = orientation
    return exif


def picture(width: int = 320, height: int = 180) -> Image.Image:
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image.paste((200, 40, 40), (10, 10, width // 3, height // 2))  # which way up it is
    return image


def jpeg_with_gps(orientation: int | None = None) -> bytes:
    out = io.BytesIO()
    picture().save(out, "JPEG", quality=90, exif=camera_exif(orientation), comment=AUTHOR)
    return out.getvalue()


def png_with_exif_and_text() -> bytes:
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", AUTHOR)
    text.add_itxt("XML:com.adobe.xmp", XMP.decode())
    out = io.BytesIO()
    picture().save(out, "PNG", exif=camera_exif(), pnginfo=text)
    data = out.getvalue()
    assert b"eXIf" in data and b"tEXt" in data
    return data


def webp_with_exif() -> bytes:
    out = io.BytesIO()
    picture().save(out, "WEBP", lossless=True, exif=camera_exif(), xmp=XMP)
    data = out.getvalue()
    assert b"EXIF" in data and b"XMP " in data
    return data


def decoded(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image


def assert_no_metadata(data: bytes, orientation: int = 1) -> None:
    for telltale in TELLTALES:
        if telltale == b"Exif\x00\x00" and orientation != 1:
            assert data.count(telltale) <= 1  # the orientation's own block, in a JPEG
        else:
            assert telltale not in data
    image = decoded(data)
    exif = image.getexif()
    expected = {} if orientation == 1 else {formats.EXIF_ORIENTATION: orientation}
    assert dict(exif) == expected
    assert not exif.get_ifd(GPS_IFD)
    assert not {"xmp", "XML:com.adobe.xmp", "Author", "comment"} & set(image.info)


def same_pixels(a: bytes, b: bytes) -> bool:
    return decoded(a).tobytes() == decoded(b).tobytes()


def post_generation(client, data: bytes, name: str, kind: str, **fields):
    form = {"model": "viduq2-turbo", "prompt": "a slow pan", "duration": "3"}
    if data:
        form["images"] = SimpleUploadedFile(name, data, f"image/{kind}")
    form.update(fields)
    return client.post(reverse("generate", args=["img2video"]), form)


def sent_bytes(generation: Generation) -> bytes:
    [uri] = submission.build(generation).images
    head, body = uri.split(",", 1)
    assert head.startswith("data:image/")
    return base64.b64decode(body)


@pytest.fixture
def no_public_url(settings):
    settings.STUDIO_PUBLIC_URL = ""  # every image travels inside the request


@pytest.mark.usefixtures("no_public_url")
@pytest.mark.parametrize(
    "make, name, kind",
    [
        (jpeg_with_gps, "holiday.jpg", "jpeg"),
        (png_with_exif_and_text, "holiday.png", "png"),
        (webp_with_exif, "holiday.webp", "webp"),
    ],
)
def test_an_upload_is_stored_and_sent_without_its_metadata_and_with_its_pixels(
    client, alice, make, name, kind
):
    data = make()
    client.force_login(alice)
    response = post_generation(client, data, name, kind)
    assert response.status_code in (302, 303)
    image = InputImage.objects.get()
    stored = image.file.open("rb").read()
    assert_no_metadata(stored)
    assert same_pixels(stored, data)  # the metadata left out, nothing re-encoded
    # What the studio recorded still holds for the file it keeps.
    assert image.size == len(stored) < len(data)
    checked = uploads.inspect(stored)
    assert (checked.format, checked.width, checked.height) == (kind, 320, 180)
    assert (image.format, image.width, image.height) == (kind, 320, 180)

    sent = sent_bytes(image.generation)
    assert sent == stored
    assert_no_metadata(sent)


@pytest.mark.usefixtures("no_public_url")
def test_a_turned_jpeg_keeps_its_orientation_alone_and_looks_the_same(client, alice):
    data = jpeg_with_gps(orientation=6)  # stored on its side, shown upright
    client.force_login(alice)
    assert post_generation(client, data, "portrait.jpg", "jpeg").status_code in (302, 303)
    image = InputImage.objects.get()
    stored = image.file.open("rb").read()
    assert_no_metadata(stored, orientation=6)
    assert same_pixels(stored, data)
    shown = ImageOps.exif_transpose(decoded(stored))
    assert shown.tobytes() == ImageOps.exif_transpose(decoded(data)).tobytes()
    assert (image.width, image.height) == shown.size == (180, 320)
    assert (uploads.inspect(stored).width, uploads.inspect(stored).height) == (180, 320)
    assert_no_metadata(sent_bytes(image.generation), orientation=6)


@pytest.mark.parametrize("make", [png_with_exif_and_text, webp_with_exif])
def test_an_orientation_in_png_and_webp_is_kept_alone(make):
    data = make()
    turned = decoded(data)
    exif = camera_exif(orientation=8)
    out = io.BytesIO()
    kind = turned.format
    turned.save(out, kind, exif=exif, **({"lossless": True} if kind == "WEBP" else {}))
    stripped = metadata.strip(out.getvalue(), kind.lower())
    assert_no_metadata(stripped, orientation=8)
    assert same_pixels(stripped, data)
    assert uploads.inspect(stripped).width == 180


def test_a_stripped_webp_says_it_holds_no_exif_or_xmp():
    stripped = metadata.strip(webp_with_exif(), "webp")
    assert stripped[12:16] == b"VP8X"
    assert stripped[20] & 0x0C == 0  # the flags for EXIF and XMP
    riff = struct.unpack("<I", stripped[4:8])[0]
    assert riff + 8 == len(stripped)


def test_a_stripped_png_has_no_text_time_or_exif_chunks():
    data = png_with_exif_and_text()
    stripped = metadata.strip(data, "png")
    with io.BytesIO(stripped) as fh:
        names = [name for name, _, _ in formats.png_chunks(fh)]
    assert names == [b"IHDR", b"IDAT", b"IEND"]


@pytest.mark.usefixtures("no_public_url")
def test_an_image_kept_for_the_next_try_is_kept_without_its_metadata(client, alice):
    data = jpeg_with_gps()
    client.force_login(alice)
    # A duration the model lacks: refused, the upload kept for the next try.
    refused = post_generation(client, data, "holiday.jpg", "jpeg", model="viduq1", duration="8")
    assert refused.status_code == 422
    staged = StagedImage.objects.get()
    kept = staged.file.open("rb").read()
    assert_no_metadata(kept)
    assert same_pixels(kept, data)
    assert staged.size == len(kept) < len(data)

    response = post_generation(client, b"", "", "jpeg", images_staged=str(staged.pk))
    assert response.status_code in (302, 303)
    stored = InputImage.objects.get().file.open("rb").read()
    assert stored == kept
    assert_no_metadata(sent_bytes(Generation.objects.get()))


@pytest.mark.usefixtures("no_public_url")
def test_a_copy_stored_with_its_metadata_is_sent_without_it(team, alice):
    data = jpeg_with_gps()
    generation = make_generation(team, alice)
    image = generation.images.get()
    image.file.save("0.jpeg", ContentFile(data), save=False)  # as kept before stripping
    image.format, image.size = "jpeg", len(data)
    image.save()
    sent = sent_bytes(generation)
    assert_no_metadata(sent)
    assert same_pixels(sent, data)


def test_a_re_encoded_copy_carries_no_metadata():
    data = jpeg_with_gps(orientation=6)
    out = request_images.shrink(data, len(data))  # smaller than it is: re-encoded
    assert_no_metadata(out)
    assert decoded(out).size == (180, 320)  # upright


@pytest.mark.parametrize(
    "make, kind",
    [(jpeg_with_gps, "jpeg"), (png_with_exif_and_text, "png"), (webp_with_exif, "webp")],
)
def test_stripping_streams_the_same_bytes_in_small_pieces(make, kind, monkeypatch):
    data = make()
    whole = metadata.strip(data, kind)
    monkeypatch.setattr(formats, "PIECE", 7)  # every segment and chunk crosses pieces
    stream = metadata.Stripped(io.BytesIO(data), kind)
    pieces = []
    while piece := stream.read(5):
        pieces.append(piece)
    assert b"".join(pieces) == whole and stream.size == len(whole)
    stream.seek(0)  # read again, as a storage may
    assert stream.read() == whole
