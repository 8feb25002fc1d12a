"""What a member can do to a generation after submitting it: cancel it, retry copying a
video that could not be copied, or send again one whose answer was lost."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from studio.access import generation_to_change
from studio.worker import cancelling, copying, queue


@require_POST
@login_required
def cancel(request: HttpRequest, generation_id) -> HttpResponse:
    generation, _ = generation_to_change(request, generation_id)
    try:
        messages.success(request, cancelling.cancel(generation))
    except cancelling.CannotCancel as exc:
        messages.error(request, f"This video cannot be cancelled. {exc}")
    return redirect("generation", generation.pk)


@require_POST
@login_required
def retry_fetch(request: HttpRequest, generation_id) -> HttpResponse:
    generation, _ = generation_to_change(request, generation_id)
    if copying.retry(generation):
        messages.success(request, f"Copying the video from {generation.provider_label} again.")
    else:
        messages.info(request, "There is nothing to retry: the video is stored or on its way.")
    return redirect("generation", generation.pk)


@require_POST
@login_required
def send_again(request: HttpRequest, generation_id) -> HttpResponse:
    """A person's decision to send a generation whose first answer was lost."""
    generation, _ = generation_to_change(request, generation_id)
    if generation.send_again(request.user):
        queue.enqueue_submit(generation)
        messages.success(request, f"Sending it to {generation.provider_label} again.")
    else:
        messages.info(request, "It is no longer waiting for a decision.")
    return redirect("generation", generation.pk)
