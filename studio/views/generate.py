"""The two generation forms: checked against the catalog, stored, then queued."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from studio import catalog, jobs
from studio.access import current_membership
from studio.forms import GenerationForm
from studio.models import Generation, InputImage, State


@login_required
def generate(request: HttpRequest, endpoint: str) -> HttpResponse:
    if endpoint not in catalog.ENDPOINTS:
        raise Http404
    membership = current_membership(request)
    if not membership.can_generate:
        raise PermissionDenied("Viewers can see the history but not make videos.")
    status = 200
    if request.method == "POST":
        form = GenerationForm(endpoint, request.POST, request.FILES)
        if form.is_valid():
            generation = _create(form, membership, request.user)
            url = reverse("generation", args=[generation.pk])
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
        status = 422
    else:
        form = GenerationForm(endpoint)
    return render(
        request,
        "generations/new.html",
        {
            "form": form,
            "endpoint": endpoint,
            "endpoint_label": catalog.ENDPOINT_LABELS[endpoint],
            "models": catalog.models_for(endpoint),
            "team": membership.team,
        },
        status=status,
    )


def _create(form: GenerationForm, membership, user) -> Generation:
    params = {k: v for k, v in form.params.items() if k not in ("model", "prompt")}
    with transaction.atomic():
        generation = Generation.objects.create(
            team=membership.team,
            author=user,
            kind=form.endpoint,
            model=form.params["model"],
            prompt=form.params.get("prompt", ""),
            params=params,
            estimated_credits=catalog.estimate_credits(
                form.endpoint,
                form.params["model"],
                params["duration"],
                params["resolution"],
                off_peak=params.get("off_peak", False),
                is_rec=params.get("is_rec", False),
            ),
        )
        for position, name in enumerate(form.image_field_names()):
            info = form.image_infos[name]
            image = InputImage(
                generation=generation,
                position=position,
                format=info.format,
                width=info.width,
                height=info.height,
                size=info.size,
                original_name=form.cleaned_data[name].name[:255],
            )
            image.file.save(
                f"{position}.{info.format}", ContentFile(form.image_bytes[name]), save=False
            )
            image.save()
        generation.events.create(state=State.QUEUED, source="form")
        jobs.enqueue_submit(generation)
    return generation
