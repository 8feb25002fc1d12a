"""The two endpoints and what each request carries, as data with its sources."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from .sources import Source, cite

IMG2VIDEO = "img2video"
START_END2VIDEO = "start-end2video"
ENDPOINTS = (IMG2VIDEO, START_END2VIDEO)
ENDPOINT_LABELS = {IMG2VIDEO: "Image to video", START_END2VIDEO: "Start and end frame to video"}


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


def endpoint_rules(endpoint: str) -> Endpoint:
    return ENDPOINT_RULES[endpoint]
