"""Every Vidu model, per endpoint: what it makes and which options apply, as data.

Each model carries a `Source` for every rule: the documents it comes from and, where they
disagree or are silent, what the other reading is. A disputed choice is one value in one
place: change it there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

from .endpoints import ENDPOINT_RULES, IMG2VIDEO, START_END2VIDEO
from .limits import LIMITS
from .sources import Source, cite
from .wording import sentence


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
    # How people call it ("Vidu Q2 Turbo") and what it is good at, for the form's choices.
    title: str
    character: str
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

    @property
    def label(self) -> str:
        """Its name and character: "Vidu Q2 Turbo — fast, good detail, sound optional"."""
        return self.label_with(sound=self.audio is not None)

    def label_with(self, sound: bool) -> str:
        """Its label where sound is (or is not) to be had from the one who sells it."""
        if not sound:
            heard = "silent"
        elif self.audio_default():
            heard = "with sound"
        else:
            heard = "sound optional"
        return f"{self.title} — {self.character}, {heard}"

    @property
    def prompt_max(self) -> int:
        """The longest prompt this model takes, in characters."""
        return ENDPOINT_RULES[self.endpoint].prompt_max

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
        return {
            "movement_amplitude": _movement_option(self),
            "audio": _audio_option(self),
            "voice_id": _voice_option(self, audio),
            "bgm": _bgm_option(self, duration),
            "off_peak": _off_peak_option(self, audio),
        }


def _movement_option(model: Model) -> Option:
    source = model.source("movement_amplitude")
    if model.movement_amplitude:
        default = LIMITS["movement_amplitudes"].default
        return Option("movement_amplitude", True, "How much moves in the frame.", source, default)
    note = (
        f"Movement amplitude has no effect on {model.title}: Vidu ignores it on "
        f"{model.family} models."
    )
    return Option("movement_amplitude", False, note, source)


def _audio_option(model: Model) -> Option:
    if model.audio is None:
        note = (
            f"{model.title} makes silent videos here: only Q3 models add sound to start and "
            "end frame videos."
            if model.endpoint == START_END2VIDEO
            else f"{model.title} makes silent videos."
        )
        return Option("audio", False, note, model.source("audio"), False)
    on = model.audio_default()
    note = "Dialogue and sound effects" + (
        f"; on by default for {model.family} models." if on else "; off by default."
    )
    return Option("audio", True, note, model.source("audio"), on)


def _voice_option(model: Model, audio: bool) -> Option:
    name, family = model.title, model.family
    if model.audio is None:
        voice = (False, f"A voice needs audio, which {name} does not make here.")
    elif not model.voice_id:
        voice = (False, f"A voice has no effect on {name}: Vidu chooses it on {family} models.")
    elif not audio:
        voice = (False, "A voice needs audio: switch audio on to choose one.")
    else:
        voice = (True, "A voice id from Vidu's voice list; empty: Vidu recommends one.")
    return Option("voice_id", *voice, model.source("voice_id"))


def _bgm_option(model: Model, duration: int) -> Option:
    name, family = model.title, model.family
    if not model.bgm:
        music = (False, f"Background music is not available on {name} ({family} models).")
    elif not model.bgm_applies(duration):
        music = (
            False,
            f"Background music has no effect on {name} at {duration} seconds "
            f"({family} models at "
            + " or ".join(str(d) for d in model.bgm_no_effect_durations)
            + " seconds).",
        )
    else:
        music = (True, "Vidu picks music from its library to fit the video.")
    return Option("bgm", *music, model.source("bgm"), False)


def _off_peak_option(model: Model, audio: bool) -> Option:
    if audio and not model.off_peak_with_audio:
        peak = (
            False,
            f"Off-peak is not available with audio on {model.title}: switch audio off to "
            "generate off-peak.",
        )
    else:
        peak = (True, sentence(LIMITS["off_peak"].text))
    return Option("off_peak", *peak, model.source("off_peak"), False)


def _span(lo: int, hi: int) -> tuple[int, ...]:
    return tuple(range(lo, hi + 1))


R_540_1080 = ("540p", "720p", "1080p")

# What the documents say of a rule, each sentence written once: the builders below cite
# these by name, with the documents that say it for that model and endpoint.
SAYS_540_TO_1080 = "540p, 720p or 1080p, default 720p."
SAYS_720_OR_1080 = "720p or 1080p, default 720p."
SAYS_MOVEMENT_CHOICES = "auto, small, medium or large, default auto."
SAYS_AUDIO_OPTIONAL = "Optional, default false."
SAYS_VOICE_NEEDS_AUDIO = "Takes effect only when audio is true."
SAYS_DEFAULT_FALSE = "Default false."
# A rule [004] states for start-end2video only, which the studio applies to img2video.
SAYS_BORROWED = "Stated in [004]; applied to img2video."

# The rules of one document that several families share, cited whole.
# [002]: img2video refuses off-peak with audio, on every family.
NO_OFF_PEAK_WITH_AUDIO = cite("002", "Off-peak is not supported when audio is true.")
# [004]: start-end2video takes no voice, and sound only from the Q3 models.
START_END_NO_VOICE = cite("004", "start-end2video takes no voice_id.")
START_END_AUDIO_Q3_ONLY = cite("004", "Only the q3 models support audio on start-end2video.")


def _sources(**rules: Source) -> MappingProxyType:
    missing = set(MODEL_RULE_NAMES) - set(rules)
    assert not missing, f"every model rule needs a source; missing {missing}"
    return MappingProxyType(rules)


# Each model's name for people, the same on every endpoint (its character, which the
# builders take, can differ: Q1 is "stable camera" from one frame, "smooth transitions"
# between two).
TITLES = MappingProxyType(
    {
        "viduq3-pro": "Vidu Q3 Pro",
        "viduq3-turbo": "Vidu Q3 Turbo",
        "viduq2-pro": "Vidu Q2 Pro",
        "viduq2-turbo": "Vidu Q2 Turbo",
        "viduq2-pro-fast": "Vidu Q2 Pro Fast",
        "viduq2": "Vidu Q2",
        "viduq1": "Vidu Q1",
        "viduq1-classic": "Vidu Q1 Classic",
        "vidu2.0": "Vidu 2.0",
    }
)


def _q3(name: str, endpoint: str, offered: Source, character: str) -> Model:
    img = endpoint == IMG2VIDEO
    return Model(
        name=name,
        endpoint=endpoint,
        family="Q3",
        title=TITLES[name],
        character=character,
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
            resolution=cite("002" if img else "004", SAYS_540_TO_1080),
            movement_amplitude=cite(
                "004", "[004]: no effect on q2 and q3 models. [002] names only q2."
            ),
            audio=cite("002" if img else "004", "Defaults to true on q3 models."),
            voice_id=cite("000", "[000]: 'does not take effect for q3 models'.")
            if img
            else START_END_NO_VOICE,
            bgm=cite(
                "004",
                "'BGM does not available in q3 models'. Stated for start-end2video; "
                "VIDU-API.md applies it to img2video too.",
            ),
            off_peak=NO_OFF_PEAK_WITH_AUDIO
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
    character: str,
    resolutions: tuple[str, ...] = R_540_1080,
    resolution_source: Source | None = None,
) -> Model:
    img = endpoint == IMG2VIDEO
    longest = 10 if img else 8
    return Model(
        name=name,
        endpoint=endpoint,
        family="Q2",
        title=TITLES[name],
        character=character,
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
            or (cite("000 001 002") if img else cite("004", SAYS_540_TO_1080)),
            movement_amplitude=cite(
                "002 004",
                "No effect on q2. [001] lists movement_amplitude for viduq2 models at its "
                "gateway, default auto.",
            )
            if img
            else cite("004", "No effect on q2 and q3 models."),
            audio=cite("002", SAYS_AUDIO_OPTIONAL) if img else START_END_AUDIO_Q3_ONLY,
            voice_id=cite("002 003", SAYS_VOICE_NEEDS_AUDIO) if img else START_END_NO_VOICE,
            bgm=cite(
                "004",
                "'BGM does not take effect when the duration of the q2 model is 9 or 10 seconds'.",
            ),
            off_peak=NO_OFF_PEAK_WITH_AUDIO if img else cite("004"),
        ),
    )


def _q1(name: str, endpoint: str, offered: Source, character: str) -> Model:
    img = endpoint == IMG2VIDEO
    q1_docs = "003" if name == "viduq1" and img else "004"
    borrowed = "" if q1_docs == "003" or not img else SAYS_BORROWED
    return Model(
        name=name,
        endpoint=endpoint,
        family="Q1",
        title=TITLES[name],
        character=character,
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
            movement_amplitude=cite(q1_docs, SAYS_MOVEMENT_CHOICES),
            audio=cite("003", SAYS_AUDIO_OPTIONAL) if img else START_END_AUDIO_Q3_ONLY,
            voice_id=cite("003", SAYS_VOICE_NEEDS_AUDIO) if img else START_END_NO_VOICE,
            bgm=cite("000 003" if img else "004", SAYS_DEFAULT_FALSE),
            off_peak=NO_OFF_PEAK_WITH_AUDIO if img else cite("004"),
        ),
    )


def _vidu20(endpoint: str, offered: Source) -> Model:
    img = endpoint == IMG2VIDEO
    borrowed = f" {SAYS_BORROWED}" if img else ""
    return Model(
        name="vidu2.0",
        endpoint=endpoint,
        family="Vidu 2.0",
        title=TITLES["vidu2.0"],
        character="the older model, quick",
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
            movement_amplitude=cite("004", SAYS_MOVEMENT_CHOICES),
            audio=cite("000 api", "img2video: optional, default false.")
            if img
            else START_END_AUDIO_Q3_ONLY,
            voice_id=cite("000 002", SAYS_VOICE_NEEDS_AUDIO) if img else START_END_NO_VOICE,
            bgm=cite("004", SAYS_DEFAULT_FALSE),
            off_peak=NO_OFF_PEAK_WITH_AUDIO if img else cite("004"),
        ),
    )


# [000] gives 540p, 720p and 1080p for "viduq2" as a series; [004] gives viduq2-pro-fast
# 720p and 1080p only. The narrower reading can only refuse what Vidu might accept,
# never send what it would refuse.
PRO_FAST_RESOLUTIONS = ("720p", "1080p")
PRO_FAST_RESOLUTION_SOURCE = cite(
    "004",
    f"{SAYS_720_OR_1080} [000] gives 540p, 720p and 1080p for the viduq2 series "
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
                "best quality",
            ),
            _q3(
                "viduq3-turbo",
                IMG2VIDEO,
                cite("002", "[000] does not list it."),
                "faster than Q3 Pro",
            ),
            _q2("viduq2-pro", IMG2VIDEO, cite("000 001"), "rich detail"),
            _q2("viduq2-turbo", IMG2VIDEO, cite("000 001"), "fast, good detail"),
            _q2(
                "viduq2-pro-fast",
                IMG2VIDEO,
                cite("000"),
                "lowest price",
                PRO_FAST_RESOLUTIONS,
                PRO_FAST_RESOLUTION_SOURCE,
            ),
            _q2(
                "viduq2",
                IMG2VIDEO,
                cite("002", "A gateway's name for the Q2 series; not in [000]."),
                "KKIAI's name for the Q2 series",
            ),
            _q1("viduq1", IMG2VIDEO, cite("000 002 003"), "clear picture, stable camera"),
            _q1(
                "viduq1-classic",
                IMG2VIDEO,
                cite("000"),
                "richer camera moves",
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
                "best quality",
            ),
            _q3(
                "viduq3-turbo",
                START_END2VIDEO,
                cite("004"),
                "faster than Q3 Pro",
            ),
            _q2("viduq2-pro", START_END2VIDEO, cite("004"), "rich detail"),
            _q2("viduq2-turbo", START_END2VIDEO, cite("004"), "fast, good detail"),
            _q2(
                "viduq2-pro-fast",
                START_END2VIDEO,
                cite("004"),
                "lowest price",
                PRO_FAST_RESOLUTIONS,
                cite("004", SAYS_720_OR_1080),
            ),
            _q1(
                "viduq1",
                START_END2VIDEO,
                cite("004"),
                "clear picture, smooth transitions",
            ),
            _q1(
                "viduq1-classic",
                START_END2VIDEO,
                cite("004"),
                "richer transitions",
            ),
            _vidu20(START_END2VIDEO, cite("004")),
        )
    },
}
# The studio's choice, not Vidu's (the API has no default model): cheap and quick.
DEFAULT_MODEL = {IMG2VIDEO: "viduq2-turbo", START_END2VIDEO: "viduq2-turbo"}


def models_for(endpoint: str) -> list[Model]:
    return list(MODELS[endpoint].values())


def get_model(endpoint: str, name: str) -> Model:
    return MODELS[endpoint][name]
