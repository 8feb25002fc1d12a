"""The provider's callbacks: signed POSTs of a task's state, checked before anything moves."""

from __future__ import annotations

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

from studio.models import CallbackNonce, Generation, State
from studio.vidu import registry, signatures
from studio.vidu.base import ProviderError
from studio.worker import connections, payloads, reports, submission

log = logging.getLogger(__name__)
NONCE_MAX_LENGTH = CallbackNonce._meta.get_field("nonce").max_length


@csrf_exempt
@require_POST
def vidu_callback(request: HttpRequest) -> JsonResponse:
    dialect = registry.connect()
    if not dialect.takes_callbacks:
        return JsonResponse({"error": "this provider sends no callbacks"}, status=404)
    key = settings.VIDU_API_KEY
    try:
        nonce = signatures.verify(
            key,
            request.method,
            _signed_path(request),
            request.META.get("QUERY_STRING", ""),
            request.headers,
            max_skew=settings.VIDU_CALLBACK_MAX_SKEW,
        )
    except signatures.BadSignature as exc:
        log.warning("refused a callback: %s", exc)
        return JsonResponse({"error": "bad signature"}, status=401)
    if len(nonce) > NONCE_MAX_LENGTH:
        return JsonResponse({"error": "nonce too long"}, status=400)
    # Every verified nonce is spent at once, whatever the body turns out to name: a
    # replayed callback is refused before anything is looked up or asked.
    try:
        with transaction.atomic():
            CallbackNonce.objects.create(nonce=nonce)
    except IntegrityError:
        return JsonResponse({"error": "nonce already used"}, status=409)
    CallbackNonce.objects.filter(
        seen_at__lt=timezone.now() - timedelta(seconds=settings.VIDU_CALLBACK_MAX_SKEW * 2)
    ).delete()
    try:
        view = dialect.read_callback(request.body)
    except (ValueError, ValidationError, ProviderError):
        return JsonResponse({"error": "unreadable body"}, status=400)

    generation = Generation.objects.filter(provider_task_id=view.task_id).first()
    if generation is None:
        # The callback can beat the create call's answer: find it by our payload.
        gid = payloads.generation_id_from_payload(view.payload)
        try:
            generation = (
                Generation.objects.filter(
                    pk=gid,
                    provider_task_id="",
                    state__in=(State.SUBMITTING, State.UNCONFIRMED),
                ).first()
                if gid
                else None
            )
        except (ValueError, Exception):
            generation = None
    # Only the key that created a task signs its callbacks: a task sent through another
    # connection is followed by polling instead.
    if generation is None or not _signed_with_its_key(generation, key):
        return JsonResponse({"error": "unknown task"}, status=404)
    named = payloads.generation_id_from_payload(view.payload) if view.payload else None
    if named and named != str(generation.pk):
        # The task and the payload name two different generations: neither is believed.
        log.warning("refused a callback: task %s names generation %s", view.task_id, named)
        return JsonResponse({"error": "unknown task"}, status=404)

    # The body names the task; what happened to it is asked of the provider.
    reports.confirm(generation, generation.provider_task_id or view.task_id)
    return JsonResponse({})


def _signed_with_its_key(generation: Generation, key: str) -> bool:
    try:
        return registry.api_key_for(connections.connection_of(generation)) == key
    except registry.NoKey:
        return False


def _signed_path(request: HttpRequest) -> str:
    """The path the provider signed: that of the callback URL we gave it, which a proxy in
    front of the studio may have rewritten on the way here."""
    url = submission.callback_url()
    return urlsplit(url).path if url else request.path
