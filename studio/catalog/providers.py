"""The providers: who sells Vidu to the studio, what each offers and its own rules.

The dialect that speaks to each lives in studio/vidu/; this is what the form, the checks
and the estimate need to know, as data with its sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from .endpoints import ENDPOINTS, IMG2VIDEO, START_END2VIDEO
from .models import MODELS, Model, Option
from .sources import Source, cite
from .wording import not_taken

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


def model_label(model: Model, provider_name: str = DEFAULT_PROVIDER) -> str:
    """The model's name and character, with sound only where this provider makes it."""
    sound = model.audio is not None and PROVIDERS[provider_name].takes_parameter(
        model.endpoint, "audio"
    )
    return model.label_with(sound=sound)


def models_offered(endpoint: str, provider_name: str = DEFAULT_PROVIDER) -> list[Model]:
    offered = PROVIDERS[provider_name].offered(endpoint)
    return [m for m in MODELS[endpoint].values() if m.name in offered]
