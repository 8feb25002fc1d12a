"""Every documented rule of every Vidu model, per endpoint: the one source of truth.

The form, the checks before submit, the UI hints, the cost estimate and the simulator
all read this module. Each rule carries a `Source`: the documents it comes from
(`DOCUMENTS`: the seeds 000..004, or "api" for ../shared/VIDU-API.md's summary of the
official platform docs) and, where the documents disagree or are silent, a note saying
what the other reading is. A disputed choice is one value in one place: change it there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from math import gcd
from types import MappingProxyType

IMG2VIDEO = "img2video"
START_END2VIDEO = "start-end2video"
ENDPOINTS = (IMG2VIDEO, START_END2VIDEO)
ENDPOINT_LABELS = {IMG2VIDEO: "Image to video", START_END2VIDEO: "Start and end frame to video"}


@dataclass(frozen=True)
class Document:
    key: str
    path: str
    title: str


DOCUMENTS = {
    d.key: d
    for d in (
        Document(
            "000", "seeds/000_2827f1c26601b8a5.txt", "Octopusx's img2video docs, official format"
        ),
        Document("001", "seeds/001_901578adfbae38c9.txt", "UModelverse's img2video docs"),
        Document(
            "002", "seeds/002_81254a72e54194ed.txt", "KKIAI's img2video docs (platform.vidu.cn)"
        ),
        Document("003", "seeds/003_b550041c3e68dc05.txt", "Vtrix's Vidu Q1 img2video docs"),
        Document("004", "seeds/004_1e6673e472c9f2ca.txt", "the official start-end2video docs"),
        Document("api", "VIDU-API.md", "the team's summary of the official platform docs"),
        Document(
            "gateways",
            "VIDU-API.md",
            "VIDU-API.md section 3: each gateway's public docs (paths, auth, states, models)",
        ),
        Document("studio", "studio/catalog.py", "the studio's own choice; no document says"),
    )
}


@dataclass(frozen=True)
class Source:
    """Where a rule comes from. `note`: what another document says, or why we chose."""

    docs: tuple[str, ...]
    note: str = ""

    def __str__(self) -> str:
        return "[" + ", ".join(self.docs) + "]"

    @property
    def titles(self) -> str:
        """For a tooltip: each document by name, then the note."""
        names = "; ".join(f"{d}: {DOCUMENTS[d].title}" for d in self.docs)
        return f"{names}. {self.note}" if self.note else names


def cite(docs: str, note: str = "") -> Source:
    return Source(tuple(docs.replace(",", " ").split()), note)


@dataclass(frozen=True)
class Limit:
    """A rule that holds for every model: its value, in the user's words, and its source."""

    value: object
    text: str
    source: Source
    default: object = None


MB = 1000 * 1000  # "50 MB" and "20 MB" read as the smaller, decimal megabytes: always safe

LIMITS = MappingProxyType(
    {
        "image_formats": Limit(
            ("png", "jpeg", "webp"),
            "PNG, JPEG or WebP",
            cite(
                "000 001 002 003 004",
                "They list png, jpeg, jpg and webp; jpg is JPEG. Checked by content, not name.",
            ),
        ),
        "image_max_bytes": Limit(
            50 * MB,
            "up to 50 MB",
            cite("000 001 002 003 004", "Read as 50,000,000 bytes, the smaller reading."),
        ),
        "image_ratio": Limit(
            (1 / 4, 4.0),
            "an aspect ratio between 1:4 and 4:1",
            cite(
                "000 001 002 003",
                "'less than 1:4 or 4:1', read as strictly between the two. [004] does not "
                "restate it for start-end2video; VIDU-API.md applies it to both.",
            ),
        ),
        "start_end_ratio": Limit(
            (0.8, 1.25),
            "start and end frames of a similar shape (aspect ratios within 0.8 to 1.25 "
            "of each other)",
            cite("004"),
        ),
        "request_body_max_bytes": Limit(
            20 * MB,
            "a request body of at most 20 MB, images as data:image/...;base64 URIs",
            cite("002 003 004", "Read as 20,000,000 bytes, the smaller reading."),
        ),
        "payload_max_chars": Limit(
            1_048_576, "at most 1,048,576 characters, passed through", cite("002 003 004")
        ),
        "meta_data_max_chars": Limit(
            1_048_576,
            "a JSON string",
            cite("000 002", "No length is documented; the studio keeps it to payload's."),
        ),
        "seed": Limit(
            (0, 2**31 - 1),
            "a whole number; empty or 0 for a random one",
            cite(
                "000 001 002 003 004",
                "No range is documented; the studio keeps to 0..2147483647 (32-bit).",
            ),
        ),
        "movement_amplitudes": Limit(
            ("auto", "small", "medium", "large"),
            "auto, small, medium or large",
            cite("001 002 003 004"),
            default="auto",
        ),
        "wm_positions": Limit(
            (1, 2, 3, 4),
            "1 top left, 2 top right, 3 bottom right, 4 bottom left",
            cite("000 002 003", "[000] lists the positions without a default."),
            default=3,
        ),
        "wm_url": Limit("url", "an image URL", cite("000 002 003")),
        "is_rec_credits": Limit(
            10,
            "a recommended prompt replaces yours and costs 10 credits more",
            cite("002 004", "[003] says only that it 'consumes additional points'."),
        ),
        "off_peak": Limit(
            48,
            "cheaper; done within 48 hours, or cancelled and refunded",
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


@dataclass(frozen=True)
class Endpoint:
    name: str
    images: int
    image_fields: tuple[str, ...]
    prompt_max: int
    prompt_required: bool
    watermark: bool  # watermark, wm_position, wm_url
    meta_data: bool
    sources: MappingProxyType  # rule name -> Source

    @property
    def label(self) -> str:
        return ENDPOINT_LABELS[self.name]

    def source(self, rule: str) -> Source:
        return self.sources[rule]


ENDPOINT_RULE_NAMES = ("images", "prompt", "watermark", "meta_data", "callback_url")

ENDPOINT_RULES = {
    IMG2VIDEO: Endpoint(
        name=IMG2VIDEO,
        images=1,
        image_fields=("images",),
        prompt_max=2000,
        # The official API takes no prompt at all; one gateway requires it. Set this to
        # True to follow that gateway.
        prompt_required=False,
        watermark=True,
        meta_data=True,
        sources=MappingProxyType(
            {
                "images": cite("000 002 003", "Exactly one image, the first frame."),
                "prompt": cite(
                    "001 002 003",
                    "At most 2000 characters. Optional at the official API and at [001] "
                    "and [003]; [002] marks it required.",
                ),
                "watermark": cite("000 002 003"),
                "meta_data": cite("000 002", "[003] does not list it."),
                "callback_url": cite("000 002 003"),
            }
        ),
    ),
    START_END2VIDEO: Endpoint(
        name=START_END2VIDEO,
        images=2,
        image_fields=("start_image", "end_image"),
        prompt_max=5000,
        prompt_required=False,
        watermark=False,
        meta_data=False,
        sources=MappingProxyType(
            {
                "images": cite("004", "Exactly two images: the start frame, then the end frame."),
                "prompt": cite("004", "Optional, at most 5000 characters."),
                "watermark": cite("004", "Not listed for start-end2video, so not offered."),
                "meta_data": cite("004", "Not listed for start-end2video, so not offered."),
                "callback_url": cite("004"),
            }
        ),
    ),
}


@dataclass(frozen=True)
class Resolutions:
    """Resolutions allowed for a span of durations, and the default among them."""

    durations: tuple[int, ...]
    choices: tuple[str, ...]
    default: str


@dataclass(frozen=True)
class Option:
    """Whether an option applies to a model at a duration, and the note the user sees."""

    name: str
    applies: bool
    note: str
    source: Source
    default: object = None


# The per-model rules, by Vidu's parameter name; every model carries a Source for each.
MODEL_RULE_NAMES = (
    "model",
    "duration",
    "resolution",
    "movement_amplitude",
    "audio",
    "voice_id",
    "bgm",
    "off_peak",
)


@dataclass(frozen=True)
class Model:
    name: str
    endpoint: str
    family: str  # "Q3", "Q2", "Q1", "Vidu 2.0": the documents state many rules per family
    label: str
    durations: tuple[int, ...]
    default_duration: int
    resolutions: tuple[Resolutions, ...]
    movement_amplitude: bool
    # None: not offered; "optional": off unless asked for; "default_on": on unless refused
    audio: str | None
    voice_id: bool  # only ever together with audio=true
    bgm: bool
    bgm_no_effect_durations: tuple[int, ...]
    off_peak_with_audio: bool
    sources: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    def source(self, rule: str) -> Source:
        return self.sources[rule]

    def resolution_rule(self, duration: int) -> Resolutions:
        for rule in self.resolutions:
            if duration in rule.durations:
                return rule
        return self.resolutions[0]

    def bgm_applies(self, duration: int) -> bool:
        return self.bgm and duration not in self.bgm_no_effect_durations

    def audio_default(self) -> bool:
        return self.audio == "default_on"

    def duration_text(self) -> str:
        d = self.durations
        if len(d) == 1:
            return f"{d[0]}-second videos only"
        if len(d) > 2 and d == tuple(range(d[0], d[-1] + 1)):
            return f"videos of {d[0]} to {d[-1]} seconds"
        return "-, ".join(str(x) for x in d[:-1]) + f"- or {d[-1]}-second videos"

    def resolution_text(self, duration: int) -> str:
        choices = self.resolution_rule(duration).choices
        text = choices[0] if len(choices) == 1 else ", ".join(choices[:-1]) + f" or {choices[-1]}"
        at = f" at {duration} seconds" if len(self.resolutions) > 1 else ""
        return f"{text}{' only' if len(choices) == 1 else ''}{at}"

    def options(self, duration: int, audio: bool) -> dict[str, Option]:
        """Which options apply at this duration with audio on or off, and why not.

        The notes are the words the form shows in place of an option that does not
        apply, and the errors the checks give when one is asked for anyway.
        """
        name, family = self.name, self.family
        src = self.sources
        out = {}
        if self.movement_amplitude:
            out["movement_amplitude"] = Option(
                "movement_amplitude",
                True,
                "How much moves in the frame.",
                src["movement_amplitude"],
                LIMITS["movement_amplitudes"].default,
            )
        else:
            out["movement_amplitude"] = Option(
                "movement_amplitude",
                False,
                f"Movement amplitude has no effect on {name}: Vidu ignores it on {family} models.",
                src["movement_amplitude"],
            )
        if self.audio is None:
            out["audio"] = Option(
                "audio",
                False,
                f"{name} makes silent videos here: only Q3 models add sound to start and "
                "end frame videos."
                if self.endpoint == START_END2VIDEO
                else f"{name} makes silent videos.",
                src["audio"],
                False,
            )
        else:
            on = self.audio_default()
            out["audio"] = Option(
                "audio",
                True,
                "Dialogue and sound effects"
                + (f"; on by default for {family} models." if on else "; off by default."),
                src["audio"],
                on,
            )
        if self.audio is None:
            voice = (False, f"A voice needs audio, which {name} does not make here.")
        elif not self.voice_id:
            voice = (False, f"A voice has no effect on {name}: Vidu chooses it on {family} models.")
        elif not audio:
            voice = (False, "A voice needs audio: switch audio on to choose one.")
        else:
            voice = (True, "A voice id from Vidu's voice list; empty: Vidu recommends one.")
        out["voice_id"] = Option("voice_id", *voice, src["voice_id"])
        if not self.bgm:
            music = (False, f"Background music is not available on {name} ({family} models).")
        elif not self.bgm_applies(duration):
            music = (
                False,
                f"Background music has no effect on {name} at {duration} seconds "
                f"({family} models at "
                + " or ".join(str(d) for d in self.bgm_no_effect_durations)
                + " seconds).",
            )
        else:
            music = (True, "Vidu picks music from its library to fit the video.")
        out["bgm"] = Option("bgm", *music, src["bgm"], False)
        if audio and not self.off_peak_with_audio:
            peak = (
                False,
                f"Off-peak is not available with audio on {name}: switch audio off to "
                "generate off-peak.",
            )
        else:
            peak = (True, LIMITS["off_peak"].text[0].upper() + LIMITS["off_peak"].text[1:] + ".")
        out["off_peak"] = Option("off_peak", *peak, src["off_peak"], False)
        return out


def _span(lo: int, hi: int) -> tuple[int, ...]:
    return tuple(range(lo, hi + 1))


R_540_1080 = ("540p", "720p", "1080p")


def _sources(**rules: Source) -> MappingProxyType:
    missing = set(MODEL_RULE_NAMES) - set(rules)
    assert not missing, f"every model rule needs a source; missing {missing}"
    return MappingProxyType(rules)


def _q3(name: str, endpoint: str, offered: Source, label: str) -> Model:
    img = endpoint == IMG2VIDEO
    return Model(
        name=name,
        endpoint=endpoint,
        family="Q3",
        label=label,
        durations=_span(1, 16),
        default_duration=5,
        resolutions=(Resolutions(_span(1, 16), R_540_1080, "720p"),),
        movement_amplitude=False,
        audio="default_on",
        voice_id=False,
        bgm=False,
        bgm_no_effect_durations=(),
        # [002] img2video: no off-peak with audio=true. [004] start-end2video, under
        # off_peak: "Except for q3, other direct audio-video generation functions".
        off_peak_with_audio=not img,
        sources=_sources(
            model=offered,
            duration=cite("002" if img else "004", "1 to 16 seconds, default 5."),
            resolution=cite("002" if img else "004", "540p, 720p or 1080p, default 720p."),
            movement_amplitude=cite(
                "004", "[004]: no effect on q2 and q3 models. [002] names only q2."
            ),
            audio=cite("002" if img else "004", "Defaults to true on q3 models."),
            voice_id=cite("000", "[000]: 'does not take effect for q3 models'.")
            if img
            else cite("004", "start-end2video takes no voice_id."),
            bgm=cite(
                "004",
                "'BGM does not available in q3 models'. Stated for start-end2video; "
                "VIDU-API.md applies it to img2video too.",
            ),
            off_peak=cite("002", "Off-peak is not supported when audio is true.")
            if img
            else cite(
                "004",
                "Read as: off-peak works with q3's audio. [002] (img2video) refuses "
                "off-peak with audio.",
            ),
        ),
    )


def _q2(
    name: str,
    endpoint: str,
    offered: Source,
    label: str,
    resolutions: tuple[str, ...] = R_540_1080,
    resolution_source: Source | None = None,
) -> Model:
    img = endpoint == IMG2VIDEO
    longest = 10 if img else 8
    return Model(
        name=name,
        endpoint=endpoint,
        family="Q2",
        label=label,
        durations=_span(1, longest),
        default_duration=5,
        resolutions=(Resolutions(_span(1, longest), resolutions, "720p"),),
        movement_amplitude=False,
        # [004]: on start-end2video "only the q3 models support" audio.
        audio="optional" if img else None,
        voice_id=img,
        bgm=True,
        bgm_no_effect_durations=(9, 10),
        off_peak_with_audio=False,
        sources=_sources(
            model=offered,
            duration=cite("000 001 002", "1 to 10 seconds, default 5.")
            if img
            else cite("004", "1 to 8 seconds, default 5."),
            resolution=resolution_source
            or (cite("000 001 002") if img else cite("004", "540p, 720p or 1080p, default 720p.")),
            movement_amplitude=cite(
                "002 004",
                "No effect on q2. [001] lists movement_amplitude for viduq2 models at its "
                "gateway, default auto.",
            )
            if img
            else cite("004", "No effect on q2 and q3 models."),
            audio=cite("002", "Optional, default false.")
            if img
            else cite("004", "Only the q3 models support audio on start-end2video."),
            voice_id=cite("002 003", "Takes effect only when audio is true.")
            if img
            else cite("004", "start-end2video takes no voice_id."),
            bgm=cite(
                "004",
                "'BGM does not take effect when the duration of the q2 model is 9 or 10 seconds'.",
            ),
            off_peak=cite("002", "Off-peak is not supported when audio is true.")
            if img
            else cite("004"),
        ),
    )


def _q1(name: str, endpoint: str, offered: Source, label: str) -> Model:
    img = endpoint == IMG2VIDEO
    q1_docs = "003" if name == "viduq1" and img else "004"
    borrowed = "" if q1_docs == "003" or not img else "Stated in [004]; applied to img2video."
    return Model(
        name=name,
        endpoint=endpoint,
        family="Q1",
        label=label,
        durations=(5,),
        default_duration=5,
        resolutions=(Resolutions((5,), ("1080p",), "1080p"),),
        movement_amplitude=True,
        audio="optional" if img else None,
        voice_id=img,
        bgm=True,
        bgm_no_effect_durations=(),
        off_peak_with_audio=False,
        sources=_sources(
            model=offered,
            duration=cite(q1_docs, f"5 seconds only. {borrowed}".strip()),
            resolution=cite(q1_docs, f"1080p only. {borrowed}".strip()),
            movement_amplitude=cite(q1_docs, "auto, small, medium or large, default auto."),
            audio=cite("003", "Optional, default false.")
            if img
            else cite("004", "Only the q3 models support audio on start-end2video."),
            voice_id=cite("003", "Takes effect only when audio is true.")
            if img
            else cite("004", "start-end2video takes no voice_id."),
            bgm=cite("000 003" if img else "004", "Default false."),
            off_peak=cite("002", "Off-peak is not supported when audio is true.")
            if img
            else cite("004"),
        ),
    )


def _vidu20(endpoint: str, offered: Source) -> Model:
    img = endpoint == IMG2VIDEO
    borrowed = " Stated in [004]; applied to img2video." if img else ""
    return Model(
        name="vidu2.0",
        endpoint=endpoint,
        family="Vidu 2.0",
        label="Vidu 2.0: fast generation",
        durations=(4, 8),
        default_duration=4,
        resolutions=(
            Resolutions((4,), ("360p", "720p", "1080p"), "360p"),
            Resolutions((8,), ("720p",), "720p"),
        ),
        movement_amplitude=True,
        audio="optional" if img else None,
        voice_id=img,
        bgm=True,
        bgm_no_effect_durations=(),
        off_peak_with_audio=False,
        sources=_sources(
            model=offered,
            duration=cite("004", "4 or 8 seconds, default 4." + borrowed),
            resolution=cite(
                "004 001" if img else "004",
                "4 s: 360p, 720p or 1080p (default 360p); 8 s: 720p only." + borrowed,
            ),
            movement_amplitude=cite("004", "auto, small, medium or large, default auto."),
            audio=cite("000 api", "img2video: optional, default false.")
            if img
            else cite("004", "Only the q3 models support audio on start-end2video."),
            voice_id=cite("000 002", "Takes effect only when audio is true.")
            if img
            else cite("004", "start-end2video takes no voice_id."),
            bgm=cite("004", "Default false."),
            off_peak=cite("002", "Off-peak is not supported when audio is true.")
            if img
            else cite("004"),
        ),
    )


# [000] gives 540p, 720p and 1080p for "viduq2" as a series; [004] gives viduq2-pro-fast
# 720p and 1080p only. The narrower reading can only refuse what Vidu might accept,
# never send what it would refuse.
PRO_FAST_RESOLUTIONS = ("720p", "1080p")
PRO_FAST_RESOLUTION_SOURCE = cite(
    "004",
    "720p or 1080p, default 720p. [000] gives 540p, 720p and 1080p for the viduq2 series "
    "as a whole; the studio follows [004].",
)

MODELS: dict[str, dict[str, Model]] = {
    IMG2VIDEO: {
        m.name: m
        for m in (
            _q3(
                "viduq3-pro",
                IMG2VIDEO,
                cite("000 002"),
                "Q3 Pro: audio and video together",
            ),
            _q3(
                "viduq3-turbo",
                IMG2VIDEO,
                cite("002", "[000] does not list it."),
                "Q3 Turbo: faster than Q3 Pro",
            ),
            _q2("viduq2-pro", IMG2VIDEO, cite("000 001"), "Q2 Pro: rich detail"),
            _q2("viduq2-turbo", IMG2VIDEO, cite("000 001"), "Q2 Turbo: fast, good detail"),
            _q2(
                "viduq2-pro-fast",
                IMG2VIDEO,
                cite("000"),
                "Q2 Pro Fast: lowest price",
                PRO_FAST_RESOLUTIONS,
                PRO_FAST_RESOLUTION_SOURCE,
            ),
            _q2(
                "viduq2",
                IMG2VIDEO,
                cite("002", "A gateway's name for the Q2 series; not in [000]."),
                "Q2 (gateway name)",
            ),
            _q1("viduq1", IMG2VIDEO, cite("000 002 003"), "Q1: clear, stable camera"),
            _q1(
                "viduq1-classic",
                IMG2VIDEO,
                cite("000"),
                "Q1 Classic: richer camera moves",
            ),
            _vidu20(IMG2VIDEO, cite("000")),
        )
    },
    START_END2VIDEO: {
        m.name: m
        for m in (
            _q3(
                "viduq3-pro",
                START_END2VIDEO,
                cite("004"),
                "Q3 Pro: audio and video together",
            ),
            _q3(
                "viduq3-turbo",
                START_END2VIDEO,
                cite("004"),
                "Q3 Turbo: faster than Q3 Pro",
            ),
            _q2("viduq2-pro", START_END2VIDEO, cite("004"), "Q2 Pro: rich detail"),
            _q2("viduq2-turbo", START_END2VIDEO, cite("004"), "Q2 Turbo: fast, good detail"),
            _q2(
                "viduq2-pro-fast",
                START_END2VIDEO,
                cite("004"),
                "Q2 Pro Fast: lowest price",
                PRO_FAST_RESOLUTIONS,
                cite("004", "720p or 1080p, default 720p."),
            ),
            _q1("viduq1", START_END2VIDEO, cite("004"), "Q1: clear, smooth transitions"),
            _q1(
                "viduq1-classic",
                START_END2VIDEO,
                cite("004"),
                "Q1 Classic: richer transitions",
            ),
            _vidu20(START_END2VIDEO, cite("004")),
        )
    },
}
# The studio's choice, not Vidu's (the API has no default model): cheap and quick.
DEFAULT_MODEL = {IMG2VIDEO: "viduq2-turbo", START_END2VIDEO: "viduq2-turbo"}

# Credits, ESTIMATES ONLY: the provider's own figure, stored with each generation, is
# the truth. This is the one table to change when prices are known.
PRICE_SOURCE = cite(
    "api",
    "Third-party lists (unverified) for start-end2video: viduq2-turbo 1 or 2 credits a "
    "second at 720p or 1080p, viduq2-pro 2 or 4, viduq1 8 a video, vidu2.0 2, 4 or 10 at "
    "4 s and 10 at 8 s; off-peak about half. The q3, 540p and viduq2-pro-fast figures are "
    "the studio's guesses.",
)
PRICE_PER_SECOND: dict[str, dict[str, float]] = {
    "viduq3-pro": {"540p": 3, "720p": 4, "1080p": 8},
    "viduq3-turbo": {"540p": 2, "720p": 3, "1080p": 6},
    "viduq2-pro": {"540p": 2, "720p": 2, "1080p": 4},
    "viduq2-turbo": {"540p": 1, "720p": 1, "1080p": 2},
    "viduq2-pro-fast": {"720p": 1, "1080p": 2},
    "viduq2": {"540p": 1, "720p": 1, "1080p": 2},
}
PRICE_PER_VIDEO: dict[tuple[str, int, str], int] = {
    ("viduq1", 5, "1080p"): 8,
    ("viduq1-classic", 5, "1080p"): 8,
    ("vidu2.0", 4, "360p"): 2,
    ("vidu2.0", 4, "720p"): 4,
    ("vidu2.0", 4, "1080p"): 10,
    ("vidu2.0", 8, "720p"): 10,
}
UNKNOWN_PRICE_PER_SECOND = 2  # anything the table misses
OFF_PEAK_FACTOR = 0.5


# The providers: who sells Vidu to the studio, what each offers and its own rules. The
# dialect that speaks to each lives in studio/vidu/; this is what the form, the checks
# and the estimate need to know, as data with its sources.

# The optional Vidu parameters a create call may carry, as the form names them.
OPTIONAL_PARAMETERS = (
    "duration",
    "resolution",
    "movement_amplitude",
    "audio",
    "voice_id",
    "bgm",
    "is_rec",
    "off_peak",
    "seed",
    "watermark",
    "wm_position",
    "wm_url",
    "payload",
    "meta_data",
)
PARAMETER_WORDS = {
    "duration": "a duration",
    "resolution": "a resolution",
    "movement_amplitude": "a movement amplitude",
    "audio": "audio",
    "voice_id": "a voice",
    "bgm": "background music",
    "is_rec": "recommended prompts",
    "off_peak": "off-peak generation",
    "seed": "a seed",
    "watermark": "a watermark",
    "wm_position": "a watermark position",
    "wm_url": "a watermark image",
    "payload": "a payload",
    "meta_data": "metadata",
}
EVERY_PARAMETER = frozenset(OPTIONAL_PARAMETERS)
# The official start-end2video body [004] lists no watermark and no meta_data.
START_END_PARAMETERS = EVERY_PARAMETER - {"watermark", "wm_position", "wm_url", "meta_data"}


@dataclass(frozen=True)
class Provider:
    name: str  # VIDU_PROVIDER
    label: str
    offers: MappingProxyType  # endpoint -> the model names it offers there
    takes: MappingProxyType  # endpoint -> the optional parameters its request takes
    prompt_required: bool
    cost_unit: str | None  # "credits", "usd", or None where it reports no cost
    sources: MappingProxyType  # "offers", "takes", "prompt", "cost" -> Source

    def source(self, rule: str) -> Source:
        return self.sources[rule]

    def offered(self, endpoint: str) -> tuple[str, ...]:
        return self.offers.get(endpoint, ())

    def takes_parameter(self, endpoint: str, name: str) -> bool:
        return name in self.takes.get(endpoint, frozenset())

    @property
    def endpoints(self) -> tuple[str, ...]:
        return tuple(e for e in ENDPOINTS if self.offers.get(e))

    def cost_text(self) -> str:
        if self.cost_unit == "credits":
            return f"{self.label} reports what each video cost in credits."
        if self.cost_unit == "usd":
            return f"{self.label} reports what each video cost in US dollars."
        return f"{self.label} does not report what a video cost."


def _offers(img2video: tuple[str, ...], start_end: tuple[str, ...]) -> MappingProxyType:
    return MappingProxyType({IMG2VIDEO: img2video, START_END2VIDEO: start_end})


ALL_IMG2VIDEO = (
    "viduq3-pro",
    "viduq3-turbo",
    "viduq2-pro",
    "viduq2-turbo",
    "viduq2-pro-fast",
    "viduq1",
    "viduq1-classic",
    "vidu2.0",
)
ALL_START_END = ALL_IMG2VIDEO

PROVIDERS: dict[str, Provider] = {
    p.name: p
    for p in (
        Provider(
            name="official",
            label="Vidu",
            offers=_offers(ALL_IMG2VIDEO, ALL_START_END),
            takes=MappingProxyType(
                {IMG2VIDEO: EVERY_PARAMETER, START_END2VIDEO: START_END_PARAMETERS}
            ),
            prompt_required=False,
            cost_unit="credits",
            sources=MappingProxyType(
                {
                    "offers": cite(
                        "000 004 api",
                        "The official models; viduq2 is KKIAI's name for the Q2 series and "
                        "not an official model id.",
                    ),
                    "takes": cite("000 002 004 api"),
                    "prompt": cite("api", "The official API takes no prompt at all."),
                    "cost": cite("api", "The create and query answers carry `credits`."),
                }
            ),
        ),
        Provider(
            name="octopusx",
            label="Octopusx",
            # The same models on both endpoints: the official ones but viduq3-turbo.
            offers=_offers(*[tuple(m for m in ALL_IMG2VIDEO if m != "viduq3-turbo")] * 2),
            takes=MappingProxyType(
                {
                    # [000] lists no movement_amplitude for img2video.
                    IMG2VIDEO: EVERY_PARAMETER - {"movement_amplitude"},
                    START_END2VIDEO: START_END_PARAMETERS,
                }
            ),
            prompt_required=False,
            cost_unit=None,
            sources=MappingProxyType(
                {
                    "offers": cite(
                        "000 gateways",
                        "Its docs list viduq3-pro, viduq2-pro, viduq2-turbo, viduq2-pro-fast, "
                        "viduq1, viduq1-classic and vidu2.0; no viduq3-turbo.",
                    ),
                    "takes": cite(
                        "000",
                        "The official body; its img2video page lists no movement_amplitude, "
                        "so the studio does not send one.",
                    ),
                    "prompt": cite("000", "The prompt is optional."),
                    "cost": cite("gateways", "Its answers carry no credits or price."),
                }
            ),
        ),
        Provider(
            name="umodelverse",
            label="UModelverse",
            offers=_offers(*[("viduq2-pro", "viduq2-turbo")] * 2),
            takes=MappingProxyType(
                dict.fromkeys(
                    ENDPOINTS,
                    frozenset({"duration", "seed", "resolution", "movement_amplitude", "bgm"}),
                )
            ),
            prompt_required=False,
            cost_unit=None,
            sources=MappingProxyType(
                {
                    "offers": cite(
                        "001 gateways",
                        "viduq2-pro and viduq2-turbo: img2video 1-10 s, start-end 1-8 s.",
                    ),
                    "takes": cite(
                        "001",
                        "`parameters` holds duration, seed, resolution, movement_amplitude and "
                        "bgm only: no audio, off-peak, watermark, recommended prompt or "
                        "payload.",
                    ),
                    "prompt": cite("001", "input.prompt is optional, up to 2000 characters."),
                    "cost": cite("001", "Its status answer reports usage.duration, no cost."),
                }
            ),
        ),
        Provider(
            name="kkiai",
            label="KKIAI",
            offers=_offers(
                ("viduq3-pro", "viduq3-turbo", "viduq2", "viduq1"),
                ("viduq3-pro", "viduq3-turbo", "viduq1"),
            ),
            takes=MappingProxyType(
                {
                    # [002]'s parameter table lists no bgm (only its example sends it).
                    IMG2VIDEO: EVERY_PARAMETER - {"bgm"},
                    START_END2VIDEO: START_END_PARAMETERS - {"bgm"},
                }
            ),
            prompt_required=True,
            cost_unit="credits",
            sources=MappingProxyType(
                {
                    "offers": cite(
                        "002 gateways",
                        "viduq2, viduq1, viduq3-turbo and viduq3-pro. Its start-end page takes "
                        "the official body; the studio offers there the models of these that "
                        "the official start-end2video takes.",
                    ),
                    "takes": cite("002", "The official body; its table lists no bgm."),
                    "prompt": cite("002", "The prompt is required, at most 2000 characters."),
                    "cost": cite("002", "Its create answer carries `credits`."),
                }
            ),
        ),
        Provider(
            name="vtrix",
            label="Vtrix",
            offers=_offers(("viduq1",), ("viduq2-pro",)),
            takes=MappingProxyType(
                {
                    IMG2VIDEO: EVERY_PARAMETER - {"off_peak", "meta_data"},
                    START_END2VIDEO: START_END_PARAMETERS - {"off_peak"},
                }
            ),
            prompt_required=False,
            cost_unit="usd",
            sources=MappingProxyType(
                {
                    "offers": cite(
                        "003 gateways",
                        "viduq1_img2video (5 s, 1080p) and viduq2_pro_start_end2video.",
                    ),
                    "takes": cite(
                        "003",
                        "Official parameter names; off-peak is 'temporarily unavailable' and "
                        "meta_data is not listed.",
                    ),
                    "prompt": cite("003", "The prompt is optional, at most 2000 characters."),
                    "cost": cite("003", "usage.cost: the total cost in US dollars."),
                }
            ),
        ),
    )
}
DEFAULT_PROVIDER = "official"


def provider(name: str) -> Provider:
    return PROVIDERS[name]


def missing_models(endpoint: str, provider_name: str) -> list[tuple[str, str]]:
    """(model, why it is not offered) for every documented model this provider lacks."""
    chosen = PROVIDERS[provider_name]
    out = []
    for name in MODELS[endpoint]:
        if name in chosen.offered(endpoint):
            continue
        elsewhere = [p.label for p in PROVIDERS.values() if name in p.offered(endpoint)]
        where = f"; offered by {', '.join(elsewhere)}" if elsewhere else "; no provider offers it"
        out.append((name, f"{chosen.label}'s documents do not list it here{where}."))
    return out


class UnknownModel(KeyError):
    pass


def endpoint_rules(endpoint: str) -> Endpoint:
    return ENDPOINT_RULES[endpoint]


def models_for(endpoint: str) -> list[Model]:
    return list(MODELS[endpoint].values())


def get_model(endpoint: str, name: str) -> Model:
    try:
        return MODELS[endpoint][name]
    except KeyError:
        raise UnknownModel(name) from None


@dataclass(frozen=True)
class Estimate:
    credits: int | None  # None where the provider does not charge in credits
    basis: str  # how the figure was reached, in words


def estimate(
    endpoint: str,
    model: str,
    duration: int,
    resolution: str,
    *,
    off_peak=False,
    is_rec=False,
    provider_name: str = DEFAULT_PROVIDER,
) -> Estimate:
    """Our estimate of what a task costs; the provider's own figure is the truth.

    Only in credits, and only for a provider that charges in credits: a price in money
    or in nothing is never invented from the credit table.
    """
    chosen = PROVIDERS[provider_name]
    if chosen.cost_unit != "credits":
        return Estimate(
            None, chosen.cost_text() + " The studio has no price table for it, so no estimate."
        )
    per_video = PRICE_PER_VIDEO.get((model, duration, resolution))
    if per_video is not None:
        credits = float(per_video)
        article = "an" if str(duration).startswith("8") or duration in (11, 18) else "a"
        basis = f"{per_video} for {article} {duration}-second {resolution} video"
    else:
        rate = PRICE_PER_SECOND.get(model, {}).get(resolution, UNKNOWN_PRICE_PER_SECOND)
        credits = float(rate * duration)
        basis = f"{rate:g} a second at {resolution} × {duration} s"
    if off_peak:
        credits = max(1.0, credits * OFF_PEAK_FACTOR)
        basis += ", off-peak about half"
    total = int(round(credits))
    if is_rec:
        total += IS_REC_EXTRA_CREDITS
        basis += f", +{IS_REC_EXTRA_CREDITS} for a recommended prompt"
    if chosen.name != DEFAULT_PROVIDER:
        basis += f"; at Vidu's own prices, which {chosen.label}'s may not match"
    return Estimate(total, basis)


def estimate_credits(
    endpoint: str, model: str, duration: int, resolution: str, *, off_peak=False, is_rec=False
) -> int:
    return estimate(endpoint, model, duration, resolution, off_peak=off_peak, is_rec=is_rec).credits


@dataclass
class Problem:
    field: str
    message: str
    reason: str = "FieldInvalid"  # the provider reason the simulator answers with


@dataclass
class Checked:
    """The outcome of checking one request's parameters against the catalog."""

    params: dict = field(default_factory=dict)  # what to send, defaults filled in
    problems: list[Problem] = field(default_factory=list)

    def add(self, field_name: str, message: str, reason: str = "FieldInvalid") -> None:
        self.problems.append(Problem(field_name, message, reason))

    @property
    def ok(self) -> bool:
        return not self.problems


# The spellings of a ticked and an unticked box (and of a JSON boolean sent as text).
# Anything else is neither, and refused: "maybe" must not turn a paid option on.
TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off", "")
FLAGS = ("audio", "bgm", "is_rec", "off_peak", "watermark")


def flag(value) -> bool | None:
    """A yes/no option as sent: True, False, or None where it is neither."""
    if value is None or isinstance(value, bool):
        return bool(value)
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def truthy(value) -> bool:
    return flag(value) is True


def _given(value) -> bool:
    return value not in (None, "")


def _int_or_none(value) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def not_taken(chosen: Provider, name: str) -> str:
    return f"{chosen.label} does not take {PARAMETER_WORDS[name]}."


def options_for(
    model: Model, duration: int, audio: bool, provider_name: str = DEFAULT_PROVIDER
) -> dict[str, Option]:
    """`Model.options`, with what the provider's request does not take turned off."""
    chosen = PROVIDERS[provider_name]
    out = model.options(duration, audio)
    for name, option in out.items():
        if option.applies and not chosen.takes_parameter(model.endpoint, name):
            out[name] = Option(name, False, not_taken(chosen, name), chosen.source("takes"), False)
    return out


def models_offered(endpoint: str, provider_name: str = DEFAULT_PROVIDER) -> list[Model]:
    offered = PROVIDERS[provider_name].offered(endpoint)
    return [m for m in MODELS[endpoint].values() if m.name in offered]


def default_model(endpoint: str, provider_name: str = DEFAULT_PROVIDER) -> str:
    """The studio's default if the provider offers it, else its cheapest offered model."""
    offered = PROVIDERS[provider_name].offered(endpoint)
    if DEFAULT_MODEL[endpoint] in offered:
        return DEFAULT_MODEL[endpoint]
    return min(
        offered,
        key=lambda name: estimate_credits(
            endpoint,
            name,
            MODELS[endpoint][name].default_duration,
            MODELS[endpoint][name].resolution_rule(MODELS[endpoint][name].default_duration).default,
        ),
    )


def check_parameters(endpoint: str, raw: dict, provider_name: str = DEFAULT_PROVIDER) -> Checked:
    """Check a request's parameters (not its images) the way the provider documents them.

    `raw` uses Vidu's parameter names. Returns the parameters to send, with the model's
    defaults filled in and options that have no effect for the model dropped, or the
    problems in the user's words. An option that does not apply is a problem only when
    it is asked for (true, or a value); leaving it off is always fine.
    """
    out = Checked()
    rules = ENDPOINT_RULES[endpoint]
    chosen = PROVIDERS[provider_name]
    name = str(raw.get("model") or "").strip()
    if not name:
        out.add("model", "Choose a model.", "FieldLacking")
        return out
    if name not in chosen.offered(endpoint):
        offered = ", ".join(chosen.offered(endpoint))
        by = "" if chosen.name == DEFAULT_PROVIDER else f" by {chosen.label}"
        out.add(
            "model",
            f"{name} is not offered{by} for {ENDPOINT_LABELS[endpoint].lower()}; "
            f"choose one of {offered}.",
            "ModelUnavailable",
        )
        return out
    model = MODELS[endpoint][name]

    def takes(parameter: str) -> bool:
        return chosen.takes_parameter(endpoint, parameter)

    p: dict = {"model": name}

    prompt = raw.get("prompt") or ""
    if not isinstance(prompt, str):
        out.add("prompt", "The prompt must be text.")
        prompt = ""
    if len(prompt) > rules.prompt_max:
        out.add(
            "prompt",
            f"The prompt is {len(prompt):,} characters; Vidu takes at most "
            f"{rules.prompt_max:,} for {ENDPOINT_LABELS[endpoint].lower()}.",
        )
    elif (rules.prompt_required or chosen.prompt_required) and not prompt.strip():
        out.add("prompt", f"Write a prompt: {chosen.label} needs one here.", "FieldLacking")
    p["prompt"] = prompt

    duration = raw.get("duration")
    if not _given(duration):
        duration = model.default_duration
    elif _int_or_none(duration) is None:
        out.add("duration", "The duration must be a whole number of seconds.")
        duration = model.default_duration
    else:
        duration = int(duration)
        if duration not in model.durations:
            out.add("duration", f"{name} makes {model.duration_text()}; {duration} is not offered.")
    p["duration"] = duration

    res_rule = model.resolution_rule(duration)
    resolution = raw.get("resolution") or res_rule.default
    if resolution not in res_rule.choices:
        out.add(
            "resolution",
            f"{name} makes {model.resolution_text(duration)}; {resolution} is not offered.",
        )
    p["resolution"] = resolution

    seed = raw.get("seed")
    if _given(seed) and not takes("seed"):
        if _int_or_none(seed) != 0:
            out.add("seed", not_taken(chosen, "seed"), "FieldUnwanted")
    elif _given(seed):
        seed = _int_or_none(seed)
        if seed is None:
            out.add("seed", "The seed must be a whole number (0 or empty for a random one).")
        elif not SEED_MIN <= seed <= SEED_MAX:
            out.add("seed", f"The seed must be between {SEED_MIN} and {SEED_MAX}.")
        elif seed:
            p["seed"] = seed

    for name in FLAGS:
        if flag(raw.get(name)) is None:
            shown = str(raw.get(name))[:20]
            out.add(name, f"“{shown}” is neither yes nor no: tick the box or leave it empty.")
    audio_raw = raw.get("audio")
    makes_audio = model.audio is not None and takes("audio")
    if not makes_audio:
        audio = False
    else:
        audio = model.audio_default() if not _given(audio_raw) else truthy(audio_raw)
    options = options_for(model, duration, audio, provider_name)

    amplitude = raw.get("movement_amplitude") or ""
    if options["movement_amplitude"].applies:
        amplitude = amplitude or options["movement_amplitude"].default
        if amplitude not in MOVEMENT_AMPLITUDES:
            out.add(
                "movement_amplitude",
                f"Movement amplitude is {LIMITS['movement_amplitudes'].text}.",
            )
        p["movement_amplitude"] = amplitude
    elif amplitude and amplitude != "auto":
        out.add("movement_amplitude", options["movement_amplitude"].note, "FieldUnwanted")

    if not makes_audio:
        if _given(audio_raw) and truthy(audio_raw):
            out.add("audio", options["audio"].note, "FieldUnwanted")
    else:
        p["audio"] = audio

    voice_id = raw.get("voice_id") or ""
    voice_id = voice_id.strip() if isinstance(voice_id, str) else str(voice_id)
    if voice_id:
        if not options["voice_id"].applies:
            out.add("voice_id", options["voice_id"].note, "FieldUnwanted")
        else:
            p["voice_id"] = voice_id

    if truthy(raw.get("bgm")):
        if not options["bgm"].applies:
            out.add("bgm", options["bgm"].note, "FieldUnwanted")
        else:
            p["bgm"] = True

    if truthy(raw.get("is_rec")):
        if not takes("is_rec"):
            out.add("is_rec", not_taken(chosen, "is_rec"), "FieldUnwanted")
        else:
            p["is_rec"] = True

    if truthy(raw.get("off_peak")):
        if not options["off_peak"].applies:
            out.add("off_peak", options["off_peak"].note, "FieldInvalid")
        else:
            p["off_peak"] = True

    if rules.watermark and takes("watermark"):
        if truthy(raw.get("watermark")):
            p["watermark"] = True
        wm_position = raw.get("wm_position")
        if _given(wm_position):
            wm_position = _int_or_none(wm_position)
            if wm_position not in WM_POSITIONS:
                out.add(
                    "wm_position",
                    f"The watermark position is {LIMITS['wm_positions'].text}.",
                )
            elif p.get("watermark"):
                p["wm_position"] = wm_position
        wm_url = raw.get("wm_url") or ""
        wm_url = wm_url.strip() if isinstance(wm_url, str) else ""
        if wm_url:
            if not wm_url.startswith(("http://", "https://")):
                out.add("wm_url", "The watermark must be an image URL (http or https).")
            elif p.get("watermark"):
                p["wm_url"] = wm_url
    else:
        asked = {
            "watermark": truthy(raw.get("watermark")),
            "wm_position": _given(raw.get("wm_position")),
            "wm_url": _given(raw.get("wm_url")),
        }
        for name_ in (name_ for name_, given in asked.items() if given):
            out.add(
                name_,
                f"Watermarks are not offered for {ENDPOINT_LABELS[endpoint].lower()}."
                if not rules.watermark
                else not_taken(chosen, name_),
                "FieldUnwanted",
            )

    payload = raw.get("payload") or ""
    if payload and not takes("payload"):
        out.add("payload", not_taken(chosen, "payload"), "FieldUnwanted")
    elif len(payload) > PAYLOAD_MAX_CHARS:
        out.add("payload", f"The payload may be at most {PAYLOAD_MAX_CHARS:,} characters.")
    elif payload:
        p["payload"] = payload

    meta_data = raw.get("meta_data") or ""
    if meta_data:
        if rules.meta_data and not takes("meta_data"):
            out.add("meta_data", not_taken(chosen, "meta_data"), "FieldUnwanted")
        elif not rules.meta_data:
            out.add(
                "meta_data",
                f"Metadata is not offered for {ENDPOINT_LABELS[endpoint].lower()}.",
                "FieldUnwanted",
            )
        elif len(meta_data) > META_DATA_MAX_CHARS:
            out.add("meta_data", f"Metadata may be at most {META_DATA_MAX_CHARS:,} characters.")
        else:
            try:
                json.loads(meta_data)
            except ValueError:
                out.add("meta_data", 'Metadata must be JSON, for example {"Label": "x"}.')
            else:
                p["meta_data"] = meta_data

    out.params = p
    return out


def settle(endpoint: str, raw: dict, provider_name: str = DEFAULT_PROVIDER) -> dict:
    """The nearest valid choices to `raw`: what the form offers and prefills.

    Keeps every value the model allows, replaces the others with the model's defaults,
    and turns off options that do not apply. `raw["audio"]` None means the model's
    default. The result always passes `check_parameters`.
    """
    name = str(raw.get("model") or "")
    chosen = PROVIDERS[provider_name]
    if name not in chosen.offered(endpoint):
        name = default_model(endpoint, provider_name)
    model = MODELS[endpoint][name]
    duration = _int_or_none(raw.get("duration"))
    if duration not in model.durations:
        duration = model.default_duration
    rule = model.resolution_rule(duration)
    resolution = raw.get("resolution")
    if resolution not in rule.choices:
        resolution = rule.default
    if model.audio is None or not chosen.takes_parameter(endpoint, "audio"):
        audio = False
    elif not _given(raw.get("audio")):
        audio = model.audio_default()
    else:
        audio = truthy(raw.get("audio"))
    options = options_for(model, duration, audio, provider_name)
    amplitude = raw.get("movement_amplitude")
    if not options["movement_amplitude"].applies:
        amplitude = None
    elif amplitude not in MOVEMENT_AMPLITUDES:
        amplitude = options["movement_amplitude"].default
    voice_id = raw.get("voice_id") if isinstance(raw.get("voice_id"), str) else ""
    return {
        "model": model.name,
        "duration": duration,
        "resolution": resolution,
        "movement_amplitude": amplitude,
        "audio": audio,
        "voice_id": voice_id.strip() if options["voice_id"].applies else "",
        "bgm": options["bgm"].applies and truthy(raw.get("bgm")),
        "off_peak": options["off_peak"].applies and truthy(raw.get("off_peak")),
        "is_rec": chosen.takes_parameter(endpoint, "is_rec") and truthy(raw.get("is_rec")),
    }


def image_ratio_problem(width: int, height: int) -> str | None:
    """The message for an aspect ratio Vidu refuses, or None."""
    if width <= 0 or height <= 0:
        return "This image has no size."
    ratio = width / height
    if IMAGE_MIN_RATIO < ratio < IMAGE_MAX_RATIO:
        return None
    wide = ratio >= IMAGE_MAX_RATIO
    edge = ratio in (IMAGE_MIN_RATIO, IMAGE_MAX_RATIO)
    return (
        f"This image is {ratio_text(width, height)}; Vidu needs an aspect ratio between "
        f"1:4 and 4:1{', not exactly ' + ('4:1' if wide else '1:4') if edge else ''}. "
        f"Crop it to make it less {'wide' if wide else 'tall'}."
    )


def start_end_ratio_problem(start: tuple[int, int], end: tuple[int, int]) -> str | None:
    relation = (start[0] / start[1]) / (end[0] / end[1])
    if START_END_RATIO_MIN <= relation <= START_END_RATIO_MAX:
        return None
    return (
        f"The start frame is {ratio_text(*start)} and the end frame {ratio_text(*end)}; "
        "Vidu needs their shapes to be close (aspect ratios within 0.8 to 1.25 of each "
        f"other; these are {relation:.2f})."
    )


def ratio_text(width: int, height: int) -> str:
    """4:3, 16:9, 5:1; or 4.01:1 where small whole numbers do not fit (never a
    rounding that hides which side of a limit the ratio is on)."""
    g = gcd(width, height) or 1
    w, h = width // g, height // g
    if w <= 50 and h <= 50:
        return f"{w}:{h}"
    wide = width >= height
    value = width / height if wide else height / width
    for places in range(2, 7):
        shown = f"{value:.{places}f}".rstrip("0").rstrip(".")
        if float(shown) != 4.0 or value == 4.0:
            break
    return f"{shown}:1" if wide else f"1:{shown}"
