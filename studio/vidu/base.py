"""The provider boundary: what the studio sends and reads, whoever sells it Vidu.

A dialect (one module per provider, see `studio.vidu.registry`) turns a neutral
`Submission` into its own request (paths, auth header, body shape, model ids) and its
answers into one neutral `TaskView`. Paths, status names and error codes live only in
the dialect modules; the rest of the studio reads `TaskView` and `ProviderError`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

import httpx
from pydantic import BaseModel, ConfigDict

log = logging.getLogger(__name__)

# The neutral task states, in the order a task moves through them.
CREATED, QUEUEING, PROCESSING = "created", "queueing", "processing"
SUCCESS, FAILED, CANCELLED = "success", "failed", "cancelled"
TASK_STATES = (CREATED, QUEUEING, PROCESSING, SUCCESS, FAILED, CANCELLED)

CREDITS, USD = "credits", "usd"


class Lenient(BaseModel):
    """An answer as a provider sends it: the fields the studio reads, whatever else comes.

    Providers add fields without notice; an answer is never refused for one."""

    model_config = ConfigDict(extra="ignore")


@dataclass(frozen=True)
class Submission:
    """One generation, as the studio asks for it, in Vidu's own parameter names."""

    endpoint: str  # "img2video" or "start-end2video"
    model: str  # Vidu's model name, e.g. "viduq2-pro"
    images: tuple[str, ...]  # data URIs or URLs: the first frame, or start then end
    prompt: str = ""
    params: dict = field(default_factory=dict)  # duration, resolution, seed, bgm, ...
    payload: str = ""  # the studio's marker, echoed back where the provider keeps it
    callback_url: str | None = None

    def with_images(self, images) -> Submission:
        return Submission(
            self.endpoint,
            self.model,
            tuple(images),
            self.prompt,
            self.params,
            self.payload,
            self.callback_url,
        )


@dataclass(frozen=True)
class Cost:
    """What the provider says a task cost, in its own unit; never converted."""

    amount: Decimal
    unit: str  # CREDITS or USD

    @classmethod
    def of(cls, value, unit: str) -> Cost | None:
        """A cost from a provider's number or numeric string; None when unreadable."""
        if value is None or value == "" or isinstance(value, bool):
            return None
        try:
            amount = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            return None
        if not amount.is_finite():
            return None
        return cls(amount, unit)


@dataclass(frozen=True)
class Video:
    url: str
    cover_url: str = ""
    watermarked_url: str = ""
    id: str = ""  # the provider's id for this video, or a stable one we make


@dataclass(frozen=True)
class TaskView:
    """A provider's task, read into the studio's terms."""

    task_id: str
    state: str  # one of TASK_STATES
    videos: tuple[Video, ...] = ()
    cost: Cost | None = None
    reason: str = ""  # the provider's own code for a failure, for the record
    message: str = ""  # the failure in plain words, with the provider's reason
    payload: str = ""
    seed: int | None = None

    @property
    def finished(self) -> bool:
        return self.state in (SUCCESS, FAILED, CANCELLED)


class ProviderError(Exception):
    """The provider answered with an error, or not at all.

    `permanent`: sending the same request again will fail again. `maybe_sent`: the
    request may have reached the provider and been acted on (no answer came back).
    """

    permanent = False
    maybe_sent = False

    def __init__(self, reason: str, message: str = "", status: int = 0, plain: str = ""):
        super().__init__(f"{status} {reason}: {message}")
        self.reason, self.message, self.status = reason, message, status
        self.plain = plain or message or reason


class Refused(ProviderError):
    """A final 4xx: the provider will refuse the same request again."""

    permanent = True


class Retryable(ProviderError):
    """429, 5xx or a connection that failed: worth asking again later."""


class OutcomeUnknown(Retryable):
    """The request may have reached the provider, but no answer came back."""

    maybe_sent = True


class NotSupported(ProviderError):
    """The provider has no such call (a task list, cancel, callbacks)."""

    permanent = True


class Dialect:
    """One provider's way of speaking Vidu. Subclasses fill in the class attributes and
    the methods; `_call` does the HTTP and sorts failures into the errors above."""

    name = ""  # the VIDU_PROVIDER value
    label = ""  # the provider's name, as users know it
    default_base_url = ""
    # What the provider offers beyond create and query.
    finds_lost_tasks = False  # a create whose answer was lost can be looked up
    cancels = False  # off-peak tasks can be cancelled
    takes_callbacks = False  # it POSTs signed state changes to callback_url

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 30.0, transport=None):
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(
            base_url=self.base_url,
            headers={**self.auth_headers(api_key), "Content-Type": "application/json"},
            timeout=httpx.Timeout(timeout, connect=10),
            transport=transport,
        )

    def close(self) -> None:
        self.http.close()

    # what each dialect says

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key}"}

    def body(self, submission: Submission) -> dict:
        """The create request's JSON body."""
        raise NotImplementedError

    def create(self, submission: Submission) -> TaskView:
        raise NotImplementedError

    def query(self, task_id: str) -> TaskView:
        raise NotImplementedError

    # How many tasks one query call can answer for (a task list filtered by ids).
    batch_size = 1

    def query_many(self, task_ids: list[str], since: datetime | None = None) -> dict:
        """{task_id: TaskView} for as many of `task_ids` as one call answers; a dialect
        with batch_size 1 has no such call and is asked task by task instead."""
        raise NotSupported("NotSupported", f"{self.label} answers for one task at a time.")

    def cancel(self, task_id: str) -> None:
        raise NotSupported("NotSupported", f"{self.label} has no cancel call.")

    def find_by_payload(self, payload: str, since: datetime) -> TaskView | None:
        raise NotSupported("NotSupported", f"{self.label} cannot look a task up by payload.")

    def read_callback(self, body: bytes) -> TaskView:
        raise NotSupported("NotSupported", f"{self.label} sends no callbacks.")

    def error_from(self, status: int, data) -> tuple[str, str]:
        """(reason code, message) from an error answer's parsed JSON (or None)."""
        return read_error(data)

    def plain(self, reason: str, message: str) -> str:
        """A provider's refusal in the user's words, with its own reason."""
        return with_reason(f"{self.label} refused the request.", message or reason, self.label)

    # how a reading ends badly: an answer unread, a state unknown, a task failed

    def unreadable(self, detail: str, status: int = 0) -> OutcomeUnknown:
        """An answer the studio could not read: the provider may have acted on the call."""
        return OutcomeUnknown(
            "BadAnswer",
            detail,
            status,
            plain=f"{self.label} sent an answer the studio could not read.",
        )

    def unknown_state(self, detail: str, word: str = "status") -> OutcomeUnknown:
        """A task in a state (or `word`: what the provider calls it) the studio does not know."""
        return OutcomeUnknown(
            "UnknownState",
            detail,
            plain=f"{self.label} reported a {word} the studio does not know.",
        )

    def failure(
        self,
        code: str = "",
        said: str = "",
        *,
        meaning: str = "",
        plain: str = "",
        fallback: str = "Failed",
    ) -> tuple[str, str]:
        """A failed (or cancelled) task's `reason` and `message`, for its TaskView.

        The reason is the provider's code, for the record (`fallback` when it gave none).
        The message is `plain` when the studio has the code's own words for people, which
        stand alone; else that the task failed and `meaning`, what the studio knows the
        code to mean. Then what the provider `said`; with nothing to tell, that it gave no
        reason.
        """
        text = plain or " ".join(
            part for part in (f"{self.label} reported that the task failed.", meaning) if part
        )
        if not (plain or meaning or said):
            text += " It gave no reason."
        return code or fallback, with_reason(text, said, self.label)

    # plumbing

    def _call(self, method: str, path: str, **kwargs):
        try:
            response = self.http.request(method, path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # Nothing reached the provider.
            raise Retryable(
                "NetworkError",
                f"could not connect: {exc.__class__.__name__}",
                plain=f"{self.label} could not be reached.",
            ) from exc
        except httpx.TransportError as exc:
            # Sent, perhaps received: only the provider knows whether it acted on it.
            raise OutcomeUnknown(
                "NoAnswer",
                f"no answer: {exc.__class__.__name__}",
                plain=f"{self.label} did not answer.",
            ) from exc
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.is_success:
            if data is None:
                raise self.unreadable("the answer was not JSON", response.status_code)
            return data
        reason, message = self.error_from(response.status_code, data)
        reason = reason or f"HTTP{response.status_code}"
        message = message or response.reason_phrase
        plain = self.plain(reason, message)
        if response.status_code == 429:
            raise Retryable(reason, message, 429, plain=plain)
        if response.status_code >= 500:
            # The provider may have made the task before failing to answer.
            raise OutcomeUnknown(reason, message, response.status_code, plain=plain)
        raise Refused(reason, message, response.status_code, plain=plain)


def with_reason(text: str, reason: str, label: str = "It") -> str:
    """`text`, then the provider's own words when they add anything."""
    reason = (reason or "").strip()
    if not reason or reason in text:
        return text
    return f"{text} {label} said: {reason}"


def read_error(data) -> tuple[str, str]:
    """(code, message) from the error bodies gateways send: {"reason", "message"},
    {"error": {"code", "message"}}, {"code", "msg"}, {"detail"} and the like."""
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        inner = data["error"]
        return _text(inner.get("code") or inner.get("type")), _text(
            inner.get("message") or inner.get("error_message") or inner.get("msg")
        )
    if isinstance(data, dict):
        code = data.get("reason") or data.get("code") or data.get("error_code")
        message = (
            data.get("message")
            or data.get("msg")
            or data.get("error_message")
            or data.get("detail")
            or (data.get("error") if isinstance(data.get("error"), str) else "")
        )
        return _text(code), _text(message)
    if isinstance(data, str):
        return "", data[:500]
    return "", ""


def _text(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value)[:500]
    return str(value)[:500]


def unwrap(data) -> dict:
    """A gateway's answer, without the `{"data": {...}}` envelope some wrap it in."""
    if isinstance(data, dict) and isinstance(data.get("data"), dict) and len(data) <= 4:
        inner = data["data"]
        if not any(k in data for k in ("id", "task_id", "status", "state", "output")):
            return inner
    return data if isinstance(data, dict) else {}


def as_int(value) -> int | None:
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None
