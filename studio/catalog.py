"""Every documented rule of every Vidu model, per endpoint: the one source of truth.

The form, the checks before submit, the UI hints, the cost estimate and the simulator
all read this module. Each rule names the seed document it comes from (seeds/000..004,
or "api" for ../shared/VIDU-API.md's summary of the official platform docs). Where the
sources disagree, the rule records the choice and the other reading in `note`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

IMG2VIDEO = "img2video"
START_END2VIDEO = "start-end2video"
ENDPOINTS = (IMG2VIDEO, START_END2VIDEO)
ENDPOINT_LABELS = {IMG2VIDEO: "Image to video", START_END2VIDEO: "Start and end frame to video"}

IMAGE_FORMATS = ("png", "jpeg", "webp")  # "jpg" is jpeg; formats are checked by content
IMAGE_MAX_BYTES = 50 * 1024 * 1024  # [000, 001, 002, 003, 004]
# "The image ratio must be less than 1:4 or 4:1" [000-004]: strictly between 1/4 and 4.
IMAGE_MIN_RATIO = 1 / 4
IMAGE_MAX_RATIO = 4.0
START_END_RATIO_MIN = 0.8  # [004] start/end aspect ratios within 0.8-1.25 of each other
START_END_RATIO_MAX = 1.25
REQUEST_BODY_MAX_BYTES = 20 * 1024 * 1024  # [002, 003, 004]
PAYLOAD_MAX_CHARS = 1_048_576  # [002, 003, 004]
META_DATA_MAX_CHARS = 1_048_576  # not documented; kept at payload's size
WM_POSITIONS = (
    1,
    2,
    3,
    4,
)  # [000, 002, 003]: 1 top-left, 2 top-right, 3 bottom-right, 4 bottom-left
WM_POSITION_DEFAULT = 3
MOVEMENT_AMPLITUDES = ("auto", "small", "medium", "large")
IS_REC_EXTRA_CREDITS = 10  # [002, 004]


@dataclass(frozen=True)
class Endpoint:
    name: str
    images: int
    prompt_max: int
    prompt_source: str
    watermark: bool  # watermark, wm_position, wm_url
    meta_data: bool
    image_fields: tuple[str, ...]


ENDPOINT_RULES = {
    IMG2VIDEO: Endpoint(
        name=IMG2VIDEO,
        images=1,
        prompt_max=2000,
        prompt_source="002, 003",
        watermark=True,
        meta_data=True,
        image_fields=("images",),
    ),
    START_END2VIDEO: Endpoint(
        name=START_END2VIDEO,
        images=2,
        prompt_max=5000,
        prompt_source="004",
        watermark=False,  # not listed in [004]
        meta_data=False,  # not listed in [004]
        image_fields=("start_image", "end_image"),
    ),
}


@dataclass(frozen=True)
class Resolutions:
    """Resolutions allowed for a span of durations, and the default among them."""

    durations: tuple[int, ...]
    choices: tuple[str, ...]
    default: str


@dataclass(frozen=True)
class Model:
    name: str
    endpoint: str
    label: str
    durations: tuple[int, ...]
    default_duration: int
    resolutions: tuple[Resolutions, ...]
    source: str
    movement_amplitude: bool = False
    # audio: None (not offered), "optional" (default off), "default_on" (q3)
    audio: str | None = None
    voice_id: bool = False  # only ever together with audio=true
    bgm: bool = True
    bgm_no_effect_durations: tuple[int, ...] = ()
    off_peak_with_audio: bool = False
    note: str = ""

    def resolution_rule(self, duration: int) -> Resolutions:
        for rule in self.resolutions:
            if duration in rule.durations:
                return rule
        return self.resolutions[0]

    def bgm_applies(self, duration: int) -> bool:
        return self.bgm and duration not in self.bgm_no_effect_durations

    def duration_text(self) -> str:
        d = self.durations
        if len(d) == 1:
            return f"{d[0]}-second videos only"
        if d == tuple(range(d[0], d[-1] + 1)) and len(d) > 2:
            return f"{d[0]} to {d[-1]} seconds"
        return " or ".join(str(x) for x in d) + " seconds"


def _span(lo: int, hi: int) -> tuple[int, ...]:
    return tuple(range(lo, hi + 1))


R_540_1080 = ("540p", "720p", "1080p")


def _q3(name: str, endpoint: str, source: str, label: str) -> Model:
    return Model(
        name=name,
        endpoint=endpoint,
        label=label,
        durations=_span(1, 16),
        default_duration=5,
        resolutions=(Resolutions(_span(1, 16), R_540_1080, "720p"),),
        source=source,
        audio="default_on",  # [002] audio defaults to true on q3; [004] likewise
        voice_id=False,  # [000] "does not take effect for q3 models"
        bgm=False,  # [004] "BGM does not available in q3 models"
        # [004] start-end: off-peak works with audio on q3 only; [002] img2video says
        # off-peak is not supported with audio at all.
        off_peak_with_audio=endpoint == START_END2VIDEO,
    )


def _q2(name: str, endpoint: str, source: str, label: str, resolutions=R_540_1080) -> Model:
    longest = 10 if endpoint == IMG2VIDEO else 8  # [000, 001, 002] vs [004]
    return Model(
        name=name,
        endpoint=endpoint,
        label=label,
        durations=_span(1, longest),
        default_duration=5,
        resolutions=(Resolutions(_span(1, longest), resolutions, "720p"),),
        source=source,
        # [004] on start-end2video "only the q3 models support" audio
        audio="optional" if endpoint == IMG2VIDEO else None,
        voice_id=endpoint == IMG2VIDEO,
        bgm=True,
        bgm_no_effect_durations=(9, 10),  # [004]
    )


def _q1(name: str, endpoint: str, source: str, label: str) -> Model:
    return Model(
        name=name,
        endpoint=endpoint,
        label=label,
        durations=(5,),
        default_duration=5,
        resolutions=(Resolutions((5,), ("1080p",), "1080p"),),
        source=source,
        movement_amplitude=True,
        audio="optional" if endpoint == IMG2VIDEO else None,
        voice_id=endpoint == IMG2VIDEO,
        bgm=True,
    )


def _vidu20(endpoint: str, source: str) -> Model:
    return Model(
        name="vidu2.0",
        endpoint=endpoint,
        label="Vidu 2.0: fast generation",
        durations=(4, 8),
        default_duration=4,
        resolutions=(
            Resolutions((4,), ("360p", "720p", "1080p"), "360p"),
            Resolutions((8,), ("720p",), "720p"),
        ),
        source=source,
        movement_amplitude=True,
        audio="optional" if endpoint == IMG2VIDEO else None,
        voice_id=endpoint == IMG2VIDEO,
        bgm=True,
    )


MODELS: dict[str, dict[str, Model]] = {
    IMG2VIDEO: {
        m.name: m
        for m in (
            _q3("viduq3-pro", IMG2VIDEO, "000, 002", "Q3 Pro: audio and video together"),
            _q3("viduq3-turbo", IMG2VIDEO, "002", "Q3 Turbo: faster than Q3 Pro"),
            _q2("viduq2-pro", IMG2VIDEO, "000, 001", "Q2 Pro: rich detail"),
            _q2("viduq2-turbo", IMG2VIDEO, "000, 001", "Q2 Turbo: fast, good detail"),
            _q2(
                "viduq2-pro-fast",
                IMG2VIDEO,
                "000",
                "Q2 Pro Fast: lowest price",
                resolutions=("720p", "1080p"),
            ),
            _q2("viduq2", IMG2VIDEO, "002", "Q2 (gateway name)"),
            _q1("viduq1", IMG2VIDEO, "000, 002, 003", "Q1: clear, stable camera"),
            _q1("viduq1-classic", IMG2VIDEO, "000", "Q1 Classic: richer camera moves"),
            _vidu20(IMG2VIDEO, "000"),
        )
    },
    START_END2VIDEO: {
        m.name: m
        for m in (
            _q3("viduq3-pro", START_END2VIDEO, "004", "Q3 Pro: audio and video together"),
            _q3("viduq3-turbo", START_END2VIDEO, "004", "Q3 Turbo: faster than Q3 Pro"),
            _q2("viduq2-pro", START_END2VIDEO, "004", "Q2 Pro: rich detail"),
            _q2("viduq2-turbo", START_END2VIDEO, "004", "Q2 Turbo: fast, good detail"),
            _q2(
                "viduq2-pro-fast",
                START_END2VIDEO,
                "004",
                "Q2 Pro Fast: lowest price",
                resolutions=("720p", "1080p"),
            ),
            _q1("viduq1", START_END2VIDEO, "004", "Q1: clear, smooth transitions"),
            _q1("viduq1-classic", START_END2VIDEO, "004", "Q1 Classic: richer transitions"),
            _vidu20(START_END2VIDEO, "004"),
        )
    },
}
DEFAULT_MODEL = {IMG2VIDEO: "viduq2-turbo", START_END2VIDEO: "viduq2-turbo"}

# Credits per second by model and resolution: ESTIMATES ONLY (third-party lists,
# unverified, VIDU-API.md section 2). The provider's figure is stored as the truth.
# Flat entries ("per_video") price a whole video of one duration.
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
OFF_PEAK_FACTOR = 0.5


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


def estimate_credits(
    endpoint: str, model: str, duration: int, resolution: str, *, off_peak=False, is_rec=False
) -> int:
    """Our estimate of what a task costs; the provider's own figure is the truth."""
    per_video = PRICE_PER_VIDEO.get((model, duration, resolution))
    if per_video is not None:
        credits = float(per_video)
    else:
        rate = PRICE_PER_SECOND.get(model, {}).get(resolution, 2)
        credits = float(rate * duration)
    if off_peak:
        credits = max(1.0, credits * OFF_PEAK_FACTOR)
    total = int(round(credits))
    if is_rec:
        total += IS_REC_EXTRA_CREDITS
    return total


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


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


def check_parameters(endpoint: str, raw: dict) -> Checked:
    """Check a request's parameters (not its images) the way the provider documents them.

    `raw` uses Vidu's parameter names. Returns the parameters to send, with the model's
    defaults filled in and options that have no effect for the model dropped, or the
    problems in the user's words.
    """
    out = Checked()
    rules = ENDPOINT_RULES[endpoint]
    name = (raw.get("model") or "").strip()
    if not name:
        out.add("model", "Choose a model.", "FieldLacking")
        return out
    if name not in MODELS[endpoint]:
        offered = ", ".join(MODELS[endpoint])
        out.add(
            "model",
            f"{name} is not offered for {ENDPOINT_LABELS[endpoint].lower()}; "
            f"choose one of {offered}.",
            "ModelUnavailable",
        )
        return out
    model = MODELS[endpoint][name]
    p: dict = {"model": name}

    prompt = raw.get("prompt") or ""
    if len(prompt) > rules.prompt_max:
        out.add(
            "prompt",
            f"The prompt is {len(prompt)} characters; Vidu takes at most {rules.prompt_max}.",
        )
    p["prompt"] = prompt

    duration = raw.get("duration")
    if duration in (None, ""):
        duration = model.default_duration
    try:
        duration = int(duration)
    except (TypeError, ValueError):
        out.add("duration", "The duration must be a whole number of seconds.")
        duration = model.default_duration
    else:
        if duration not in model.durations:
            out.add("duration", f"{name} makes {model.duration_text()}.")
    p["duration"] = duration

    res_rule = model.resolution_rule(duration)
    resolution = raw.get("resolution") or res_rule.default
    if resolution not in res_rule.choices:
        allowed = ", ".join(res_rule.choices)
        length = f" at {duration} seconds" if len(model.resolutions) > 1 else ""
        out.add("resolution", f"{name} makes {allowed} only{length}; {resolution} is not offered.")
    p["resolution"] = resolution

    seed = raw.get("seed")
    if seed not in (None, ""):
        try:
            seed = int(seed)
        except (TypeError, ValueError):
            out.add("seed", "The seed must be a whole number (0 or empty for a random one).")
        else:
            if seed < 0 or seed > 2**31 - 1:
                out.add("seed", "The seed must be between 0 and 2147483647.")
            elif seed:
                p["seed"] = seed

    amplitude = raw.get("movement_amplitude") or ""
    if model.movement_amplitude:
        amplitude = amplitude or "auto"
        if amplitude not in MOVEMENT_AMPLITUDES:
            out.add(
                "movement_amplitude",
                f"Movement amplitude is one of {', '.join(MOVEMENT_AMPLITUDES)}.",
            )
        p["movement_amplitude"] = amplitude
    elif amplitude and amplitude != "auto":
        out.add(
            "movement_amplitude",
            f"Movement amplitude has no effect on {name}; leave it unset.",
            "FieldUnwanted",
        )

    audio_raw = raw.get("audio")
    if model.audio is None:
        audio = False
        if audio_raw not in (None, "") and _truthy(audio_raw):
            out.add("audio", f"{name} cannot make audio here.", "FieldUnwanted")
    else:
        if audio_raw in (None, ""):
            audio = model.audio == "default_on"
        else:
            audio = _truthy(audio_raw)
        p["audio"] = audio

    voice_id = (raw.get("voice_id") or "").strip()
    if voice_id:
        if not model.voice_id:
            out.add("voice_id", f"A voice has no effect on {name}.", "FieldUnwanted")
        elif not audio:
            out.add("voice_id", "A voice needs audio switched on.", "FieldUnwanted")
        else:
            p["voice_id"] = voice_id

    bgm = _truthy(raw.get("bgm"))
    if bgm:
        if not model.bgm:
            out.add("bgm", f"Background music is not available on {name}.", "FieldUnwanted")
        elif not model.bgm_applies(duration):
            out.add(
                "bgm",
                f"Background music has no effect on {name} at {duration} seconds.",
                "FieldUnwanted",
            )
        else:
            p["bgm"] = True

    if _truthy(raw.get("is_rec")):
        p["is_rec"] = True

    off_peak = _truthy(raw.get("off_peak"))
    if off_peak:
        if audio and not model.off_peak_with_audio:
            out.add(
                "off_peak",
                f"Off-peak is not available with audio on {name}; switch audio off "
                "or generate now.",
                "FieldInvalid",
            )
        p["off_peak"] = True

    if rules.watermark:
        if _truthy(raw.get("watermark")):
            p["watermark"] = True
        wm_position = raw.get("wm_position")
        if wm_position not in (None, ""):
            try:
                wm_position = int(wm_position)
            except (TypeError, ValueError):
                wm_position = 0
            if wm_position not in WM_POSITIONS:
                out.add(
                    "wm_position",
                    "The watermark position is 1 (top left), 2 (top right), "
                    "3 (bottom right) or 4 (bottom left).",
                )
            elif p.get("watermark"):
                p["wm_position"] = wm_position
        wm_url = (raw.get("wm_url") or "").strip()
        if wm_url:
            if not wm_url.startswith(("http://", "https://")):
                out.add("wm_url", "The watermark must be an image URL (http or https).")
            elif p.get("watermark"):
                p["wm_url"] = wm_url
    else:
        for name_ in ("watermark", "wm_position", "wm_url"):
            if raw.get(name_) not in (None, "", False, "false"):
                out.add(name_, "Watermarks are not offered for this endpoint.", "FieldUnwanted")

    payload = raw.get("payload") or ""
    if len(payload) > PAYLOAD_MAX_CHARS:
        out.add("payload", f"The payload may be at most {PAYLOAD_MAX_CHARS:,} characters.")
    elif payload:
        p["payload"] = payload

    meta_data = raw.get("meta_data") or ""
    if meta_data:
        if not rules.meta_data:
            out.add("meta_data", "Metadata is not offered for this endpoint.", "FieldUnwanted")
        elif len(meta_data) > META_DATA_MAX_CHARS:
            out.add("meta_data", "The metadata is too long.")
        else:
            try:
                json.loads(meta_data)
            except ValueError:
                out.add("meta_data", 'Metadata must be a JSON string, for example {"Label": "x"}.')
            else:
                p["meta_data"] = meta_data

    out.params = p
    return out


def image_ratio_problem(width: int, height: int) -> str | None:
    """The message for an aspect ratio Vidu refuses, or None."""
    if width <= 0 or height <= 0:
        return "This image has no size."
    ratio = width / height
    if IMAGE_MIN_RATIO < ratio < IMAGE_MAX_RATIO:
        return None
    return (
        f"This image is {_ratio_text(width, height)}; "
        "Vidu needs an aspect ratio between 1:4 and 4:1."
    )


def start_end_ratio_problem(start: tuple[int, int], end: tuple[int, int]) -> str | None:
    relation = (start[0] / start[1]) / (end[0] / end[1])
    if START_END_RATIO_MIN <= relation <= START_END_RATIO_MAX:
        return None
    return (
        f"The start frame is {_ratio_text(*start)} and the end frame {_ratio_text(*end)}; "
        "Vidu needs their shapes to be close (ratio between 0.8 and 1.25)."
    )


def _ratio_text(width: int, height: int) -> str:
    from math import gcd

    g = gcd(width, height) or 1
    w, h = width // g, height // g
    if w <= 50 and h <= 50:
        return f"{w}:{h}"
    return f"{width / height:.2f}:1" if width >= height else f"1:{height / width:.2f}"
