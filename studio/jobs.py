"""The worker's jobs (django-q2): submit a generation once, follow it, copy its video.

Every job claims its row with a conditional UPDATE first, so any number of workers on
any number of machines can run them: whoever loses a claim does nothing.
"""

from __future__ import annotations

import json
import logging
import random
import tempfile
import time
from datetime import timedelta

import av
import httpx
from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task
from pydantic import ValidationError

from studio import images as image_tools
from studio import staging
from studio.models import (
    AT_PROVIDER,
    PROVIDER_STATES,
    Creation,
    Generation,
    ResultStatus,
    State,
)
from studio.vidu import schemas
from studio.vidu.client import (
    OutcomeUnknown,
    Refused,
    Retryable,
    ViduClient,
    ViduError,
    plain_reason,
)

log = logging.getLogger(__name__)

SEND_ATTEMPTS = 5  # per claim; the reconciler makes a new claim later
MAX_CLAIMS = 4  # after this many claims that all failed to reach Vidu, give up
FETCH_ATTEMPTS = 4  # per copy job; the reconciler and the page's button retry later
RESULTS_KEPT_BY_VIDU = timedelta(hours=24)  # result URLs stay valid this long


def backoff(attempt: int, cap: float = 30.0) -> float:
    """Exponential backoff with full jitter: attempt 1 waits up to the base delay."""
    base = settings.STUDIO_BACKOFF_BASE
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))


def enqueue_submit(generation: Generation) -> None:
    """Submit after the transaction that stored the generation commits."""
    gid = str(generation.pk)
    # robust: the generation is stored either way; if the broker is down, the reconciler
    # queues it again, and the user must not see an error for a video that is on its way.
    transaction.on_commit(
        lambda: async_task("studio.jobs.submit", gid, task_name=f"submit {gid}"), robust=True
    )


def enqueue_fetch(generation_id) -> None:
    gid = str(generation_id)
    transaction.on_commit(
        lambda: async_task("studio.jobs.fetch_result", gid, task_name=f"fetch {gid}"),
        robust=True,
    )


def callback_url() -> str | None:
    if not settings.STUDIO_PUBLIC_URL:
        return None
    return settings.STUDIO_PUBLIC_URL + reverse("vidu_callback")


def provider_payload(generation: Generation) -> str:
    """What we send as `payload`: our generation's id, wrapping the user's own payload.

    It is how a lost submission is found again in Vidu's task list.
    """
    return wrap_payload(str(generation.pk), generation.params.get("payload", ""))


def wrap_payload(generation_id: str, user_payload: str) -> str:
    if not user_payload:
        return generation_id
    # ensure_ascii=False: Vidu counts characters, and escaping would multiply them.
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


def build_request(generation: Generation) -> schemas.CreateRequest:
    from studio import input_links  # (issue 3 owns only this body; hoist at will)

    params = {k: v for k, v in generation.params.items() if k != "payload"}
    stored = list(generation.images.all())
    pictures = []
    for image in stored:
        with image.file.open("rb") as fh:
            pictures.append((fh.read(), image.format))
    request = schemas.CreateRequest(
        model=generation.model,
        images=[""] * len(pictures),
        prompt=generation.prompt or None,
        payload=provider_payload(generation),
        callback_url=callback_url(),
        **params,
    )
    # The rest of the body (a payload may be a megabyte) is measured as it will be sent;
    # the images get what is left of the 20 MB: as data URIs, as signed links to our
    # own copies when Vidu can reach us, or re-encoded until they fit.
    reserve = image_tools.json_size(request.body()) + 1024
    images = image_tools.request_images(
        pictures, reserve=reserve, urls=[input_links.url_for(image) for image in stored]
    )
    return request.model_copy(update={"images": images})


def submit(generation_id: str) -> str:
    """Claim a queued generation and send it to Vidu, exactly once."""
    now = timezone.now()
    claimed = Generation.objects.filter(pk=generation_id, state=State.QUEUED).update(
        state=State.SUBMITTING,
        claimed_at=now,
        updated_at=now,
        submit_attempts=F("submit_attempts") + 1,
    )
    if not claimed:
        return "not claimed"
    generation = Generation.objects.get(pk=generation_id)
    generation.events.create(state=State.SUBMITTING, source="submit", at=now)
    return _send(generation, maybe_sent=False)


def resume_submit(generation_id: str, claimed_at: str) -> str:
    """Carry on a submission whose worker died, under the claim the reconciler took."""
    generation = Generation.objects.filter(pk=generation_id, state=State.SUBMITTING).first()
    if generation is None or generation.claimed_at.isoformat() != claimed_at:
        return "not mine"
    if generation.submit_attempts > MAX_CLAIMS:
        _give_up(generation)
        return "gave up"
    return _send(generation, maybe_sent=True)


def _renew_claim(generation: Generation) -> bool:
    """Keep our claim alive before each attempt; False when it is no longer ours.

    A callback may have attached the task meanwhile, or the reconciler may have taken
    over a claim we held too long: either way, sending again could pay twice.
    """
    now = timezone.now()
    renewed = Generation.objects.filter(
        pk=generation.pk,
        state=State.SUBMITTING,
        provider_task_id="",
        claimed_at=generation.claimed_at,
    ).update(claimed_at=now)
    if renewed:
        generation.claimed_at = now
    return bool(renewed)


def _send(generation: Generation, *, maybe_sent: bool) -> str:
    """Send the create call, retrying what is safe to retry.

    `maybe_sent`: an earlier attempt may have reached Vidu, so look for our payload in
    its task list before sending again; a task is never paid for twice.
    """
    try:
        request = build_request(generation)
    except (image_tools.ImageProblem, ValidationError, OSError) as exc:
        # Nothing was sent, and sending again would not help.
        log.exception("cannot build the request for %s", generation.pk)
        message = (
            str(exc)
            if isinstance(exc, image_tools.ImageProblem)
            else ("The studio could not build the request for Vidu; nothing was sent or charged.")
        )
        generation.advance(
            State.FAILED,
            "submit",
            exc.__class__.__name__,
            error_reason="StudioRequestInvalid",
            error_message=message,
        )
        return "failed"
    last: ViduError | None = None
    with ViduClient() as client:
        for attempt in range(1, SEND_ATTEMPTS + 1):
            if attempt > 1:
                time.sleep(backoff(attempt - 1))
            if not _renew_claim(generation):
                return "claim lost"
            if maybe_sent:
                try:
                    found = client.find_by_payload(
                        provider_payload(generation),
                        since=generation.created_at - timedelta(minutes=5),
                    )
                except ViduError as exc:
                    # Without the list we cannot know whether Vidu has the task: neither
                    # send again nor call it failed. Keep the claim for the reconciler.
                    last = exc
                    log.info("submit %s: task list unavailable: %s", generation.pk, exc)
                    if exc.retryable:
                        continue
                    break
                if found is not None:
                    _recovered(generation, found)
                    return "recovered"
            try:
                answer = client.create(generation.kind, request)
            except Refused as exc:
                generation.advance(
                    State.FAILED,
                    "submit",
                    f"{exc.reason}: {exc.message}",
                    error_reason=exc.reason,
                    error_message=exc.plain,
                )
                return "refused"
            except Retryable as exc:
                last = exc
                # A 5xx or a lost answer may still have created the task.
                maybe_sent = maybe_sent or isinstance(exc, OutcomeUnknown) or exc.status >= 500
                log.info("submit %s attempt %s: %s", generation.pk, attempt, exc)
                continue
            _accepted(generation, answer.task_id, answer.credits, "accepted")
            return "submitted"
    # Still unknown: leave the claim; the reconciler looks for the payload and retries.
    Generation.objects.filter(pk=generation.pk, state=State.SUBMITTING).update(
        error_reason=last.reason if last else "", error_message=last.plain if last else ""
    )
    return "retry later"


def _accepted(generation: Generation, task_id: str, credits, how: str) -> None:
    """Record that Vidu has the task: its id, what it charges, and when to ask next."""
    now = timezone.now()
    fields = dict(
        provider_task_id=task_id,
        error_reason="",
        error_message="",
        next_poll_at=now + timedelta(seconds=settings.STUDIO_QUIET_SECONDS),
    )
    if credits is not None:
        fields["credits"] = credits
    if not generation.advance(State.CREATED, "submit", f"task {task_id} {how}", **fields):
        # A callback raced ahead and moved the state; the task id must still be kept.
        Generation.objects.filter(pk=generation.pk, provider_task_id="").update(
            provider_task_id=task_id
        )


def _recovered(generation: Generation, found: schemas.ListedTask) -> None:
    """Adopt a task found in Vidu's list; it may have moved on (or ended) since."""
    _accepted(generation, found.id, found.credits, "recovered from the task list")
    if found.state != "created":
        task = schemas.TaskResponse(
            id=found.id,
            state=found.state,
            err_code=found.err_code,
            credits=found.credits,
            payload=found.payload,
            creations=found.creations,
        )
        apply_task(generation, task, "poll")


def _give_up(generation: Generation) -> None:
    """Stop trying to submit, but only once Vidu's task list confirms it has no task."""
    with ViduClient() as client:
        try:
            found = client.find_by_payload(
                provider_payload(generation), since=generation.created_at - timedelta(minutes=5)
            )
        except (Retryable, Refused) as exc:
            log.info("give up %s: cannot check the task list yet: %s", generation.pk, exc)
            return  # the next reconcile asks again
    if found is not None:
        _recovered(generation, found)
        return
    generation.advance(
        State.FAILED,
        "poll",
        "gave up",
        error_reason=generation.error_reason or "ProviderUnavailable",
        error_message="Vidu could not be reached to start this video; nothing was charged. "
        + (generation.error_message or ""),
    )


def apply_task(generation: Generation, task: schemas.TaskResponse, source: str) -> bool:
    """Move a generation forward to what Vidu reports (a callback or a poll)."""
    state = PROVIDER_STATES.get(task.state)
    if state is None:
        log.warning("unknown provider state %r for %s", task.state, generation.pk)
        return False
    if state == State.FAILED and task.err_code == "UserCancelled":
        state = State.CANCELLED  # cancelled through the API, or off-peak time ran out
    fields: dict = {"next_poll_at": timezone.now() + poll_interval(generation)}
    if task.credits is not None:
        fields["credits"] = task.credits
    if not generation.provider_task_id:
        fields["provider_task_id"] = task.id
    if state in (State.FAILED, State.CANCELLED):
        fields["error_reason"] = task.err_code or "Failed"
        fields["error_message"] = (
            plain_reason(task.err_code, "")
            if task.err_code
            else ("Vidu reported that the task failed.")
        )
    moved = generation.advance(state, source, task.err_code, **fields)
    if not moved:
        # Same or older news: only refresh when we next ask.
        Generation.objects.filter(pk=generation.pk, state__in=AT_PROVIDER).update(
            next_poll_at=fields["next_poll_at"]
        )
    if moved and state == State.SUCCESS:
        enqueue_fetch(generation.pk)
    return moved


def poll_interval(generation: Generation) -> timedelta:
    """How long to wait before asking Vidu again; longer as a task ages, never forever."""
    age = (timezone.now() - generation.created_at).total_seconds()
    quiet = settings.STUDIO_QUIET_SECONDS
    if age < 600:
        return timedelta(seconds=quiet)
    if age < 3600:
        return timedelta(seconds=max(quiet, 120))
    if age < 6 * 3600:
        return timedelta(seconds=max(quiet, 600))
    return timedelta(seconds=max(quiet, 1800))  # off-peak tasks may take 48 hours


def reconcile() -> dict:
    """Scheduled: recover dead claims, poll quiet tasks, resume lost result copies."""
    counts = {"recovered": 0, "requeued": 0, "polled": 0, "fetches": 0, "staged_removed": 0}
    now = timezone.now()

    stale = now - timedelta(seconds=settings.STUDIO_CLAIM_TIMEOUT)
    for generation in Generation.objects.filter(state=State.SUBMITTING, claimed_at__lt=stale):
        # Re-claim: only one reconciler wins each stale claim. The submission goes on in
        # a job of its own, so a slow Vidu never holds up the polls below.
        won = Generation.objects.filter(
            pk=generation.pk, state=State.SUBMITTING, claimed_at=generation.claimed_at
        ).update(claimed_at=now, submit_attempts=F("submit_attempts") + 1)
        if won:
            gid = str(generation.pk)
            async_task("studio.jobs.resume_submit", gid, now.isoformat(), task_name=f"resume {gid}")
            counts["recovered"] += 1

    # Submit jobs lost with a worker (a Redis broker has no acknowledgement): queue
    # them again. The claim in `submit` makes a second job for the same row harmless.
    for gid in Generation.objects.filter(state=State.QUEUED, updated_at__lt=stale).values_list(
        "pk", flat=True
    )[:200]:
        Generation.objects.filter(pk=gid, state=State.QUEUED).update(updated_at=now)
        async_task("studio.jobs.submit", str(gid), task_name=f"submit {gid}")
        counts["requeued"] += 1

    due = Generation.objects.filter(state__in=AT_PROVIDER).filter(
        Q(next_poll_at__lte=now) | Q(next_poll_at__isnull=True)
    )
    with ViduClient() as client:
        for generation in due[:200]:
            # Claim this poll so two reconcilers do not both ask.
            won = Generation.objects.filter(
                pk=generation.pk, next_poll_at=generation.next_poll_at
            ).update(next_poll_at=now + poll_interval(generation))
            if not won or not generation.provider_task_id:
                continue
            try:
                task = client.query(generation.provider_task_id)
            except Refused as exc:
                if exc.status == 404:
                    generation.advance(
                        State.FAILED,
                        "poll",
                        exc.reason,
                        error_reason=exc.reason,
                        error_message=exc.plain,
                    )
                continue
            except Retryable as exc:
                log.info("poll %s: %s", generation.pk, exc)
                continue
            apply_task(generation, task, "poll")
            counts["polled"] += 1

    # Copies that never started, or whose worker died part way.
    stuck = now - timedelta(seconds=settings.STUDIO_CLAIM_TIMEOUT)
    Generation.objects.filter(
        state=State.SUCCESS, result_status=ResultStatus.FETCHING, updated_at__lt=stuck
    ).update(result_status=ResultStatus.NONE, updated_at=now)
    for gid in Generation.objects.filter(
        state=State.SUCCESS,
        result_status=ResultStatus.NONE,
        updated_at__lt=now - timedelta(seconds=30),
    ).values_list("pk", flat=True)[:50]:
        async_task("studio.jobs.fetch_result", str(gid), task_name=f"fetch {gid}")
        counts["fetches"] += 1

    # Images kept for forms nobody submitted, for every team (not only busy ones).
    counts["staged_removed"] = staging.sweep()

    # Copies that failed: try again now and then while Vidu still keeps the files.
    retry_before = now - timedelta(seconds=settings.STUDIO_RESULT_RETRY_SECONDS)
    for gid in Generation.objects.filter(
        state=State.SUCCESS,
        result_status=ResultStatus.UNAVAILABLE,
        updated_at__lt=retry_before,
        finished_at__gt=now - RESULTS_KEPT_BY_VIDU,
    ).values_list("pk", flat=True)[:50]:
        if Generation.objects.filter(pk=gid, result_status=ResultStatus.UNAVAILABLE).update(
            result_status=ResultStatus.NONE, updated_at=now
        ):
            async_task("studio.jobs.fetch_result", str(gid), task_name=f"fetch {gid}")
            counts["fetches"] += 1
    return counts


def probe_video(path: str) -> dict:
    """Check that a file is a playable video; return its codec, duration and size."""
    with av.open(path) as container:
        if not container.streams.video:
            raise ValueError("the file has no video stream")
        stream = container.streams.video[0]
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        else:
            duration = (container.duration or 0) / 1_000_000
        # Decoding one frame proves the stream is not just a header.
        next(container.decode(stream))
        return {
            "codec": stream.codec_context.name,
            "duration": duration,
            "width": stream.codec_context.width,
            "height": stream.codec_context.height,
        }


def _download(http: httpx.Client, url: str, into) -> int:
    with http.stream("GET", url) as response:
        if response.status_code in (401, 403, 404, 410):
            raise Refused(
                "ResultExpired", f"result URL answered {response.status_code}", response.status_code
            )
        response.raise_for_status()
        size = 0
        for chunk in response.iter_bytes(1024 * 256):
            into.write(chunk)
            size += len(chunk)
    into.flush()
    return size


def _copy_problem(exc: Exception) -> str:
    """What went wrong copying a video, in words for the page (no URLs, no internals)."""
    if isinstance(exc, ViduError):
        if exc.reason == "ResultExpired":
            return "Vidu's link to the video had expired"
        return exc.plain
    if isinstance(exc, httpx.TimeoutException):
        return "the download from Vidu timed out"
    if isinstance(exc, httpx.HTTPError):
        return "the download from Vidu failed"
    if isinstance(exc, av.error.FFmpegError):
        return "the file Vidu sent is not a playable video"
    return str(exc)


def fetch_result(generation_id: str) -> str:
    """Copy a finished generation's video and cover into our storage, and check them."""
    now = timezone.now()
    claimed = Generation.objects.filter(
        pk=generation_id, state=State.SUCCESS, result_status=ResultStatus.NONE
    ).update(result_status=ResultStatus.FETCHING, updated_at=now)
    if not claimed:
        return "not claimed"
    generation = Generation.objects.get(pk=generation_id)
    ours = Generation.objects.filter(pk=generation.pk, result_status=ResultStatus.FETCHING)
    problem = ""
    with ViduClient() as client, httpx.Client(timeout=120, follow_redirects=True) as http:
        for attempt in range(1, FETCH_ATTEMPTS + 1):
            # A heartbeat: the reconciler takes over copies whose worker went quiet.
            if not ours.update(updated_at=timezone.now()):
                return "taken over"
            try:
                # Fresh URLs every attempt: the provider's expire after 24 hours.
                task = client.query(generation.provider_task_id)
                if not task.creations:
                    raise ValueError("Vidu reported success but listed no video")
                for creation in task.creations:
                    _store_creation(generation, creation, http)
            except (ViduError, httpx.HTTPError, ValueError, av.error.FFmpegError) as exc:
                problem = _copy_problem(exc)
                log.info("fetch %s attempt %s: %s", generation.pk, attempt, exc)
                if attempt < FETCH_ATTEMPTS:
                    time.sleep(backoff(attempt))
                continue
            Generation.objects.filter(pk=generation.pk).update(
                result_status=ResultStatus.STORED, updated_at=timezone.now()
            )
            return "stored"
    # Only over our own claim: a copy that another worker stored meanwhile stays stored.
    ours.update(
        result_status=ResultStatus.UNAVAILABLE,
        error_message=f"The video could not be copied from Vidu: {problem}. The studio "
        "tries again every few minutes while Vidu keeps it (24 hours); you can also retry now.",
        updated_at=timezone.now(),
    )
    return "unavailable"


def _store_creation(generation: Generation, creation: schemas.CreationOut, http) -> None:
    if generation.creations.filter(provider_creation_id=creation.id).exists():
        return
    with tempfile.NamedTemporaryFile(suffix=".mp4") as video:
        video_size = _download(http, creation.url, video)
        facts = probe_video(video.name)
        record = Creation(
            generation=generation, provider_creation_id=creation.id, video_size=video_size, **facts
        )
        video.seek(0)
        record.video.save("video.mp4", File(video), save=False)
        if creation.cover_url:
            with tempfile.NamedTemporaryFile(suffix=".jpg") as cover:
                record.cover_size = _download(http, creation.cover_url, cover)
                cover.seek(0)
                record.cover.save("cover.jpg", File(cover), save=False)
        if creation.watermarked_url and generation.params.get("watermark"):
            with tempfile.NamedTemporaryFile(suffix=".mp4") as marked:
                _download(http, creation.watermarked_url, marked)
                probe_video(marked.name)
                marked.seek(0)
                record.watermarked.save("video-watermarked.mp4", File(marked), save=False)
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError:
            # Another worker stored the same creation first (a copy job recovered from
            # a worker that only looked dead): keep theirs.
            for stored in (record.video, record.cover, record.watermarked):
                if stored:
                    stored.delete(save=False)


class CannotCancel(Exception):
    """The message says why, in the user's words."""


def cancel(generation: Generation) -> str:
    """Cancel a generation if it can still be cancelled; return what happened."""
    if generation.state == State.QUEUED:
        if generation.advance(
            State.CANCELLED, "user", "cancelled before sending", error_reason="UserCancelled"
        ):
            return "Cancelled before it was sent to Vidu; nothing was charged."
        generation.refresh_from_db()  # the worker claimed it meanwhile
    if generation.state == State.SUBMITTING:
        raise CannotCancel("It is being sent to Vidu right now; try again in a moment.")
    if generation.is_terminal:
        raise CannotCancel(f"It has already ended ({generation.get_state_display().lower()}).")
    if generation.state == State.PROCESSING:
        raise CannotCancel("Vidu is already making this video; a running task cannot be cancelled.")
    if not generation.params.get("off_peak"):
        raise CannotCancel(
            "Vidu can cancel only off-peak tasks; this one was sent to be made at once."
        )
    with ViduClient() as client:
        try:
            client.cancel(generation.provider_task_id)
        except (Refused, Retryable) as exc:
            raise CannotCancel(f"Vidu did not cancel it: {exc.plain}") from None
    generation.advance(
        State.CANCELLED, "user", "cancelled at Vidu", credits=0, error_reason="UserCancelled"
    )
    return "Vidu cancelled the off-peak task; its credits are refunded."


def retry_fetch(generation: Generation) -> bool:
    """Try copying a result that could not be copied before."""
    moved = Generation.objects.filter(
        pk=generation.pk, state=State.SUCCESS, result_status=ResultStatus.UNAVAILABLE
    ).update(result_status=ResultStatus.NONE, error_message="", updated_at=timezone.now())
    if moved:
        enqueue_fetch(generation.pk)
    return bool(moved)
