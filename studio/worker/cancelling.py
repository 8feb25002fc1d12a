"""Cancelling a generation: before it is sent, or at a provider that cancels (off-peak
tasks still waiting for their slot)."""

from __future__ import annotations

from studio.models import AT_PROVIDER, Generation, State
from studio.vidu import registry
from studio.vidu.base import ProviderError
from studio.worker.connections import dialect_for


class CannotCancel(Exception):
    """The message says why, in the user's words."""


def cancel_refusal(generation: Generation) -> str:
    """Why a press of "cancel" could not work now, in the user's words; "" when it could:
    before the provider has the task, or an off-peak task at a provider that cancels,
    not yet started."""
    label = generation.provider_label
    if generation.state in (State.QUEUED, State.UNCONFIRMED):
        return ""
    if generation.state == State.SUBMITTING:
        return f"It is being sent to {label} right now; try again in a moment."
    if generation.is_terminal:
        return f"It has already ended ({generation.get_state_display().lower()})."
    if not registry.dialect_class(generation.provider).cancels:
        return f"{label} offers no way to cancel a task once it is sent."
    if generation.state == State.PROCESSING:
        return (
            f"{label} is already making this video, and a running task cannot be cancelled: "
            "only off-peak tasks still waiting for their slot can be."
        )
    if not generation.params.get("off_peak"):
        return (
            f"{label} cannot cancel a task once it has been sent: only off-peak tasks "
            "waiting for their slot can be cancelled, and this one was sent to be made at once."
        )
    return ""


def cancel(generation: Generation) -> str:
    """Cancel a generation if it can still be cancelled; return what happened."""
    label = generation.provider_label
    if generation.state == State.QUEUED:
        # Only from the state read: a worker may have sent it since (and been charged).
        if generation.advance(
            State.CANCELLED,
            "user",
            "cancelled before sending",
            only_from=(State.QUEUED,),
            error_reason="UserCancelled",
        ):
            return f"Cancelled before it was sent to {label}; nothing was charged."
        generation.refresh_from_db()  # the worker claimed it meanwhile
    if generation.state == State.UNCONFIRMED:
        if generation.advance(
            State.CANCELLED,
            "user",
            "not sent again",
            only_from=(State.UNCONFIRMED,),
            error_reason="UserCancelled",
        ):
            return f"Stopped here. If {label} did make the task, the studio does not follow it."
        generation.refresh_from_db()
    refusal = cancel_refusal(generation)
    if refusal:
        raise CannotCancel(refusal)
    try:
        dialect_for(generation).cancel(generation.provider_task_id)
    except ProviderError as exc:
        raise CannotCancel(f"{label} did not cancel it: {exc.plain}") from None
    generation.advance(
        State.CANCELLED,
        "user",
        f"cancelled at {label}",
        only_from=AT_PROVIDER,
        credits=0,
        error_reason="UserCancelled",
    )
    return f"{label} cancelled the off-peak task; its credits are refunded."
