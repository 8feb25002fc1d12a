"""The generation form's images: the file fields, each upload checked as it comes, the
image kept (staged) from an earlier try, and the file to store for each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django import forms
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile

from studio import catalog, staging
from studio.images import uploads as image_tools
from studio.models import StagedImage

IMAGE_LABELS = {"images": "First frame", "start_image": "Start frame", "end_image": "End frame"}
ACCEPT = "image/png,image/jpeg,image/webp"
KEPT_GONE = "The image kept from before is no longer available; upload it again."


class KeptImageGone(Exception):
    """A kept image's file went away after the form was checked (it was used meanwhile)."""

    def __init__(self, field: str):
        super().__init__(KEPT_GONE)
        self.field = field


def staged_field(name: str) -> str:
    """The hidden field that carries the id of the image kept for `name`."""
    return f"{name}_staged"


class Uploads:
    """The images of a generation form, by field name. The form sets `endpoint`,
    `rules`, `team` and `owner`, and calls `_start_uploads` before anything is read."""

    def _start_uploads(self, kept: dict[str, StagedImage | None] | None) -> None:
        # The images kept for this form, by field name, and those read from this request.
        self.kept: dict[str, StagedImage] = {k: v for k, v in (kept or {}).items() if v}
        self.fresh: set[str] = set()
        self.image_infos: dict[str, image_tools.ImageInfo] = {}
        # Where each image is read from when it is kept or stored: this request's upload
        # (Django streams a big one to a temporary file) or the image kept from before.
        # Never read whole into memory.
        self.image_files: dict[str, UploadedFile | StagedImage] = {}
        self.image_names: dict[str, str] = {}

    def _add_image_fields(self) -> None:
        for name in self.rules.image_fields:
            self.fields[name] = forms.FileField(
                required=False,
                label=IMAGE_LABELS[name],
                widget=forms.FileInput(attrs={"accept": ACCEPT}),
            )

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

    def _check_frames(self) -> None:
        """A start and an end frame of shapes close enough to make one video."""
        if self.endpoint != catalog.START_END2VIDEO:
            return
        start, end = self.image_infos.get("start_image"), self.image_infos.get("end_image")
        if start and end:
            problem = catalog.start_end_ratio_problem(
                (start.width, start.height), (end.width, end.height)
            )
            if problem:
                self.add_error("end_image", problem)

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
