"""One generation's status, as its page, its share page and the poll show it: its
parameters in the user's words, how long it usually takes, whether it can be cancelled."""

from __future__ import annotations

from studio.models import Generation, Membership, State
from studio.worker import cancelling

# How the detail page names the parameters Vidu was sent.
PARAM_LABELS = {
    "duration": "Duration (s)",
    "resolution": "Resolution",
    "seed": "Seed",
    "movement_amplitude": "Movement",
    "bgm": "Background music",
    "audio": "Audio",
    "voice_id": "Voice",
    "is_rec": "Recommended prompt",
    "off_peak": "Off-peak",
    "watermark": "Watermark",
    "wm_position": "Watermark position",
    "wm_url": "Watermark image",
    "payload": "Payload",
    "meta_data": "Metadata",
}


def parameters(generation: Generation) -> list[tuple[str, str]]:
    """Every parameter the generation was made with, in the user's words."""
    rows = [
        ("Kind", generation.get_endpoint_display()),
        ("Model", model_name(generation)),
    ]
    params = generation.params
    if generation.seed_used is not None and "seed" not in params:
        params = {**params, "seed": 0}
    for key, value in params.items():
        if key == "seed" and not value:
            value = random_seed_text(generation)
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        elif key == "payload" and len(str(value)) > 200:
            value = str(value)[:200] + "…"
        rows.append((PARAM_LABELS.get(key, key), str(value)))
    return rows


def model_name(generation: Generation) -> str:
    """The model for people, with the id the provider knows it by: "Vidu Q2 Turbo
    (viduq2-turbo)"."""
    title = generation.model_title
    return title if title == generation.model else f"{title} ({generation.model})"


def random_seed_text(generation: Generation) -> str:
    """The Seed row of a generation sent without a seed: the one its provider drew."""
    if generation.seed_used is not None:
        return f"{generation.seed_used} (random, as drawn by {generation.provider_label})"
    if generation.provider_task_id:
        return f"random ({generation.provider_label} did not say which)"
    return "random"


def expected_seconds(generation: Generation) -> float | None:
    """How long videos like this one usually take, while one is being made."""
    if not generation.in_flight or generation.state == State.SUCCESS:
        return None
    if generation.params.get("off_peak"):
        return None
    return Generation.objects.typical_seconds(
        generation.team_id, generation.model, generation.provider
    )


def status_context(generation: Generation, membership: Membership) -> dict:
    """What generations/status.html needs, on the page and in the poll alike."""
    can_generate = membership.can_generate
    return {
        "generation": generation,
        "parameters": parameters(generation),
        "expected_seconds": expected_seconds(generation),
        "cancel_refusal": cancelling.cancel_refusal(generation),
        "creation": next(iter(generation.creations.all()), None),
        "membership": membership,
        "can_generate": can_generate,
        "shares": (
            list(
                generation.share_links.filter(revoked_at__isnull=True)
                .select_related("created_by")
                .order_by("-created_at")
            )
            if can_generate
            else []
        ),
    }
