"""Vidu's callbacks: signed POSTs of a task's state, checked before anything moves."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from studio import jobs
from studio.models import CallbackNonce, Generation, State
from studio.vidu import schemas, signatures

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def vidu_callback(request: HttpRequest) -> JsonResponse:
    try:
        nonce = signatures.verify(
            settings.VIDU_API_KEY,
            request.method,
            _signed_path(request),
            request.META.get("QUERY_STRING", ""),
            request.headers,
            max_skew=settings.VIDU_CALLBACK_MAX_SKEW,
        )
    except signatures.BadSignature as exc:
        log.warning("refused a callback: %s", exc)
        return JsonResponse({"error": "bad signature"}, status=401)
    try:
        task = schemas.TaskResponse.model_validate(json.loads(request.body))
    except (ValueError, ValidationError):
        return JsonResponse({"error": "unreadable body"}, status=400)

    generation = Generation.objects.filter(provider_task_id=task.id).first()
    if generation is None:
        # The callback can beat the create call's answer: find it by our payload.
        gid = jobs.generation_id_from_payload(task.payload)
        try:
            generation = (
                Generation.objects.filter(
                    pk=gid, provider_task_id="", state=State.SUBMITTING
                ).first()
                if gid
                else None
            )
        except (ValueError, Exception):
            generation = None
    if generation is None:
        return JsonResponse({"error": "unknown task"}, status=404)

    try:
        with transaction.atomic():
            CallbackNonce.objects.create(nonce=nonce)
    except IntegrityError:
        return JsonResponse({"error": "nonce already used"}, status=409)
    CallbackNonce.objects.filter(
        seen_at__lt=timezone.now() - timedelta(seconds=settings.VIDU_CALLBACK_MAX_SKEW * 2)
    ).delete()

    jobs.apply_task(generation, task, "callback")
    return JsonResponse({})


def _signed_path(request: HttpRequest) -> str:
    """The path Vidu signed: that of the callback URL we gave it, which a proxy in front
    of the studio may have rewritten on the way here."""
    url = jobs.callback_url()
    return urlsplit(url).path if url else request.path
