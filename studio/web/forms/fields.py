"""The generation form's fields from the catalog: Vidu's parameter names, with the
choices and limits of the chosen model and provider, and the model options as a form or
an htmx request sent them."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms

from studio import catalog

# The options that depend on the model: the region of the form that htmx swaps.
MODEL_OPTIONS = catalog.MODEL_RULE_NAMES + ("is_rec",)
# The other Vidu parameters the form takes.
OTHER_PARAMETERS = ("prompt", "seed", "watermark", "wm_position", "wm_url", "payload", "meta_data")
WATERMARK_FIELDS = ("watermark", "wm_position", "wm_url")


def raw_options(endpoint: str, values: Mapping) -> dict:
    """The model options a form or an htmx request sent, as Vidu parameters.

    A checkbox sends nothing when unticked. `shown_model` says which model the options
    on the page were for: where it is the model sent and that model offers audio, no
    `audio` means off. Where the model changed (or the sender never saw the options),
    no `audio` means the new model's default.
    """
    raw = {name: values.get(name) for name in MODEL_OPTIONS}
    shown = values.get("shown_model")
    model = catalog.MODELS[endpoint].get(str(raw["model"] or ""))
    if shown and model is not None:
        if shown == model.name and model.audio is not None:
            ticked = catalog.flag(raw["audio"])
            if ticked is not None:  # anything else is left for the checks to refuse
                raw["audio"] = "true" if ticked else "false"
        elif shown != model.name:
            raw["audio"] = None
    return raw


class CatalogFields(forms.Form):
    """The Vidu parameters as fields. The form sets `endpoint`, `provider`, `rules`,
    `model_rules` and `settled` before `_configure_fields`."""

    model = forms.CharField(
        widget=forms.Select, error_messages={"required": "Choose a model."}, label="Model"
    )
    prompt = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    duration = forms.IntegerField(required=False, widget=forms.Select, label="Duration")
    resolution = forms.CharField(required=False, widget=forms.Select, label="Resolution")
    movement_amplitude = forms.CharField(
        required=False,
        widget=forms.Select(choices=[(a, a) for a in catalog.MOVEMENT_AMPLITUDES]),
        label="Movement amplitude",
    )
    audio = forms.BooleanField(required=False, label="Audio")
    voice_id = forms.CharField(required=False, max_length=100, label="Voice")
    bgm = forms.BooleanField(required=False, label="Background music")
    is_rec = forms.BooleanField(
        required=False,
        label=f"Let Vidu write the prompt (+{catalog.IS_REC_EXTRA_CREDITS} credits)",
    )
    off_peak = forms.BooleanField(
        required=False, label=f"Off-peak (cheaper, within {catalog.OFF_PEAK_HOURS} hours)"
    )
    seed = forms.IntegerField(
        required=False, min_value=catalog.SEED_MIN, max_value=catalog.SEED_MAX, label="Seed"
    )
    watermark = forms.BooleanField(required=False, label="Watermark")
    wm_position = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", f"Default ({catalog.WM_POSITION_NAMES[catalog.WM_POSITION_DEFAULT]})")]
        + [(n, name.capitalize()) for n, name in catalog.WM_POSITION_NAMES.items()],
        label="Watermark position",
    )
    wm_url = forms.URLField(required=False, label="Watermark image URL", assume_scheme="https")
    payload = forms.CharField(
        required=False, strip=False, widget=forms.Textarea(attrs={"rows": 2}), label="Payload"
    )
    meta_data = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Metadata (JSON)"
    )

    def _configure_fields(self) -> None:
        """The choices and limits of the chosen model and provider; the fields the
        endpoint has not are removed."""
        model, duration = self.model_rules, self.settled["duration"]
        f, rules = self.fields, self.rules
        models = catalog.models_offered(self.endpoint, self.provider.name)
        f["model"].widget.choices = [
            (m.name, catalog.model_label(m, self.provider.name)) for m in models
        ]
        f["duration"].widget.choices = [(d, f"{d} s") for d in model.durations]
        f["resolution"].widget.choices = [(r, r) for r in model.resolution_rule(duration).choices]
        f["prompt"].required = rules.prompt_required or self.provider.prompt_required
        # No `maxlength`: a longer text pasted is kept whole, counted as it is typed
        # (static/js/form.js) and refused by the checks beside the field, never cut.
        f["prompt"].widget.attrs.update(
            {
                "data-count-max": model.prompt_max,
                "aria-describedby": "id_prompt_helptext prompt-count",
            }
        )
        if not rules.watermark:
            for name in WATERMARK_FIELDS:
                del f[name]
        if not rules.meta_data:
            del f["meta_data"]

    def provider_takes(self, name: str) -> bool:
        return self.provider.takes_parameter(self.endpoint, name)
