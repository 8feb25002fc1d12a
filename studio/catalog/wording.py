"""How the catalog says things: lists, ratios and sizes written from the numbers."""

from __future__ import annotations

from math import gcd

MB = 1000 * 1000  # "50 MB" and "20 MB" read as the smaller, decimal megabytes: always safe


def or_list(items) -> str:
    """a, b or c."""
    words = [str(item) for item in items]
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + f" or {words[-1]}"


def sentence(text: str) -> str:
    """A phrase as a sentence: capitalised, with a full stop."""
    return text[0].upper() + text[1:] + "."


def megabytes(size: int) -> str:
    return f"{size // MB} MB"


def ratio_bound(value: float) -> str:
    """4.0 -> 4:1, 0.25 -> 1:4."""
    return f"{value:g}:1" if value >= 1 else f"1:{1 / value:g}"


def ratio_span(low: float, high: float) -> str:
    """(0.25, 4.0) -> 1:4 and 4:1."""
    return f"{ratio_bound(low)} and {ratio_bound(high)}"


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


# Shapes people know, from wide to square: the examples of "a similar shape".
COMMON_SHAPES = ((21, 9), (2, 1), (16, 9), (3, 2), (4, 3), (5, 4), (1, 1))


def similar_shapes(high: float) -> str:
    """How close two shapes must be, as shapes: "16:9 goes with 3:2, not with 4:3" where
    one may be at most `high` times as wide (for its height) as the other."""
    base = (16, 9)
    relations = [(base[0] * h / (base[1] * w), (w, h)) for w, h in COMMON_SHAPES]
    close = [shape for relation, shape in relations if 1 < relation <= high]
    far = [shape for relation, shape in relations if relation > high]
    if not close or not far:
        return f"one at most {high - 1:.0%} wider than the other"
    return f"{ratio_text(*base)} goes with {ratio_text(*close[-1])}, not with {ratio_text(*far[0])}"


# How the user's words name each optional Vidu parameter.
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


def not_taken(chosen, name: str) -> str:
    """Why `chosen` (a Provider) refuses the parameter `name`."""
    return f"{chosen.label} does not take {PARAMETER_WORDS[name]}."
