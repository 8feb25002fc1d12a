"""Building on a finished video: its last frame as the first (or start) frame of a new
one, and its settings read beside the form, copied in with one press.

The last frame is staged for the person, like an image kept after a mistake, and the
form takes it from `?staged_first=<id>`. The settings are a side panel the form page
loads with htmx; without JavaScript they are a page of their own, whose "Copy into the
form" is the "generate again" link.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from studio import catalog, staging
from studio.access import current_membership, generation_for, generation_to_change
from studio.models import Generation, State
from studio.web.views.status import parameters

# Where a last frame goes: the form, and what the page says about it.
USES = {
    "first": (catalog.IMG2VIDEO, "first frame"),
    "start": (catalog.START_END2VIDEO, "start frame"),
}
RECENT = 12
# The form's fields a video's settings fill, besides the model and the prompt: every
# optional parameter a create call may carry.
COPIED = catalog.providers.OPTIONAL_PARAMETERS


def finished(team):
    """The team's finished videos with a stored copy, newest first."""
    return (
        Generation.objects.filter(team=team, state=State.SUCCESS, hidden_at__isnull=True)
        .filter(creations__isnull=False)
        .distinct()
        .order_by("-created_at", "-pk")
    )


@require_POST
@login_required
def last_frame(request: HttpRequest, generation_id) -> HttpResponse:
    """Stage the video's last frame and open the form with it kept in the chosen slot."""
    generation, membership = generation_to_change(request, generation_id)
    use = request.POST.get("as", "first")
    if use not in USES:
        use = "first"
    endpoint, slot = USES[use]
    creation = generation.creations.first()
    if creation is None or not creation.video:
        raise Http404("This video has no stored copy.")
    try:
        staged = staging.from_last_frame(creation, membership.team, request.user)
    except staging.NoLastFrame:
        messages.error(request, "The last frame of this video could not be read.")
        return redirect("generation", generation.pk)
    messages.info(request, f"The last frame of the earlier video is the {slot} here.")
    return redirect(reverse("generate", args=[endpoint]) + f"?staged_first={staged.pk}")


def settings_of(generation: Generation) -> dict:
    """What "Copy into the form" sets, by field name."""
    params = generation.params
    values = {name: params[name] for name in COPIED if name in params}
    values.update(model=generation.model, prompt=generation.prompt)
    return values


@require_GET
@login_required
def settings(request: HttpRequest, generation_id) -> HttpResponse:
    """One video's prompt and parameters: the side panel's content for htmx, a page of
    its own otherwise."""
    generation, membership = generation_for(request, generation_id)
    context = {
        "generation": generation,
        "parameters": parameters(generation),
        "settings_json": json.dumps(settings_of(generation)),
        "again_url": reverse("generate", args=[generation.endpoint]) + f"?from={generation.pk}",
        "membership": membership,
        "team": membership.team,
    }
    template = "generations/settings.html"
    if request.htmx:
        template += "#panel"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@login_required
def recent(request: HttpRequest) -> HttpResponse:
    """The team's recent finished videos to read settings from, of the form's kind."""
    membership = current_membership(request)
    endpoint = request.GET.get("endpoint", "")
    videos = finished(membership.team).select_related("author")
    if endpoint in catalog.ENDPOINTS:
        videos = videos.filter(endpoint=endpoint)
    template = "generations/settings.html"
    if request.htmx:
        template += "#list"
    response = render(
        request,
        template,
        {
            "videos": list(videos[:RECENT]),
            "endpoint": endpoint,
            "membership": membership,
            "team": membership.team,
        },
    )
    patch_vary_headers(response, ["HX-Request"])
    return response
