"""Building a generation's request and sending it to its provider, exactly once.

A create call whose answer was lost may still have made (and charged) the task. Where
the provider can be asked (the official task list, by our payload), the worker asks
before it sends again; where it cannot, the generation stops as UNCONFIRMED and only a
person may send it again.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from pydantic import ValidationError

from studio import addresses, budgets, input_links
from studio.images.uploads import ImageProblem
from studio.models import Generation, State
from studio.vidu import registry
from studio.vidu.base import Dialect, ProviderError, Submission, TaskView
from studio.worker.cadence import first_poll_at
from studio.worker.connections import backoff, connection_of, dialect_for
from studio.worker.payloads import provider_payload
from studio.worker.reports import apply_view, cost_fields, seed_fields
from studio.worker.request_images import Source, json_size, request_images

log = logging.getLogger(__name__)

SEND_ATTEMPTS = 5  # per claim; the reconciler makes a new claim later
MAX_CLAIMS = 4  # after this many claims that all failed to reach the provider, give up
# Giving up asks the task list first; after this many more claims that could not read it,
# a person decides.
LIST_CLAIMS = 4


def callback_url() -> str | None:
    """Where the provider reports back, or None when the studio has no public address."""
    return addresses.public_url(reverse("vidu_callback"))


def build(generation: Generation, dialect: Dialect | None = None, links: bool = True) -> Submission:
    """The neutral submission, images included, as the dialect will send it.

    `links=False`: every image travels inside the request, re-encoded where it must be,
    for when the provider could not fetch the studio's own link to it.
    """
    dialect = dialect or dialect_for(generation)
    rules = generation.provider_rules
    params = {
        k: v
        for k, v in generation.params.items()
        if k != "payload" and rules.takes_parameter(generation.endpoint, k)
    }
    stored = list(generation.images.all())
    # Each picture as its stored size and format: whether it goes as bytes, as a link or
    # re-encoded is decided from those, and its file is read only for the first and the
    # last. (The size comes from the storage, so a file that is gone fails here.)
    pictures = [
        Source(
            image.file.size,
            image.format,
            functools.partial(image.file.storage.open, image.file.name, "rb"),
        )
        for image in stored
    ]
    submission = Submission(
        endpoint=generation.endpoint,
        model=generation.model,
        images=("",) * len(pictures),
        prompt=generation.prompt,
        params=params,
        payload=provider_payload(generation)
        if rules.takes_parameter(generation.endpoint, "payload")
        else "",
        callback_url=callback_url() if dialect.takes_callbacks else None,
    )
    # The rest of the body (a payload may be a megabyte) is measured as it will be sent;
    # the images get what is left of the 20 MB: as data URIs, as signed links to our
    # own copies when the provider can reach us, or re-encoded until they fit.
    reserve = json_size(dialect.body(submission)) + 1024
    urls = [input_links.url_for(image) for image in stored] if links else None
    images = request_images(pictures, reserve=reserve, urls=urls)
    return submission.with_images(images)


def renew_claim(generation: Generation, **fields) -> bool:
    """Keep our claim alive before each attempt; False when it is no longer ours.

    A callback may have attached the task meanwhile, or the reconciler may have taken
    over a claim we held too long: either way, sending again could pay twice. `fields`
    are stored in the same statement, only if the claim is still ours.
    """
    now = timezone.now()
    renewed = Generation.objects.filter(
        pk=generation.pk,
        state=State.SUBMITTING,
        provider_task_id="",
        claimed_at=generation.claimed_at,
    ).update(claimed_at=now, **fields)
    if renewed:
        generation.claimed_at = now
        for name, value in fields.items():
            setattr(generation, name, value)
    return bool(renewed)


def send(generation: Generation, *, maybe_sent: bool) -> str:
    """Send the create call, retrying what is safe to retry.

    `maybe_sent`: an earlier attempt may have reached the provider. Where it can be
    asked, look for our payload before sending again; where it cannot, stop and let a
    person decide. A task is never paid for twice by the studio's own doing.
    """
    # Fields stored with the next renewal of the claim (one statement, not one each).
    unsaved: dict = {}
    if not generation.provider_base_url:
        # The connection it is sent to: from here on its task is followed there. Only
        # the claim's holder writes it, so it is still empty when the renewal stores it.
        unsaved["provider_base_url"] = connection_of(generation).base_url
        generation.provider_base_url = unsaved["provider_base_url"]
    dialect = dialect_for(generation)
    try:
        submission = build(generation, dialect)
    except (ImageProblem, ValidationError, OSError) as exc:
        # Nothing was sent, and sending again would not help.
        _cannot_build(generation, dialect, exc, unsaved)
        return "failed"
    sending = _Sending(generation, dialect, submission, maybe_sent, unsaved)
    for attempt in range(1, SEND_ATTEMPTS + 1):
        if attempt > 1:
            time.sleep(backoff(attempt - 1))
        outcome = _attempt(sending, attempt)
        if outcome == _STOP_TRYING:
            break
        if outcome != _NEXT_ATTEMPT:
            return outcome
    # Still unknown: leave the claim; the reconciler looks again later.
    _retry_later(generation, sending.last)
    return "retry later"


# How an attempt tells the send loop to go on, besides the outcomes `send` returns.
_NEXT_ATTEMPT = "next attempt"  # wait, then try again (while attempts are left)
_STOP_TRYING = "stop trying"  # no more attempts under this claim: retry later
_SEND_NOW = "send now"  # the provider has no task for our payload: send it


@dataclass
class _Sending:
    """What one `send` carries from attempt to attempt."""

    generation: Generation
    dialect: Dialect
    submission: Submission
    maybe_sent: bool  # an earlier attempt may have reached the provider
    unsaved: dict  # fields stored with the next renewal of the claim
    last: ProviderError | None = None  # the latest error, kept for the record


def _cannot_build(generation: Generation, dialect: Dialect, exc: Exception, unsaved: dict) -> None:
    """The request could not be built: fail the generation (nothing was sent)."""
    log.exception("cannot build the request for %s", generation.pk)
    message = (
        str(exc)
        if isinstance(exc, ImageProblem)
        else (
            f"The studio could not build the request for {dialect.label}; nothing was "
            "sent or charged."
        )
    )
    generation.advance(
        State.FAILED,
        "submit",
        exc.__class__.__name__,
        error_reason="StudioRequestInvalid",
        error_message=message,
        **unsaved,
    )


def _attempt(sending: _Sending, attempt: int) -> str:
    """One attempt: renew the claim, look for a task an earlier attempt may have made,
    then send. Returns how the send ended, or `_NEXT_ATTEMPT` / `_STOP_TRYING`."""
    generation = sending.generation
    if not sending.maybe_sent:
        # Nothing to ask the provider first: the renewal also records that the
        # create call is about to go (sent_at), before it goes.
        sending.unsaved["sent_at"] = timezone.now()
    if not renew_claim(generation, **sending.unsaved):
        return "claim lost"
    sending.unsaved = {}
    if sending.maybe_sent:
        looked = _look_before_sending(sending)
        if looked != _SEND_NOW:
            return looked
    try:
        view = sending.dialect.create(sending.submission)
    except ProviderError as exc:
        return _create_failed(sending, exc, attempt)
    accepted(generation, view, "accepted")
    return "submitted"


def _look_before_sending(sending: _Sending) -> str:
    """Ask the provider for a task with our payload before sending it again. Returns
    `_SEND_NOW` when it has none (and records that the create call is about to go)."""
    generation, dialect = sending.generation, sending.dialect
    if not dialect.finds_lost_tasks:
        unconfirmed(generation, sending.last)
        return "unconfirmed"
    try:
        found = dialect.find_by_payload(
            sending.submission.payload, since=generation.created_at - timedelta(minutes=5)
        )
    except ProviderError as exc:
        # Without the list we cannot know whether the provider has the task:
        # neither send again nor call it failed. Keep the claim for later.
        sending.last = exc
        log.info("submit %s: task list unavailable: %s", generation.pk, exc)
        if not exc.permanent:
            return _NEXT_ATTEMPT
        return _STOP_TRYING
    if found is not None:
        recovered(generation, found)
        return "recovered"
    Generation.objects.filter(pk=generation.pk, claimed_at=generation.claimed_at).update(
        sent_at=timezone.now()
    )
    return _SEND_NOW


def _create_failed(sending: _Sending, exc: ProviderError, attempt: int) -> str:
    """The create call failed: resend our images inline, refuse for good, or try again."""
    generation = sending.generation
    if exc.permanent and _own_link_unreachable(exc, sending.submission):
        # The provider could not fetch our link to an image (the web server was
        # restarting, say): nothing was made or charged. Send the images inside
        # the request instead, re-encoded to fit.
        log.info("submit %s: %s; sending the images inline", generation.pk, exc)
        sending.last = exc
        try:
            sending.submission = build(generation, sending.dialect, links=False)
        except (ImageProblem, OSError):
            log.exception("cannot send the images of %s inline", generation.pk)
        else:
            return _NEXT_ATTEMPT
    if exc.permanent:
        generation.advance(
            State.FAILED,
            "submit",
            f"{exc.reason}: {exc.message}",
            error_reason=exc.reason[:64],
            error_message=exc.plain,
        )
        return "refused"
    sending.last = exc
    sending.maybe_sent = sending.maybe_sent or exc.maybe_sent
    log.info("submit %s attempt %s: %s", generation.pk, attempt, exc)
    return _NEXT_ATTEMPT


def _retry_later(generation: Generation, last: ProviderError | None) -> None:
    """Record why the send is still unknown; the claim stays for the reconciler."""
    Generation.objects.filter(pk=generation.pk, state=State.SUBMITTING).update(
        error_reason=last.reason[:64] if last else "", error_message=last.plain if last else ""
    )


def _own_link_unreachable(exc: ProviderError, submission: Submission) -> bool:
    """The provider refused because it could not download an image we sent as a link."""
    linked = any(not image.startswith("data:") for image in submission.images)
    said = f"{exc.reason} {exc.message}".lower()
    return linked and ("imagedownloadfailure" in said or "download" in said)


def resume(generation: Generation) -> str:
    """Carry on a submission whose worker died. Where the provider can be asked, ask it
    first; elsewhere a claim whose create call never started is safe to send."""
    maybe_sent = dialect_for(generation).finds_lost_tasks or generation.sent_at is not None
    return send(generation, maybe_sent=maybe_sent)


def accepted(generation: Generation, view: TaskView, how: str) -> None:
    """Record that the provider has the task: its id, its cost, and when to ask next."""
    fields = dict(
        provider_task_id=view.task_id,
        error_reason="",
        error_message="",
        next_poll_at=first_poll_at(generation),
        **cost_fields(view),
        **seed_fields(generation, view),
    )
    budgets.learn(generation, fields.get("credits"))
    if not generation.advance(State.CREATED, "submit", f"task {view.task_id} {how}", **fields):
        # A callback raced ahead and moved the state; the task id must still be kept.
        Generation.objects.filter(pk=generation.pk, provider_task_id="").update(
            provider_task_id=view.task_id
        )
        if "seed_used" in fields:
            Generation.objects.filter(pk=generation.pk, seed_used__isnull=True).update(
                seed_used=fields["seed_used"]
            )
    if view.state != State.CREATED:
        apply_view(generation, view, "poll")


def recovered(generation: Generation, found: TaskView) -> None:
    """Adopt a task found in the provider's list; it may have moved on since."""
    accepted(generation, found, "recovered from the task list")


def unconfirmed(generation: Generation, last: ProviderError | None) -> None:
    label = generation.provider_label
    generation.advance(
        State.UNCONFIRMED,
        "submit",
        last.reason if last else "answer lost",
        error_reason=(last.reason if last else "AnswerLost")[:64],
        error_message=(
            f"The studio sent this video to {label}, but the answer was lost "
            f"({last.plain if last else 'no answer'}). {label} may have accepted the task, "
            f"and it offers no way to ask: check its console before sending it again, or "
            "it may be paid for twice."
        ),
    )


def without_key(generation: Generation, exc: registry.NoKey) -> str:
    """The connection this generation belongs to has no key any more: nothing is sent
    with another's. Never sent: it fails, uncharged; perhaps sent: a person decides."""
    if generation.sent_at is None and not generation.provider_task_id:
        generation.advance(
            State.FAILED,
            "submit",
            exc.reason,
            error_reason=exc.reason,
            error_message=f"{exc.plain} Nothing was sent or charged.",
        )
        return "failed"
    unconfirmed(generation, exc)
    return "unconfirmed"


def not_found_out(generation: Generation, exc: ProviderError) -> None:
    """The task list could not tell whether the provider has the task: a decision for a
    person, with the provider's reason."""
    label = generation.provider_label
    generation.advance(
        State.UNCONFIRMED,
        "submit",
        f"task list: {exc.reason}",
        error_reason=exc.reason[:64],
        error_message=(
            f"The studio may have sent this video to {label}, and could not look for it "
            f"in {label}'s task list: {exc.plain} Check {label}'s console before sending "
            "it again, or it may be paid for twice."
        ),
    )


def give_up(generation: Generation) -> None:
    """Stop trying to submit, without ever risking a second payment."""
    dialect = dialect_for(generation)
    if generation.sent_at is not None and not dialect.finds_lost_tasks:
        unconfirmed(generation, None)
        return
    if dialect.finds_lost_tasks:
        try:
            found = dialect.find_by_payload(
                provider_payload(generation), since=generation.created_at - timedelta(minutes=5)
            )
        except ProviderError as exc:
            found = None
            if generation.sent_at is not None:
                if exc.permanent or generation.submit_attempts > MAX_CLAIMS + LIST_CLAIMS:
                    # Refused for good (a key not allowed to list), or down for too long:
                    # a person decides, told what the provider said; nothing is resent.
                    not_found_out(generation, exc)
                    return
                log.info("give up %s: cannot check the task list yet: %s", generation.pk, exc)
                return  # the next reconcile asks again
            # Never sent (no create call started): nothing to find, nothing charged.
        if found is not None:
            recovered(generation, found)
            return
    label = generation.provider_label
    generation.advance(
        State.FAILED,
        "poll",
        "gave up",
        error_reason=generation.error_reason or "ProviderUnavailable",
        error_message=f"{label} could not be reached to start this video; nothing was "
        "charged. " + (generation.error_message or ""),
    )
