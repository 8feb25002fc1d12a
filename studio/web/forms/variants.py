"""The variant plan: one video, or up to four side by side that differ by seed or by
model, each with its settled options, its parameters and its share of the estimate."""

from __future__ import annotations

import secrets

from django import forms

from studio import budgets, catalog
from studio.models import Batch

# Variants asked for at once: one video (no batch) up to four side by side.
MAX_VARIANTS = 4
VARIANT_FIELDS = ("variants", "variant_mode", "extra_models")

# What an extra model may settle differently from the request, in the user's words.
PLAN_KEYS = (
    ("duration", "duration"),
    ("resolution", "resolution"),
    ("audio", "audio"),
    ("bgm", "background music"),
    ("movement_amplitude", "movement"),
    ("off_peak", "off-peak"),
)


def _shown(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return "none" if value is None else str(value)


class Variants(forms.Form):
    """The variant fields and the plan they make. The form sets `endpoint`, `provider`,
    `raw`, `settled`, `model_rules` and `params` (once checked)."""

    variants = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=1,
        choices=[(1, "1 video")] + [(n, f"{n} variants") for n in range(2, MAX_VARIANTS + 1)],
        label="How many",
    )
    variant_mode = forms.ChoiceField(
        required=False,
        choices=Batch.MODES,
        initial=Batch.SEEDS,
        widget=forms.RadioSelect,
        label="Variants differ by",
    )
    extra_models = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Also make it with"
    )

    def _configure_variants(self) -> None:
        # Every model offered: the page leaves out the one chosen above, and a variant on
        # the chosen model itself is dropped, so changing the model never makes a mistake.
        self.fields["extra_models"].choices = [
            (m.name, catalog.model_label(m, self.provider.name))
            for m in catalog.models_offered(self.endpoint, self.provider.name)
        ]

    def _asked(self, name: str):
        """A variant field as sent, or as prefilled."""
        if not self.is_bound:
            return (self.initial or {}).get(name)
        if name == "extra_models":
            return self.data.getlist(name) if hasattr(self.data, "getlist") else []
        return self.data.get(name)

    def _plan(self) -> list[tuple[str, dict]]:
        """(what tells it apart, its settled options) for each video asked for: one when
        there is no batch. On other models each takes that model's own options."""
        self.mode = Batch.MODELS if self._asked("variant_mode") == Batch.MODELS else Batch.SEEDS
        if self.mode == Batch.MODELS:
            offered = {name for name, _ in self.fields["extra_models"].choices}
            chosen = self._asked("extra_models") or []
            extras = [
                m for m in dict.fromkeys(chosen) if m in offered and m != self.model_rules.name
            ]
            plan = [(self.model_rules.title, self.settled)]
            for name in extras[: MAX_VARIANTS - 1]:
                raw = {**self.raw, "model": name}
                settled = catalog.settle(self.endpoint, raw, self.provider.name)
                plan.append((catalog.get_model(self.endpoint, name).title, settled))
            return plan
        asked = str(self._asked("variants") or "1")
        count = min(max(int(asked), 1), MAX_VARIANTS) if asked.isdigit() else 1
        return [(f"Seed {n}", self.settled) for n in range(1, count + 1)]

    @property
    def videos(self) -> int:
        return len(self.plan)

    def plan_notes(self) -> list[tuple[str, str, str]]:
        """For each extra model: its title, what it will make, and what it could not take
        as asked (set to its own default instead)."""
        notes = []
        first = self.settled
        for title, settled in self.plan[1:] if self.mode == Batch.MODELS else []:
            made = f"{settled['duration']} s · {settled['resolution']}"
            if settled["audio"]:
                made += " · audio"
            changed = [
                f"{label} {_shown(settled[key])} instead of {_shown(first[key])}"
                for key, label in PLAN_KEYS
                if settled[key] != first[key] and first[key] is not None
            ]
            notes.append((title, made, "; ".join(changed)))
        return notes

    def _variant_params(self, raw: dict) -> list[dict]:
        """The parameters each video of the batch is sent with; errors beside the
        variant fields where a variant cannot be made."""
        if self.mode == Batch.MODELS:
            if self.videos == 1:
                self.add_error(
                    "extra_models",
                    "Choose at least one more model, or ask for variants by seed.",
                )
                return []
            made = [self.params]
            for title, settled in self.plan[1:]:
                checked = catalog.check_parameters(
                    self.endpoint, {**raw, **settled}, self.provider.name
                )
                for problem in checked.problems:
                    self.add_error("extra_models", f"{title}: {problem.message}")
                made.append(checked.params)
            return made
        if self.videos == 1:
            return [self.params]
        if not self.provider_takes("seed"):
            self.add_error(
                "variants",
                f"{self.provider.label} takes no seed, so variants by seed are not offered "
                "here: ask for one video, or variants on other models.",
            )
            return []
        seeds = [self.params["seed"]] if self.params.get("seed") else []
        while len(seeds) < self.videos:
            seed = secrets.randbelow(catalog.SEED_MAX) + 1
            if seed not in seeds:
                seeds.append(seed)
        return [{**self.params, "seed": seed} for seed in seeds]

    def estimate(self) -> catalog.Estimate:
        """The estimate for every video asked for, added up."""
        prices = budgets.Prices.of(self.provider.name)
        each = [budgets.reserve(settled, self.provider.name, prices) for _, settled in self.plan]
        if any(e.credits is None for e in each):
            return each[0]
        basis = each[0].basis
        if self.mode == Batch.MODELS and len(each) > 1:
            basis = "each model's own price for its own options, added up"
        elif len(each) > 1:
            basis = f"{len(each)} × ({basis})"
        return catalog.Estimate(sum(e.credits for e in each), basis)
