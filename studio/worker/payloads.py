"""The studio's marker in each task's `payload`: the generation's id, wrapping the user's
own payload. It is how a lost submission is found again in the provider's task list, and
how a callback or an answer is tied to the generation it is about."""

from __future__ import annotations

import json

from studio.models import Generation


def provider_payload(generation: Generation) -> str:
    """What we send as `payload`: our generation's id, wrapping the user's own payload.

    It is how a lost submission is found again in the provider's task list.
    """
    return wrap_payload(str(generation.pk), generation.params.get("payload", ""))


def wrap_payload(generation_id: str, user_payload: str) -> str:
    if not user_payload:
        return generation_id
    # ensure_ascii=False: the provider counts characters, and escaping would multiply them.
    return json.dumps(
        {"studio_generation": generation_id, "payload": user_payload}, ensure_ascii=False
    )


def generation_id_from_payload(payload: str) -> str | None:
    if payload.startswith("{"):
        try:
            return str(json.loads(payload).get("studio_generation") or "") or None
        except (ValueError, AttributeError):
            return None
    return payload or None
