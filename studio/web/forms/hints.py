"""What the generation form's page says of each field: its hint, where its rule comes
from, or, when the chosen model or provider does not take it, why not."""

from __future__ import annotations

from collections.abc import Callable

from django import forms

from studio import catalog

from .fields import WATERMARK_FIELDS


class DescribedField(forms.BoundField):
    """A generation form field with what the catalog says of it, for the page.

    `help_text` is the hint, `source` where the rule comes from, and `unavailable` the
    option (with its `note` and `source`) when the chosen model or provider does not
    take the field: the page then shows that note instead of the input.
    """

    def __init__(self, form, field, name):
        super().__init__(form, field, name)
        about = getattr(form, "descriptions", {}).get(name, {})
        self.help_text = about.get("help_text", self.help_text)
        self.source = about.get("source")
        self.unavailable: catalog.Option | None = about.get("unavailable")

    @property
    def note(self) -> str:
        """Why the field does not apply, or nothing when it does."""
        return self.unavailable.note if self.unavailable else ""


class Hints:
    """The descriptions of a generation form's fields, read by each DescribedField."""

    def _describe(self) -> dict[str, dict]:
        """What the page says of each field: its hint, its source, or the option it is
        when the chosen model or provider does not take it. Later parts win."""
        about: dict[str, dict] = {name: {} for name in self.fields}

        def describe(name: str, **values) -> None:
            about.setdefault(name, {}).update(values)

        self._describe_model(describe)
        self._describe_options(describe)
        self._describe_text(describe)
        self._describe_extras(describe)
        self._describe_images(describe)
        return about

    def _not_taken(self, name: str) -> catalog.Option:
        chosen = self.provider
        return catalog.Option(name, False, catalog.not_taken(chosen, name), chosen.source("takes"))

    def _describe_model(self, describe: Callable[..., None]) -> None:
        chosen, model, duration = self.provider, self.model_rules, self.settled["duration"]
        describe(
            "model",
            source=chosen.source("offers"),
            help_text=f"The models {chosen.label} offers for {self.rules.label.lower()}.",
        )
        describe(
            "duration",
            help_text=(
                f"{model.title} makes {model.duration_text()}; default {model.default_duration} s."
            ),
            source=model.source("duration"),
        )
        default = model.resolution_rule(duration).default
        describe(
            "resolution",
            help_text=f"{model.resolution_text(duration)}; default {default}.",
            source=model.source("resolution"),
        )

    def _describe_options(self, describe: Callable[..., None]) -> None:
        for name, option in self.options.items():
            if option.applies:
                describe(name, source=option.source, help_text=option.note)
            else:
                describe(name, source=option.source, unavailable=option)
        describe(
            "is_rec",
            help_text="Vidu writes a prompt and ignores yours.",
            source=catalog.LIMITS["is_rec_credits"].source,
        )
        for name in ("is_rec", "seed", "payload"):
            if not self.provider_takes(name):
                describe(name, unavailable=self._not_taken(name))

    def _describe_text(self, describe: Callable[..., None]) -> None:
        chosen, rules, limits = self.provider, self.rules, catalog.LIMITS
        required = rules.prompt_required or chosen.prompt_required
        describe(
            "prompt",
            help_text=(
                f"{'Required' if required else 'Optional'}"
                f"{f' at {chosen.label}' if chosen.prompt_required else ''}; "
                f"up to {self.model_rules.prompt_max:,} characters."
            ),
            source=chosen.source("prompt") if chosen.prompt_required else rules.source("prompt"),
        )
        describe(
            "seed",
            help_text=limits["seed"].text[0].upper() + limits["seed"].text[1:] + ".",
            source=limits["seed"].source,
        )
        describe(
            "payload",
            help_text=(
                "Sent back with the finished video, untouched, for your own tools; up to "
                f"{catalog.PAYLOAD_MAX_CHARS - catalog.PAYLOAD_RESERVE:,} characters."
            ),
            source=limits["payload_max_chars"].source,
        )

    def _describe_extras(self, describe: Callable[..., None]) -> None:
        """The watermark and the metadata, where the endpoint has them."""
        rules, limits = self.rules, catalog.LIMITS
        if rules.watermark and not self.provider_takes("watermark"):
            for name in WATERMARK_FIELDS:
                describe(name, unavailable=self._not_taken(name))
        elif rules.watermark:
            describe(
                "watermark",
                source=rules.source("watermark"),
                help_text="Vidu's fixed “AI generated” mark, or your image below.",
            )
            describe(
                "wm_position",
                source=limits["wm_positions"].source,
                help_text="Used when the watermark is on.",
            )
            describe(
                "wm_url",
                source=limits["wm_url"].source,
                help_text="Used when the watermark is on; empty for Vidu's own.",
            )
        if rules.meta_data and not self.provider_takes("meta_data"):
            describe("meta_data", unavailable=self._not_taken("meta_data"))
        elif rules.meta_data:
            describe(
                "meta_data",
                source=limits["meta_data_max_chars"].source,
                help_text='A JSON string, passed through; e.g. {"Label": "x"}.',
            )

    def _describe_images(self, describe: Callable[..., None]) -> None:
        limits = catalog.LIMITS
        for name in self.rules.image_fields:
            describe(
                name,
                help_text=(
                    f"{limits['image_formats'].text}, {limits['image_max_bytes'].text}, "
                    f"{limits['image_ratio'].text}."
                ),
                source=limits["image_ratio"].source,
            )
