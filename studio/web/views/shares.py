"""Shared links: a read-only page with one video for people outside the team.

The token (256 random bits from `secrets`) is the only key: whoever has the link sees the
video, its cover and, if the sharer chose so, the prompt, until a team member revokes it
or hides the video; a revoked link answers 404 at once, and hiding revokes every link of
the video for good. A video made with a watermark is shared only with its watermark: with
no watermarked copy stored, no link can be made and older ones answer 404. Team members
create and revoke links from the generation's page (viewers cannot: they only see the
history).
"""

from __future__ import annotations

from csp.decorators import csp_replace
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET, require_POST

from studio.access import active_share, generation_to_change
from studio.addresses import public_url
from studio.models import Generation, ResultStatus, ShareLink
from studio.web.views.generations import detail_context
from studio.web.views.status import status_context


def _answer(request: HttpRequest, generation: Generation, membership, status: int = 200, **extra):
    """htmx gets the share section again; a plain POST goes back to the generation (or,
    with an error, gets its page again, the error beside the share form)."""
    if request.htmx:
        context = {**status_context(generation, membership), "fragment": True, **extra}
        return render(request, "shares/section.html", context, status=status)
    if status >= 400:
        context = {**detail_context(generation, membership), **extra}
        return render(request, "generations/detail.html", context, status=status)
    return redirect(reverse("generation", args=[generation.pk]) + "#shares")


@require_POST
@login_required
def create(request: HttpRequest, generation_id) -> HttpResponse:
    generation, membership = generation_to_change(request, generation_id)
    if generation.result_status != ResultStatus.STORED:
        error = "There is no video to share yet: wait until it is ready."
        return _answer(request, generation, membership, 422, share_error=error)
    creation = generation.creations.first()
    refusal = creation.share_refusal if creation else "There is no video to share."
    if refusal:  # hidden, or made with a watermark the studio has no copy with
        return _answer(request, generation, membership, 422, share_error=refusal)
    share = ShareLink.objects.create(
        generation=generation,
        show_prompt=request.POST.get("show_prompt") in ("on", "1", "true"),
        created_by=request.user,
    )
    # Said beside the new link in the share section (teams/flash.html leaves it there),
    # after htmx's swap and after a plain POST's redirect to the section alike.
    messages.success(
        request, "Link made: anyone with it can watch this video.", extra_tags=made_tag(share)
    )
    return _answer(request, generation, membership, new_share=share.pk)


def made_tag(share: ShareLink) -> str:
    return f"in-section share-made-{share.pk}"


@require_POST
@login_required
def revoke(request: HttpRequest, generation_id, share_id: int) -> HttpResponse:
    generation, membership = generation_to_change(request, generation_id)
    updated = ShareLink.objects.filter(
        pk=share_id, generation=generation, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    if not updated:
        raise Http404
    messages.success(request, "The link is revoked: it answers “not found” from now on.")
    return _answer(request, generation, membership)


def _share_context(request: HttpRequest, share: ShareLink) -> dict:
    generation = share.generation
    creation = generation.creations.first()
    if creation is None or creation.shared_video is None:
        raise Http404  # no video, or a watermark asked for and no watermarked copy
    token = share.token
    return {
        "share": share,
        "generation": generation,
        "creation": creation,
        "page_url": public_url(reverse("share", args=[token]), request),
        "embed_url": public_url(reverse("share_embed", args=[token]), request),
        "video_url": public_url(reverse("share_video", args=[token]), request),
        "cover_url": public_url(reverse("share_cover", args=[token]), request)
        if creation.cover
        else "",
    }


def _private(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex"
    response["Cache-Control"] = "no-cache"
    response["Referrer-Policy"] = "no-referrer"  # the token stays out of other sites' logs
    return response


def _shared_page(request: HttpRequest, token: str, template: str) -> HttpResponse:
    try:
        context = _share_context(request, active_share(token))
    except Http404:
        # The same answer for a revoked link and one that never existed.
        return _private(render(request, "shares/gone.html", status=404))
    return _private(render(request, template, context))


@require_GET
def page(request: HttpRequest, token: str) -> HttpResponse:
    return _shared_page(request, token, "shares/page.html")


@require_GET
@xframe_options_exempt  # twitter:player shows this page in a frame
@csp_replace({"frame-ancestors": ["*"]})  # on any site
def embed(request: HttpRequest, token: str) -> HttpResponse:
    return _shared_page(request, token, "shares/embed.html")
