"""The generation forms. Field names are Vidu's parameter names; every rule comes
from the catalog, checked again here on the server whatever the page offered."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from django import forms
from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile

from studio import catalog, staging
from studio import images as image_tools
from studio.models import Batch, StagedImage

# The options that depend on the model: the region of the form that htmx swaps.
MODEL_OPTIONS = catalog.MODEL_RULE_NAMES + ("is_rec",)
# The other Vidu parameters the form takes.
OTHER_PARAMETERS = ("prompt", "seed", "watermark", "wm_position", "wm_url", "payload", "meta_data")
WATERMARK_FIELDS = ("watermark", "wm_position", "wm_url")
IMAGE_LABELS = {"images": "First frame", "start_image": "Start frame", "end_image": "End frame"}
ACCEPT = "image/png,image/jpeg,image/webp"
KEPT_GONE = "The image kept from before is no longer available; upload it again."
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


class KeptImageGone(Exception):
    """A kept image's file went away after the form was checked (it was used meanwhile)."""

    def __init__(self, field: str):
        super().__init__(KEPT_GONE)
        self.field = field


FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


def staged_field(name: str) -> str:
    """The hidden field that carries the id of the image kept for `name`."""
    return f"{name}_staged"


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


class GenerationForm(forms.Form):
    bound_field_class = DescribedField

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

    def __init__(
        self,
        endpoint: str,
        data=None,
        files=None,
        *,
        initial: dict | None = None,
        team=None,
        owner=None,
        kept: dict[str, StagedImage | None] | None = None,
        provider: str | None = None,
        token: str | None = None,
    ):
        super().__init__(data, files, initial=initial)
        # One token per render of the form, stored on the generation it makes: a second
        # submit of the same render finds that generation instead of paying again.
        posted = str(self.data.get("form_token") or "") if self.is_bound else (token or "")
        self.token = posted if FORM_TOKEN.fullmatch(posted) else None
        self.render_token = self.token or secrets.token_urlsafe(24)
        self.endpoint = endpoint
        self.provider = catalog.provider(provider or settings.VIDU_PROVIDER)
        self.rules = catalog.endpoint_rules(endpoint)
        self.team, self.owner = team, owner
        # The images kept for this form, by field name, and those read from this request.
        self.kept: dict[str, StagedImage] = {k: v for k, v in (kept or {}).items() if v}
        self.fresh: set[str] = set()
        self.image_infos: dict[str, image_tools.ImageInfo] = {}
        # Where each image is read from when it is kept or stored: this request's upload
        # (Django streams a big one to a temporary file) or the image kept from before.
        # Never read whole into memory.
        self.image_files: dict[str, UploadedFile | StagedImage] = {}
        self.image_names: dict[str, str] = {}
        self.params: dict = {}

        if self.is_bound:
            self.raw = raw_options(endpoint, self.data)
        else:
            self.raw = {name: (initial or {}).get(name) for name in MODEL_OPTIONS}
        self.settled = catalog.settle(endpoint, self.raw, self.provider.name)
        self.model_rules = catalog.get_model(endpoint, self.settled["model"])
        self.options = catalog.options_for(
            self.model_rules, self.settled["duration"], self.settled["audio"], self.provider.name
        )
        if not self.is_bound:
            self.initial = {**(initial or {}), **self.settled}
        self._configure_fields()
        # The variants asked for: (what differs, its settled options) per video.
        self.plan = self._plan()
        self.variant_params: list[dict] = []

        for name in self.rules.image_fields:
            self.fields[name] = forms.FileField(
                required=False,
                label=IMAGE_LABELS[name],
                widget=forms.FileInput(attrs={"accept": ACCEPT}),
            )
        # Read by each bound field (DescribedField) for the page.
        self.descriptions = self._describe()

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
        # Every model offered: the page leaves out the one chosen above, and a variant on
        # the chosen model itself is dropped, so changing the model never makes a mistake.
        f["extra_models"].choices = [
            (m.name, catalog.model_label(m, self.provider.name)) for m in models
        ]
        if not rules.watermark:
            for name in WATERMARK_FIELDS:
                del f[name]
        if not rules.meta_data:
            del f["meta_data"]

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

    # images

    def image_field_names(self) -> tuple[str, ...]:
        return self.rules.image_fields

    def image_slots(self) -> list[tuple]:
        """(bound file field, the image kept for it or None, its hidden field's name)."""
        return [
            (self[name], self.kept.get(name), staged_field(name))
            for name in self.rules.image_fields
        ]

    def _clean_image(self, name: str):
        upload = self.cleaned_data.get(name)
        staged_id = str(self.data.get(staged_field(name)) or "").strip()
        kept = None
        if staged_id and self.team is not None:
            kept = staging.find(self.team, self.owner, staged_id)
        if kept is not None:
            self.kept[name] = kept
        if upload:
            problem = image_tools.size_problem(upload.size)
            if problem:
                raise forms.ValidationError(problem)
            try:
                info = image_tools.inspect(upload)
            except image_tools.ImageProblem as exc:
                raise forms.ValidationError(str(exc)) from None
            self.image_files[name], self.image_infos[name] = upload, info
            self.image_names[name] = upload.name or ""
            self.fresh.add(name)
            return upload
        if kept is not None:
            try:
                staging.open_file(kept).close()  # still there; read when it is stored
            except (FileNotFoundError, OSError):
                self.kept.pop(name)
                raise forms.ValidationError(KEPT_GONE) from None
            self.image_files[name] = kept
            self.image_infos[name] = staging.info_of(kept)
            self.image_names[name] = kept.original_name
            return None
        if staged_id:
            raise forms.ValidationError(KEPT_GONE)
        raise forms.ValidationError(f"Upload the {IMAGE_LABELS[name].lower()}.")

    @contextmanager
    def image_file(self, name: str) -> Iterator[UploadedFile | File]:
        """The file to store for `name`, to be read in pieces while the block runs.

        Raises KeptImageGone when the image kept from before has gone since the check.
        """
        source = self.image_files[name]
        if not isinstance(source, StagedImage):
            yield source  # the upload: Django closes it with the request
            return
        try:
            fh = staging.open_file(source)
        except (FileNotFoundError, OSError):
            self.kept.pop(name, None)
            raise KeptImageGone(name) from None
        with fh:
            yield fh

    def clean_images(self):
        return self._clean_image("images")

    def clean_start_image(self):
        return self._clean_image("start_image")

    def clean_end_image(self):
        return self._clean_image("end_image")

    def keep_uploads(self) -> None:
        """Stage every good image this request uploaded, so the next try needs none."""
        if self.team is None:
            return
        for name in sorted(self.fresh):
            staged = staging.keep(
                self.team,
                self.owner,
                self.image_files[name],
                self.image_infos[name],
                self.image_names[name],
                in_use=self.kept.values(),  # never discarded to keep within the cap
            )
            replaced = self.kept.get(name)
            if replaced is not None and replaced not in self.kept_elsewhere(name):
                staging.discard([replaced])
            self.kept[name] = staged
        self.fresh.clear()

    def kept_elsewhere(self, name: str) -> list[StagedImage]:
        return [image for other, image in self.kept.items() if other != name]

    # the whole form

    @property
    def model_changed(self) -> bool:
        """The model was changed on a page whose options were for another one (no htmx)."""
        shown = self.data.get("shown_model") if self.is_bound else None
        return bool(shown) and shown != self.data.get("model")

    def clean(self):
        data = super().clean()
        raw = dict(self.raw)
        for name in ("model", "duration", "resolution", "movement_amplitude", "voice_id"):
            if name in data:
                raw[name] = data[name]
        for name in OTHER_PARAMETERS:
            # Posted to an endpoint without the field: the catalog says why it is refused.
            raw[name] = data.get(name) if name in self.fields else self.data.get(name)
        for name in catalog.FLAGS:
            # As sent, not as Django's checkbox reads it (anything but "false" is ticked):
            # the checks refuse what is neither yes nor no.
            if name != "audio":
                raw[name] = self.data.get(name)
        checked = catalog.check_parameters(self.endpoint, raw, self.provider.name)
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
        payload = (data.get("payload") or "") if self.provider_takes("payload") else ""
        # Measured as it will be sent: wrapped with the studio's id.
        problem = catalog.sent_payload_problem(payload)
        if problem:
            self.add_error("payload", problem)
        self.params = checked.params
        self.variant_params = self._variant_params(raw) if not self.errors else []
        return data

    # variants

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

    def carried_over(self) -> dict:
        """Everything the user entered, as initial values for a fresh form."""
        values = {name: self._asked(name) for name in VARIANT_FIELDS}
        values.update(
            {
                name: self.data.get(name)
                for name in OTHER_PARAMETERS
                if name in self.fields and name != "watermark"
            }
        )
        if "watermark" in self.fields:
            values["watermark"] = catalog.truthy(self.data.get("watermark"))
        return {**values, **self.raw}

    def provider_takes(self, name: str) -> bool:
        return self.provider.takes_parameter(self.endpoint, name)

    def estimate(self) -> catalog.Estimate:
        """The estimate for every video asked for, added up."""
        each = [catalog.estimate(settled, self.provider.name) for _, settled in self.plan]
        if any(e.credits is None for e in each):
            return each[0]
        basis = each[0].basis
        if self.mode == Batch.MODELS and len(each) > 1:
            basis = "each model's own price for its own options, added up"
        elif len(each) > 1:
            basis = f"{len(each)} × ({basis})"
        return catalog.Estimate(sum(e.credits for e in each), basis)
