"""The generation forms. Field names are Vidu's parameter names; every rule comes
from the catalog, checked again here on the server whatever the page offered."""

from __future__ import annotations

from django import forms

from studio import catalog
from studio import images as image_tools

# The studio wraps the user's payload with its generation id (jobs.provider_payload).
PAYLOAD_RESERVE = 100
BOOL_CHOICES = [("", "Model default"), ("true", "On"), ("false", "Off")]


class GenerationForm(forms.Form):
    model = forms.ChoiceField()
    prompt = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    duration = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=16,
        help_text="Seconds; empty for the model's default.",
    )
    resolution = forms.ChoiceField(required=False)
    movement_amplitude = forms.ChoiceField(
        required=False,
        choices=[("", "Model default")] + [(a, a) for a in catalog.MOVEMENT_AMPLITUDES],
    )
    seed = forms.IntegerField(required=False, min_value=0, help_text="Empty or 0: random.")
    audio = forms.ChoiceField(required=False, choices=BOOL_CHOICES)
    voice_id = forms.CharField(required=False, max_length=100)
    bgm = forms.BooleanField(required=False, label="Background music")
    is_rec = forms.BooleanField(required=False, label="Use a recommended prompt (+10 credits)")
    off_peak = forms.BooleanField(required=False, label="Off-peak (cheaper, within 48 hours)")
    watermark = forms.BooleanField(required=False)
    wm_position = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=[
            ("", "Default (bottom right)"),
            (1, "Top left"),
            (2, "Top right"),
            (3, "Bottom right"),
            (4, "Bottom left"),
        ],
        label="Watermark position",
    )
    wm_url = forms.URLField(required=False, label="Watermark image URL", assume_scheme="https")
    payload = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    meta_data = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Metadata (JSON)"
    )

    def __init__(self, endpoint: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.endpoint = endpoint
        self.rules = catalog.endpoint_rules(endpoint)
        models = catalog.models_for(endpoint)
        self.fields["model"].choices = [(m.name, f"{m.name} — {m.label}") for m in models]
        self.fields["model"].initial = catalog.DEFAULT_MODEL[endpoint]
        resolutions = sorted(
            {r for m in models for rule in m.resolutions for r in rule.choices},
            key=lambda r: int(r.rstrip("p")),
        )
        self.fields["resolution"].choices = [("", "Model default")] + [(r, r) for r in resolutions]
        self.fields["prompt"].max_length = self.rules.prompt_max
        self.fields["prompt"].widget.attrs["maxlength"] = self.rules.prompt_max
        if not self.rules.watermark:
            for name in ("watermark", "wm_position", "wm_url"):
                del self.fields[name]
        if not self.rules.meta_data:
            del self.fields["meta_data"]
        accept = "image/png,image/jpeg,image/webp"
        labels = {"images": "First frame", "start_image": "Start frame", "end_image": "End frame"}
        for name in self.rules.image_fields:
            self.fields[name] = forms.FileField(
                label=labels[name], widget=forms.ClearableFileInput(attrs={"accept": accept})
            )
        self.image_infos: dict[str, image_tools.ImageInfo] = {}
        self.image_bytes: dict[str, bytes] = {}
        self.params: dict = {}

    def image_field_names(self) -> tuple[str, ...]:
        return self.rules.image_fields

    def image_bound_fields(self) -> list:
        return [self[name] for name in self.rules.image_fields]

    def _clean_image(self, name: str):
        upload = self.cleaned_data.get(name)
        if upload is None:
            return upload
        data = upload.read()
        try:
            self.image_infos[name] = image_tools.inspect(data)
        except image_tools.ImageProblem as exc:
            raise forms.ValidationError(str(exc)) from None
        self.image_bytes[name] = data
        return upload

    def clean_images(self):
        return self._clean_image("images")

    def clean_start_image(self):
        return self._clean_image("start_image")

    def clean_end_image(self):
        return self._clean_image("end_image")

    def clean(self):
        data = super().clean()
        raw = {k: v for k, v in self.data.items() if k in catalog_fields()}
        # Booleans arrive as checkbox values; the catalog takes Vidu's true/false.
        for name in ("bgm", "is_rec", "off_peak", "watermark"):
            if name in self.fields:
                raw[name] = bool(data.get(name))
        checked = catalog.check_parameters(self.endpoint, raw)
        for problem in checked.problems:
            field = problem.field if problem.field in self.fields else None
            if field is None or field not in self.errors:
                self.add_error(field, problem.message)
        if self.endpoint == catalog.START_END2VIDEO:
            start, end = self.image_infos.get("start_image"), self.image_infos.get("end_image")
            if start and end:
                problem = catalog.start_end_ratio_problem(
                    (start.width, start.height), (end.width, end.height)
                )
                if problem:
                    self.add_error("end_image", problem)
        payload = data.get("payload") or ""
        if len(payload) > catalog.PAYLOAD_MAX_CHARS - PAYLOAD_RESERVE:
            self.add_error(
                "payload",
                f"The payload may be at most {catalog.PAYLOAD_MAX_CHARS - PAYLOAD_RESERVE:,} "
                "characters (the studio adds its own id to it).",
            )
        self.params = checked.params
        return data


def catalog_fields() -> set[str]:
    return {
        "model",
        "prompt",
        "duration",
        "resolution",
        "movement_amplitude",
        "seed",
        "bgm",
        "audio",
        "voice_id",
        "is_rec",
        "off_peak",
        "watermark",
        "wm_position",
        "wm_url",
        "payload",
        "meta_data",
    }
