"""Reading a request's choices against a model: one resolver for the checks and the form.

Each `pick_*` returns the value to use and, where the value asked for is not one the
model allows, the problem in the user's words. The checks report the problem; `settle`
(the form's prefill) takes the model's default instead.
"""

from __future__ import annotations

from .endpoints import ENDPOINT_LABELS
from .limits import MOVEMENT_AMPLITUDES
from .models import MODELS, Model
from .prices import default_model
from .providers import DEFAULT_PROVIDER, PROVIDERS, Provider, options_for

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


def given(value) -> bool:
    return value not in (None, "")


def int_or_none(value) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def pick_model(endpoint: str, name: str, chosen: Provider) -> tuple[Model | None, str | None]:
    """The model named, or None and why not."""
    if not name:
        return None, "Choose a model."
    if name not in chosen.offered(endpoint):
        offered = ", ".join(chosen.offered(endpoint))
        by = "" if chosen.name == DEFAULT_PROVIDER else f" by {chosen.label}"
        return None, (
            f"{name} is not offered{by} for {ENDPOINT_LABELS[endpoint].lower()}; "
            f"choose one of {offered}."
        )
    return MODELS[endpoint][name], None


def pick_duration(model: Model, value) -> tuple[int, str | None]:
    """The duration asked for (the default where none is, or none that reads as one)."""
    if not given(value):
        return model.default_duration, None
    if int_or_none(value) is None:
        return model.default_duration, "The duration must be a whole number of seconds."
    duration = int(value)
    if duration not in model.durations:
        return duration, f"{model.name} makes {model.duration_text()}; {duration} is not offered."
    return duration, None


def pick_resolution(model: Model, duration: int, value) -> tuple[str, str | None]:
    """The resolution asked for at this duration, or the default where none is."""
    rule = model.resolution_rule(duration)
    resolution = value or rule.default
    if resolution not in rule.choices:
        return resolution, (
            f"{model.name} makes {model.resolution_text(duration)}; {resolution} is not offered."
        )
    return resolution, None


def makes_audio(model: Model, chosen: Provider) -> bool:
    return model.audio is not None and chosen.takes_parameter(model.endpoint, "audio")


def pick_audio(model: Model, chosen: Provider, value) -> bool:
    """Audio on or off: the model's default where nothing is said."""
    if not makes_audio(model, chosen):
        return False
    return model.audio_default() if not given(value) else truthy(value)


def settle(endpoint: str, raw: dict, provider_name: str = DEFAULT_PROVIDER) -> dict:
    """The nearest valid choices to `raw`: what the form offers and prefills.

    Keeps every value the model allows, replaces the others with the model's defaults,
    and turns off options that do not apply. `raw["audio"]` None means the model's
    default. The result always passes `check_parameters`.
    """
    chosen = PROVIDERS[provider_name]
    model, problem = pick_model(endpoint, str(raw.get("model") or ""), chosen)
    if model is None:
        model = MODELS[endpoint][default_model(endpoint, provider_name)]
    duration, problem = pick_duration(model, raw.get("duration"))
    if problem:
        duration = model.default_duration
    resolution, problem = pick_resolution(model, duration, raw.get("resolution"))
    if problem:
        resolution = model.resolution_rule(duration).default
    audio = pick_audio(model, chosen, raw.get("audio"))
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
