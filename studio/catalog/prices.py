"""What a video costs, estimated: the price tables and the estimate drawn from them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .limits import IS_REC_EXTRA_CREDITS
from .models import DEFAULT_MODEL, MODELS
from .providers import DEFAULT_PROVIDER, PROVIDERS
from .sources import cite

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


@dataclass(frozen=True)
class Estimate:
    credits: int | None  # None where the provider does not charge in credits
    basis: str  # how the figure was reached, in words


def estimate(params: Mapping, provider_name: str = DEFAULT_PROVIDER) -> Estimate:
    """Our estimate of what a task costs; the provider's own figure is the truth.

    `params`: the checked parameters (model, duration, resolution, and off_peak and
    is_rec where asked for). Only in credits, and only for a provider that charges in
    credits: a price in money or in nothing is never invented from the credit table.
    """
    chosen = PROVIDERS[provider_name]
    if chosen.cost_unit != "credits":
        return Estimate(
            None, chosen.cost_text() + " The studio has no price table for it, so no estimate."
        )
    model, duration, resolution = params["model"], params["duration"], params["resolution"]
    per_video = PRICE_PER_VIDEO.get((model, duration, resolution))
    if per_video is not None:
        credits = float(per_video)
        article = "an" if str(duration).startswith("8") or duration in (11, 18) else "a"
        basis = f"{per_video} for {article} {duration}-second {resolution} video"
    else:
        rate = PRICE_PER_SECOND.get(model, {}).get(resolution, UNKNOWN_PRICE_PER_SECOND)
        credits = float(rate * duration)
        basis = f"{rate:g} a second at {resolution} × {duration} s"
    if params.get("off_peak"):
        credits = max(1.0, credits * OFF_PEAK_FACTOR)
        basis += ", off-peak about half"
    total = int(round(credits))
    if params.get("is_rec"):
        total += IS_REC_EXTRA_CREDITS
        basis += f", +{IS_REC_EXTRA_CREDITS} for a recommended prompt"
    if chosen.name != DEFAULT_PROVIDER:
        basis += f"; at Vidu's own prices, which {chosen.label}'s may not match"
    return Estimate(total, basis)


def estimate_credits(params: Mapping) -> int:
    """The estimate at Vidu's own prices, in credits."""
    return estimate(params).credits


def default_model(endpoint: str, provider_name: str = DEFAULT_PROVIDER) -> str:
    """The studio's default if the provider offers it, else its cheapest offered model."""
    offered = PROVIDERS[provider_name].offered(endpoint)
    if DEFAULT_MODEL[endpoint] in offered:
        return DEFAULT_MODEL[endpoint]

    def cost(name: str) -> int:
        model = MODELS[endpoint][name]
        duration = model.default_duration
        resolution = model.resolution_rule(duration).default
        return estimate_credits({"model": name, "duration": duration, "resolution": resolution})

    return min(offered, key=cost)
