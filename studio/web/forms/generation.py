"""The generation form: the catalog's fields, their hints, the images and the variant
plan, put together. Field names are Vidu's parameter names; every rule comes from the
catalog, checked again here on the server whatever the page offered."""

from __future__ import annotations

import re
import secrets

from django.conf import settings

from studio import catalog
from studio.models import StagedImage

from .fields import MODEL_OPTIONS, OTHER_PARAMETERS, CatalogFields, raw_options
from .hints import DescribedField, Hints
from .uploads import Uploads
from .variants import VARIANT_FIELDS, Variants

FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


class GenerationForm(Hints, Uploads, Variants, CatalogFields):
    bound_field_class = DescribedField

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
        self._start_uploads(kept)
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
        self._configure_variants()
        # The variants asked for: (what differs, its settled options) per video.
        self.plan = self._plan()
        self.variant_params: list[dict] = []
        self._add_image_fields()
        # Read by each bound field (DescribedField) for the page.
        self.descriptions = self._describe()

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
        self._check_frames()
        payload = (data.get("payload") or "") if self.provider_takes("payload") else ""
        # Measured as it will be sent: wrapped with the studio's id.
        problem = catalog.sent_payload_problem(payload)
        if problem:
            self.add_error("payload", problem)
        self.params = checked.params
        self.variant_params = self._variant_params(raw) if not self.errors else []
        return data

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
