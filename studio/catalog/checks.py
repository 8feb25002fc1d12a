"""The checks before submit: a request's parameters and images against the catalog.

`check_parameters` runs `CHECKS`, small named checks, in order; each reads the request
and adds problems or parameters to send.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from .endpoints import ENDPOINT_LABELS, ENDPOINT_RULES, Endpoint
from .limits import (
    IMAGE_MAX_RATIO,
    IMAGE_MIN_RATIO,
    LIMITS,
    META_DATA_MAX_CHARS,
    MOVEMENT_AMPLITUDES,
    PAYLOAD_MAX_CHARS,
    SEED_MAX,
    SEED_MIN,
    START_END_RATIO_MAX,
    START_END_RATIO_MIN,
    WM_POSITIONS,
)
from .models import Model, Option
from .providers import DEFAULT_PROVIDER, PROVIDERS, Provider, options_for
from .resolve import (
    FLAGS,
    flag,
    given,
    int_or_none,
    makes_audio,
    pick_audio,
    pick_duration,
    pick_model,
    pick_resolution,
    truthy,
)
from .wording import not_taken, ratio_bound, ratio_span, ratio_text, similar_shapes

# What kind of problem it is, whatever the provider calls it.
INVALID = "invalid"  # a value the rules refuse
MISSING = "missing"  # a value the rules need, not given
UNWANTED = "unwanted"  # asked for, where it does not apply or is not taken
UNOFFERED = "unoffered"  # a model not offered here


@dataclass
class Problem:
    field: str
    message: str
    kind: str = INVALID


@dataclass
class Checked:
    """The outcome of checking one request's parameters against the catalog."""

    params: dict = field(default_factory=dict)  # what to send, defaults filled in
    problems: list[Problem] = field(default_factory=list)

    def add(self, field_name: str, message: str, kind: str = INVALID) -> None:
        self.problems.append(Problem(field_name, message, kind))

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Request:
    """What the checks share: the request as sent and what they worked out so far."""

    endpoint: str
    raw: dict
    provider_name: str
    out: Checked
    rules: Endpoint
    chosen: Provider
    model: Model | None = None
    duration: int = 0
    audio: bool = False
    options: dict[str, Option] = field(default_factory=dict)

    @property
    def params(self) -> dict:
        return self.out.params

    def add(self, field_name: str, message: str, kind: str = INVALID) -> None:
        self.out.add(field_name, message, kind)

    def takes(self, parameter: str) -> bool:
        return self.chosen.takes_parameter(self.endpoint, parameter)

    def not_taken(self, parameter: str) -> None:
        self.add(parameter, not_taken(self.chosen, parameter), UNWANTED)

    @property
    def endpoint_words(self) -> str:
        return ENDPOINT_LABELS[self.endpoint].lower()


def check_model(r: Request) -> bool:
    """The model; without one offered here, nothing else can be checked."""
    name = str(r.raw.get("model") or "").strip()
    r.model, problem = pick_model(r.endpoint, name, r.chosen)
    if r.model is None:
        r.add("model", problem, MISSING if not name else UNOFFERED)
        return False
    r.params["model"] = name
    return True


def check_prompt(r: Request) -> None:
    prompt = r.raw.get("prompt") or ""
    if not isinstance(prompt, str):
        r.add("prompt", "The prompt must be text.")
        prompt = ""
    longest = r.model.prompt_max
    if len(prompt) > longest:
        r.add(
            "prompt",
            f"The prompt is {len(prompt):,} characters; Vidu takes at most {longest:,} "
            f"for {r.endpoint_words}: shorten it by {len(prompt) - longest:,}.",
        )
    elif (r.rules.prompt_required or r.chosen.prompt_required) and not prompt.strip():
        r.add("prompt", f"Write a prompt: {r.chosen.label} needs one here.", MISSING)
    r.params["prompt"] = prompt


def check_duration(r: Request) -> None:
    r.duration, problem = pick_duration(r.model, r.raw.get("duration"))
    if problem:
        r.add("duration", problem)
    r.params["duration"] = r.duration


def check_resolution(r: Request) -> None:
    resolution, problem = pick_resolution(r.model, r.duration, r.raw.get("resolution"))
    if problem:
        r.add("resolution", problem)
    r.params["resolution"] = resolution


def check_seed(r: Request) -> None:
    seed = r.raw.get("seed")
    if not given(seed):
        return
    if not r.takes("seed"):
        if int_or_none(seed) != 0:
            r.not_taken("seed")
        return
    seed = int_or_none(seed)
    if seed is None:
        r.add("seed", "The seed must be a whole number (0 or empty for a random one).")
    elif not SEED_MIN <= seed <= SEED_MAX:
        r.add("seed", f"The seed must be between {SEED_MIN} and {SEED_MAX}.")
    elif seed:
        r.params["seed"] = seed


def check_flags(r: Request) -> None:
    """Each yes/no option is yes or no; then what applies with audio on or off."""
    for name in FLAGS:
        if flag(r.raw.get(name)) is None:
            shown = str(r.raw.get(name))[:20]
            r.add(name, f"“{shown}” is neither yes nor no: tick the box or leave it empty.")
    r.audio = pick_audio(r.model, r.chosen, r.raw.get("audio"))
    r.options = options_for(r.model, r.duration, r.audio, r.provider_name)


def check_movement_amplitude(r: Request) -> None:
    amplitude = r.raw.get("movement_amplitude") or ""
    option = r.options["movement_amplitude"]
    if option.applies:
        amplitude = amplitude or option.default
        if amplitude not in MOVEMENT_AMPLITUDES:
            r.add(
                "movement_amplitude",
                f"Movement amplitude is {LIMITS['movement_amplitudes'].text}.",
            )
        r.params["movement_amplitude"] = amplitude
    elif amplitude and amplitude != "auto":
        r.add("movement_amplitude", option.note, UNWANTED)


def check_audio(r: Request) -> None:
    if makes_audio(r.model, r.chosen):
        r.params["audio"] = r.audio
    elif given(r.raw.get("audio")) and truthy(r.raw.get("audio")):
        r.add("audio", r.options["audio"].note, UNWANTED)


def check_voice(r: Request) -> None:
    voice_id = r.raw.get("voice_id") or ""
    voice_id = voice_id.strip() if isinstance(voice_id, str) else str(voice_id)
    if not voice_id:
        return
    if not r.options["voice_id"].applies:
        r.add("voice_id", r.options["voice_id"].note, UNWANTED)
    else:
        r.params["voice_id"] = voice_id


def check_bgm(r: Request) -> None:
    if not truthy(r.raw.get("bgm")):
        return
    if not r.options["bgm"].applies:
        r.add("bgm", r.options["bgm"].note, UNWANTED)
    else:
        r.params["bgm"] = True


def check_is_rec(r: Request) -> None:
    if not truthy(r.raw.get("is_rec")):
        return
    if not r.takes("is_rec"):
        r.not_taken("is_rec")
    else:
        r.params["is_rec"] = True


def check_off_peak(r: Request) -> None:
    if not truthy(r.raw.get("off_peak")):
        return
    if not r.options["off_peak"].applies:
        r.add("off_peak", r.options["off_peak"].note, INVALID)
    else:
        r.params["off_peak"] = True


def check_watermark(r: Request) -> None:
    if not (r.rules.watermark and r.takes("watermark")):
        refuse_watermark(r)
        return
    if truthy(r.raw.get("watermark")):
        r.params["watermark"] = True
    wm_position = r.raw.get("wm_position")
    if given(wm_position):
        wm_position = int_or_none(wm_position)
        if wm_position not in WM_POSITIONS:
            r.add("wm_position", f"The watermark position is {LIMITS['wm_positions'].text}.")
        elif r.params.get("watermark"):
            r.params["wm_position"] = wm_position
    wm_url = r.raw.get("wm_url") or ""
    wm_url = wm_url.strip() if isinstance(wm_url, str) else ""
    if wm_url:
        if not wm_url.startswith(("http://", "https://")):
            r.add("wm_url", "The watermark must be an image URL (http or https).")
        elif r.params.get("watermark"):
            r.params["wm_url"] = wm_url


def refuse_watermark(r: Request) -> None:
    """Where no watermark is offered or taken: each part of one asked for is refused."""
    asked = {
        "watermark": truthy(r.raw.get("watermark")),
        "wm_position": given(r.raw.get("wm_position")),
        "wm_url": given(r.raw.get("wm_url")),
    }
    for name in (name for name, is_asked in asked.items() if is_asked):
        if r.rules.watermark:
            r.not_taken(name)
        else:
            r.add(name, f"Watermarks are not offered for {r.endpoint_words}.", UNWANTED)


def check_payload(r: Request) -> None:
    payload = r.raw.get("payload") or ""
    if payload and not r.takes("payload"):
        r.not_taken("payload")
    elif len(payload) > PAYLOAD_MAX_CHARS:
        r.add("payload", f"The payload may be at most {PAYLOAD_MAX_CHARS:,} characters.")
    elif payload:
        r.params["payload"] = payload


def check_meta_data(r: Request) -> None:
    meta_data = r.raw.get("meta_data") or ""
    if not meta_data:
        return
    if r.rules.meta_data and not r.takes("meta_data"):
        r.not_taken("meta_data")
    elif not r.rules.meta_data:
        r.add("meta_data", f"Metadata is not offered for {r.endpoint_words}.", UNWANTED)
    elif len(meta_data) > META_DATA_MAX_CHARS:
        r.add("meta_data", f"Metadata may be at most {META_DATA_MAX_CHARS:,} characters.")
    else:
        try:
            json.loads(meta_data)
        except ValueError:
            r.add("meta_data", 'Metadata must be JSON, for example {"Label": "x"}.')
        else:
            r.params["meta_data"] = meta_data


# In order: a check that answers False stops the ones after it.
CHECKS: tuple[Callable[[Request], bool | None], ...] = (
    check_model,
    check_prompt,
    check_duration,
    check_resolution,
    check_seed,
    check_flags,
    check_movement_amplitude,
    check_audio,
    check_voice,
    check_bgm,
    check_is_rec,
    check_off_peak,
    check_watermark,
    check_payload,
    check_meta_data,
)


def check_parameters(endpoint: str, raw: dict, provider_name: str = DEFAULT_PROVIDER) -> Checked:
    """Check a request's parameters (not its images) the way the provider documents them.

    `raw` uses Vidu's parameter names. Returns the parameters to send, with the model's
    defaults filled in and options that have no effect for the model dropped, or the
    problems in the user's words. An option that does not apply is a problem only when
    it is asked for (true, or a value); leaving it off is always fine.
    """
    request = Request(
        endpoint,
        raw,
        provider_name,
        Checked(),
        ENDPOINT_RULES[endpoint],
        PROVIDERS[provider_name],
    )
    for check in CHECKS:
        if check(request) is False:
            break
    return request.out


# The studio's own id, as long as any: the payload is measured wrapped around it.
_SAMPLE_ID = "00000000-0000-0000-0000-000000000000"


def sent_payload_length(payload: str) -> int:
    """How long the payload is once the studio has wrapped it with its generation id.

    The wrapping is a JSON object holding the id and the payload (the worker's
    `wrap_payload`): quotes and backslashes are escaped, other characters kept as they are.
    """
    if not payload:
        return len(_SAMPLE_ID)
    wrapped = {"studio_generation": _SAMPLE_ID, "payload": payload}
    return len(json.dumps(wrapped, ensure_ascii=False))


def sent_payload_problem(payload: str) -> str | None:
    """The message for a payload too long once wrapped, or None."""
    sent = sent_payload_length(payload)
    if not payload or sent <= PAYLOAD_MAX_CHARS:
        return None
    return (
        f"The payload is {sent - PAYLOAD_MAX_CHARS:,} characters too long: "
        f"Vidu takes {PAYLOAD_MAX_CHARS:,}, and the studio adds its own id "
        "(quotes and backslashes count twice)."
    )


def image_ratio_problem(width: int, height: int) -> str | None:
    """The message for an aspect ratio Vidu refuses, or None."""
    if width <= 0 or height <= 0:
        return "This image has no size."
    ratio = width / height
    if IMAGE_MIN_RATIO < ratio < IMAGE_MAX_RATIO:
        return None
    wide = ratio >= IMAGE_MAX_RATIO
    edge = ratio in (IMAGE_MIN_RATIO, IMAGE_MAX_RATIO)
    bound = ratio_bound(IMAGE_MAX_RATIO if wide else IMAGE_MIN_RATIO)
    return (
        f"This image is {ratio_text(width, height)}; Vidu needs an aspect ratio between "
        f"{ratio_span(IMAGE_MIN_RATIO, IMAGE_MAX_RATIO)}"
        f"{', not exactly ' + bound if edge else ''}. "
        f"Crop it to make it less {'wide' if wide else 'tall'}."
    )


def start_end_ratio_problem(start: tuple[int, int], end: tuple[int, int]) -> str | None:
    relation = (start[0] / start[1]) / (end[0] / end[1])
    if START_END_RATIO_MIN <= relation <= START_END_RATIO_MAX:
        return None
    return (
        f"The start frame is {ratio_text(*start)} and the end frame {ratio_text(*end)}, "
        "too different in shape: Vidu needs two frames of a similar shape "
        f"({similar_shapes(START_END_RATIO_MAX)}). Crop one to match the other."
    )
