"""The rules that hold for every model and endpoint, as data, each in the user's words.

Every sentence that states a limit is written from the limit's own value.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from .sources import Source, cite
from .wording import MB, megabytes, or_list, ratio_span, similar_shapes


@dataclass(frozen=True)
class Limit:
    """A rule that holds for every model: its value, in the user's words, and its source."""

    value: object
    text: str
    source: Source
    default: object = None


# Each value once; the Limits below write their words from these.
_FORMATS = ("png", "jpeg", "webp")
FORMAT_NAMES = {"png": "PNG", "jpeg": "JPEG", "webp": "WebP"}
_IMAGE_BYTES = 50 * MB
_IMAGE_RATIO = (1 / 4, 4.0)
_START_END_RATIO = (0.8, 1.25)
_BODY_BYTES = 20 * MB
_PAYLOAD_CHARS = 1_048_576
_AMPLITUDES = ("auto", "small", "medium", "large")
# The watermark's corners, by Vidu's number for each.
WM_POSITION_NAMES = MappingProxyType(
    {1: "top left", 2: "top right", 3: "bottom right", 4: "bottom left"}
)
_REC_CREDITS = 10
_OFF_PEAK_HOURS = 48

LIMITS = MappingProxyType(
    {
        "image_formats": Limit(
            _FORMATS,
            or_list(FORMAT_NAMES[f] for f in _FORMATS),
            cite(
                "000 001 002 003 004",
                "They list png, jpeg, jpg and webp; jpg is JPEG. Checked by content, not name.",
            ),
        ),
        "image_max_bytes": Limit(
            _IMAGE_BYTES,
            f"up to {megabytes(_IMAGE_BYTES)}",
            cite("000 001 002 003 004", f"Read as {_IMAGE_BYTES:,} bytes, the smaller reading."),
        ),
        "image_ratio": Limit(
            _IMAGE_RATIO,
            f"an aspect ratio between {ratio_span(*_IMAGE_RATIO)}",
            cite(
                "000 001 002 003",
                "'less than 1:4 or 4:1', read as strictly between the two. [004] does not "
                "restate it for start-end2video; VIDU-API.md applies it to both.",
            ),
        ),
        "start_end_ratio": Limit(
            _START_END_RATIO,
            f"start and end frames of a similar shape ({similar_shapes(_START_END_RATIO[1])})",
            cite("004"),
        ),
        "request_body_max_bytes": Limit(
            _BODY_BYTES,
            f"a request body of at most {megabytes(_BODY_BYTES)}, images as "
            "data:image/...;base64 URIs",
            cite("002 003 004", f"Read as {_BODY_BYTES:,} bytes, the smaller reading."),
        ),
        "payload_max_chars": Limit(
            _PAYLOAD_CHARS,
            f"at most {_PAYLOAD_CHARS:,} characters, passed through",
            cite("002 003 004"),
        ),
        "meta_data_max_chars": Limit(
            _PAYLOAD_CHARS,
            "a JSON string",
            cite("000 002", "No length is documented; the studio keeps it to payload's."),
        ),
        "seed": Limit(
            (0, 2**31 - 1),
            "a whole number; empty or 0 for a random one",
            cite(
                "000 001 002 003 004",
                f"No range is documented; the studio keeps to 0..{2**31 - 1} (32-bit).",
            ),
        ),
        "movement_amplitudes": Limit(
            _AMPLITUDES, or_list(_AMPLITUDES), cite("001 002 003 004"), default="auto"
        ),
        "wm_positions": Limit(
            tuple(WM_POSITION_NAMES),
            ", ".join(f"{n} {name}" for n, name in WM_POSITION_NAMES.items()),
            cite("000 002 003", "[000] lists the positions without a default."),
            default=3,
        ),
        "wm_url": Limit("url", "an image URL", cite("000 002 003")),
        "is_rec_credits": Limit(
            _REC_CREDITS,
            f"a recommended prompt replaces yours and costs {_REC_CREDITS} credits more",
            cite("002 004", "[003] says only that it 'consumes additional points'."),
        ),
        "off_peak": Limit(
            _OFF_PEAK_HOURS,
            f"cheaper; done within {_OFF_PEAK_HOURS} hours, or cancelled and refunded",
            cite(
                "002 003 004",
                "[003] (an aggregator, viduq1) marks off-peak 'temporarily unavailable'.",
            ),
        ),
    }
)

IMAGE_FORMATS: tuple[str, ...] = LIMITS["image_formats"].value
# Pillow's name for what a file's bytes hold -> the format Vidu calls it. A JPEG with extra
# pictures (a phone photo's depth map) reads as MPO: its first picture is a plain JPEG.
CONTENT_FORMATS = {"PNG": "png", "JPEG": "jpeg", "MPO": "jpeg", "WEBP": "webp"}
IMAGE_MAX_BYTES: int = LIMITS["image_max_bytes"].value
IMAGE_MIN_RATIO, IMAGE_MAX_RATIO = LIMITS["image_ratio"].value
START_END_RATIO_MIN, START_END_RATIO_MAX = LIMITS["start_end_ratio"].value
REQUEST_BODY_MAX_BYTES: int = LIMITS["request_body_max_bytes"].value
PAYLOAD_MAX_CHARS: int = LIMITS["payload_max_chars"].value
META_DATA_MAX_CHARS: int = LIMITS["meta_data_max_chars"].value
SEED_MIN, SEED_MAX = LIMITS["seed"].value
MOVEMENT_AMPLITUDES: tuple[str, ...] = LIMITS["movement_amplitudes"].value
WM_POSITIONS: tuple[int, ...] = LIMITS["wm_positions"].value
WM_POSITION_DEFAULT: int = LIMITS["wm_positions"].default
IS_REC_EXTRA_CREDITS: int = LIMITS["is_rec_credits"].value
OFF_PEAK_HOURS: int = LIMITS["off_peak"].value
# The studio wraps the user's payload with its generation id before sending it: about
# this many characters for a payload without quotes or backslashes.
PAYLOAD_RESERVE = 100
