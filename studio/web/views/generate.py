"""The two generation forms: checked against the catalog, stored, then queued.

One view per form. A plain GET shows it (prefilled from `?from=<generation>` for
"generate again"); an htmx GET aimed at `#options` answers only the options that depend
on the model, and the estimate; a POST checks everything, keeps the uploaded images
whatever else is wrong, and stores and queues the generation when all is well. A POST
from someone whose role no longer allows generating makes nothing and answers the form
again (403), with what they typed and uploaded kept and who can change their role.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods

from studio import budgets, catalog, staging
from studio.access import current_membership, generation_for
from studio.images import decoding
from studio.models import Batch, Generation, InputImage, Membership, State
from studio.vidu import registry
from studio.web.forms.fields import MODEL_OPTIONS, OTHER_PARAMETERS, raw_options
from studio.web.forms.generation import GenerationForm
from studio.web.forms.uploads import KeptImageGone
from studio.web.forms.variants import VARIANT_FIELDS
from studio.worker import queue

# Fields besides the model options that a GET may prefill (`?prompt=...`).
PREFILLED = OTHER_PARAMETERS
# Stored generation parameters that prefill "generate again" (the prompt and the model
# have fields of their own on Generation).
REUSED = tuple(name for name in MODEL_OPTIONS + OTHER_PARAMETERS if name not in ("model", "prompt"))


NO_TOKEN = (
    "This form was not sent from the studio's page, or from an old copy of it: check it "
    "and press Generate video again."
)


@require_http_methods(["GET", "POST"])
@login_required
def generate(request: HttpRequest, endpoint: str) -> HttpResponse:
    if endpoint not in catalog.ENDPOINTS:
        raise Http404
    membership = current_membership(request)
    refused = ""
    if not membership.can_generate and request.method != "POST":
        raise PermissionDenied("Viewers can see the history but not make videos.")
    if not membership.can_generate:
        # Their role changed while the form was open: the form again, with what they
        # typed (and their images) kept, and why nothing was made.
        answer, refused = _refused(request, endpoint, membership), _refusal(membership)
    elif request.method == "POST":
        answer = _post(request, endpoint, membership)
    else:
        answer = _get(request, endpoint, membership)
    if isinstance(answer, HttpResponse):
        return answer
    form, notice, status = answer
    context = _context(form, endpoint)
    context.update(team=membership.team, membership=membership, notice=notice, refused=refused)
    context["recent_prompts"] = recent_prompts(membership.team, request.user)
    response = render(request, "generations/new.html", context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


# What a GET or a POST answers: a response, or the form to show with a notice and a status.
Shown = HttpResponse | tuple[GenerationForm, str, int]


def _get(request: HttpRequest, endpoint: str, membership) -> Shown:
    """The form, empty, prefilled from the query or from an earlier generation; only its
    options region when htmx asks for it."""
    notice = ""
    if request.GET.get("from"):
        prefill = _from_generation(request, endpoint)
        if isinstance(prefill, HttpResponse):
            return prefill
        initial, kept, notice = prefill
    else:
        initial = {**raw_options(endpoint, request.GET)}
        initial.update({k: request.GET[k] for k in PREFILLED if k in request.GET})
        initial.update({k: request.GET[k] for k in VARIANT_FIELDS[:2] if k in request.GET})
        initial["extra_models"] = request.GET.getlist("extra_models")
        kept = _staged_first(request, endpoint, membership)
    form = GenerationForm(
        endpoint, initial=initial, kept=kept, team=membership.team, owner=request.user
    )
    if request.htmx and request.htmx.target == "options":
        return _options(request, form, endpoint)
    return form, notice, 200


def _post(request: HttpRequest, endpoint: str, membership) -> Shown:
    """The generation made (or made already by this render of the form), the form again
    for the new model's options, or the form with what is wrong (422)."""
    whose = {"team": membership.team, "owner": request.user}
    form = GenerationForm(endpoint, request.POST, request.FILES, **whose)
    earlier = _made_by(form.token, membership.team)
    if earlier is not None:
        # This render of the form was sent already (a double click, a resent POST):
        # the answer is the generation it made, and nothing is paid twice.
        return _to_generation(request, earlier, again=True)
    # Without htmx a changed model arrives with the old model's options: show the
    # new model's before anything is spent.
    if "refresh" in request.POST or form.model_changed:
        return _refreshed(form, endpoint, whose)
    if form.is_valid() and form.token is None:
        form.add_error(None, NO_TOKEN)  # answered with 422, a fresh token, inputs kept
    elif form.is_valid():
        made = _submit(request, form, membership)
        if made is not None:
            return made
    form.keep_uploads()
    return form, "", 422


def _refused(request: HttpRequest, endpoint: str, membership) -> Shown:
    """A submit by someone whose role no longer lets them generate: nothing is made; the
    form comes back as they filled it, good uploads kept for when they may again."""
    whose = {"team": membership.team, "owner": request.user}
    form = GenerationForm(endpoint, request.POST, request.FILES, **whose)
    form.is_valid()  # reads and checks the uploads, so good ones can be kept
    form.keep_uploads()
    form = GenerationForm(
        endpoint, initial=form.carried_over(), kept=form.kept, token=form.token, **whose
    )
    return form, "", 403


def _refusal(membership) -> str:
    """Why a submit was refused, and who can change it."""
    owners = Membership.objects.filter(team=membership.team, role=Membership.OWNER)
    names = sorted(str(m.user) for m in owners.select_related("user"))
    who = f"a team owner ({', '.join(names)})" if names else "a team owner"
    return (
        f"Your role in {membership.team.name} is now {membership.get_role_display().lower()}, "
        f"which does not allow generating videos. Only {who} can change your role, on the "
        "Team page."
    )


def _submit(request: HttpRequest, form: GenerationForm, membership) -> HttpResponse | None:
    """Store and queue the generation of a valid form; None with the form's errors added
    when it cannot be made."""
    try:
        generation = _create(form, membership, request.user)
    except budgets.OverBudget as exc:
        form.add_error(None, str(exc))  # shown above the form, answered with 422
    except KeptImageGone as exc:
        form.add_error(exc.field, str(exc))
    except IntegrityError:
        # The same render sent twice at once: the other request made it.
        earlier = _made_by(form.token, membership.team)
        if earlier is not None:
            return _to_generation(request, earlier, again=True)
        if not Generation.objects.filter(form_token=form.token).exists():
            raise
        form.add_error(None, NO_TOKEN)  # a token not of this team's making
    else:
        staging.discard(form.kept.values())
        return _to_generation(request, generation)
    return None


def _refreshed(form: GenerationForm, endpoint: str, whose: dict) -> Shown:
    """A fresh form for the model now chosen, with the inputs and good uploads kept."""
    form.is_valid()  # reads and checks the uploads, so good ones can be kept
    unread = [
        f"{form[name].label}: {' '.join(form.errors[name])}"
        for name in form.image_field_names()
        if name in form.errors and name not in form.kept and form.files.get(name)
    ]
    form.keep_uploads()
    form = GenerationForm(
        endpoint, initial=form.carried_over(), kept=form.kept, token=form.token, **whose
    )
    notice = (
        f"These are the options for {form.settled['model']}: check them, then press "
        "Generate video. " + " ".join(unread)
    ).strip()
    return form, notice, 200


# How many of a person's recent prompts the form offers again.
RECENT_PROMPTS = 8


def recent_prompts(team, user, count: int = RECENT_PROMPTS) -> list[str]:
    """The person's last distinct non-empty prompts in the team, newest first."""
    rows = (
        Generation.objects.filter(team=team, author=user)
        .exclude(prompt="")
        .order_by("-created_at", "-pk")
        .values_list("prompt", flat=True)[: count * 6]
    )
    return list(dict.fromkeys(prompt.strip() for prompt in rows if prompt.strip()))[:count]


def _context(form: GenerationForm, endpoint: str) -> dict:
    return {
        "allowance": budgets.allowance(form.team, form.owner) if form.team else None,
        "form": form,
        "endpoint": endpoint,
        "endpoint_label": catalog.ENDPOINT_LABELS[endpoint],
        "provider": form.provider,
        "team": form.team,
        "models": catalog.models_offered(endpoint, form.provider.name),
        "missing_models": [
            (catalog.get_model(endpoint, name).title, why)
            for name, why in catalog.missing_models(endpoint, form.provider.name)
        ],
        "estimate": form.estimate(),
        "limits": catalog.LIMITS,
        "price_source": catalog.PRICE_SOURCE,
        "documents": catalog.DOCUMENTS,
    }


def _options(request: HttpRequest, form: GenerationForm, endpoint: str) -> HttpResponse:
    """The options region for the chosen model, and the estimate beside the button."""
    context = _context(form, endpoint)
    html = render_to_string("generations/new.html#options", context, request)
    html += render_to_string("generations/new.html#estimate", {**context, "oob": True}, request)
    response = HttpResponse(html)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _from_generation(request: HttpRequest, endpoint: str):
    """Initial values, kept images and a notice for "generate again" (`?from=<uuid>`)."""
    try:
        generation_id = uuid.UUID(request.GET["from"])
    except ValueError:
        raise Http404 from None
    generation, membership = generation_for(request, generation_id)
    if generation.endpoint != endpoint:
        return redirect(
            reverse("generate", args=[generation.endpoint]) + "?" + request.GET.urlencode()
        )
    params = generation.params
    initial = {name: params.get(name) for name in REUSED if name in params}
    initial.update(model=generation.model, prompt=generation.prompt)
    notice = "Generating again: the images, prompt and options are those of the earlier video."
    if request.GET.get("vary_seed"):
        initial["seed"] = secrets.randbelow(catalog.SEED_MAX) + 1
        notice = "Generating again with a new seed: everything else is as before."
    elif request.GET.get("same_seed") and generation.seed_used is not None:
        initial["seed"] = generation.seed_used
        notice = "Generating again with the seed the earlier video was made with."
    staged = staging.from_generation(generation, membership.team, request.user)
    fields = catalog.endpoint_rules(endpoint).image_fields
    kept = dict(zip(fields, staged, strict=False))
    if None in staged or len(staged) < len(fields):
        notice += " Some of its images are gone: upload them again."
    return initial, kept, notice


def _staged_first(request: HttpRequest, endpoint: str, membership) -> dict:
    """The person's staged image named by `?staged_first=<id>` (a video's last frame),
    kept in the form's first image slot; nothing for an id that is not theirs."""
    staged = staging.find(membership.team, request.user, request.GET.get("staged_first", ""))
    if staged is None:
        return {}
    return {catalog.endpoint_rules(endpoint).image_fields[0]: staged}


@require_GET
@login_required
def staged_image(request: HttpRequest, staged_id) -> HttpResponse:
    """A thumbnail of an image kept for the form, for its owner only."""
    membership = current_membership(request)
    staged = staging.find(membership.team, request.user, staged_id)
    if staged is None:
        raise Http404
    try:
        fh = staging.open_file(staged)
    except (FileNotFoundError, OSError):
        raise Http404 from None
    with fh:
        thumb = decoding.thumbnail(fh)
    response = HttpResponse(thumb, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _made_by(token: str | None, team) -> Generation | None:
    """The generation an earlier submit of this form render made, if any (in this team)."""
    if not token:
        return None
    return Generation.objects.filter(form_token=token, team=team).first()


def _to_generation(request: HttpRequest, generation: Generation, again: bool = False):
    """To the generation's page, or to its batch's when it is one of several."""
    if generation.batch_id:
        url = reverse("batch", args=[generation.batch_id])
    else:
        url = reverse("generation", args=[generation.pk])
    if again:
        said = "are the videos" if generation.batch_id else "is the video"
        messages.info(request, f"This form was already sent: here {said} it started.")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _create(form: GenerationForm, membership, user) -> Generation:
    """Store every video the form asks for (one, or a batch of variants) and queue them,
    all or none: the budget and the author's limit are checked once for all of them.
    The first carries the form's token, so a second submit finds the whole batch."""
    connection = registry.current()
    variants = form.variant_params or [form.params]
    with transaction.atomic():
        batch = None
        if len(variants) > 1:
            batch = Batch.objects.create(team=membership.team, author=user, mode=form.mode)
        prices = budgets.Prices.of(connection.provider)
        made = [
            _store(form, membership, user, params, connection.provider, batch, index, prices)
            for index, params in enumerate(variants)
        ]
        budgets.enforce(*made)  # locks the team row; raises OverBudget or OverLimit
        for generation in made:
            _store_images(form, generation)
            generation.events.create(state=State.QUEUED, source="form")
            queue.enqueue_submit(generation)
    return made[0]


def _store(
    form, membership, user, sent: dict, provider: str, batch, index: int, prices
) -> Generation:
    params = {k: v for k, v in sent.items() if k not in ("model", "prompt")}
    return Generation.objects.create(
        form_token=form.token if index == 0 else None,
        batch=batch,
        team=membership.team,
        author=user,
        endpoint=form.endpoint,
        model=sent["model"],
        prompt=sent.get("prompt", ""),
        params=params,
        # The rules checked are this provider's; the worker records the origin it sends to.
        provider=provider,
        # Counted at this until the provider gives its figure (studio.budgets).
        estimated_credits=budgets.reserve(sent, provider, prices).credits,
        # Apart by a microsecond, so the batch's order is the order they were asked in.
        created_at=timezone.now() + timedelta(microseconds=index),
    )


def _store_images(form: GenerationForm, generation: Generation) -> None:
    for position, name in enumerate(form.image_field_names()):
        with form.image_file(name) as fh:  # copied in pieces
            if hasattr(fh, "seek"):
                fh.seek(0)  # read again for each video of a batch
            InputImage.store(
                generation,
                position,
                fh,
                form.image_infos[name],
                form.image_names.get(name, ""),
            )
