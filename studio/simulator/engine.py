"""Tasks in memory (and on disk, given a store) and the one scheduler thread that moves
them through their states.

The engine is neutral: it knows Vidu's states and err_codes, not any dialect's words.
Each front (`fronts/`) translates its requests into `Board.create` and renders `Task`s.

created -> queueing -> processing -> success (or failed), one step every `seconds`. At most
`concurrency` tasks are processing at once; the rest wait in queueing, oldest first.
Off-peak tasks wait longer in the queue. Rendering runs in a small thread pool and a task
only succeeds once its render is done and its step time has passed.

With a `store.TaskStore`, every task is written down when it is made and at each change,
and a board started on the same store takes them up again: tasks in flight carry on
(a render cut short is made again) and finished ones keep their files.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import render
from .config import Config
from .faults import Faults
from .store import TaskStore

log = logging.getLogger("studio.simulator")

CREATED, QUEUEING, PROCESSING, SUCCESS, FAILED = (
    "created",
    "queueing",
    "processing",
    "success",
    "failed",
)
STATES = (CREATED, QUEUEING, PROCESSING, SUCCESS, FAILED)
FINISHED = (SUCCESS, FAILED)
RENDER_WORKERS = 2
POLICY_FAILURE = "CreationPolicyViolation"
RENDER_FAILURE = "InternalServiceFailure"
CANCELLED = "UserCancelled"

_ids = random.SystemRandom()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(eq=False)  # tasks are compared by identity
class Task:
    id: str
    seq: int
    endpoint: str
    model: str
    prompt: str
    images: list[str]  # placeholders echoed back, never the image data
    duration: int
    seed: int
    resolution: str
    bgm: bool
    audio: bool
    movement_amplitude: str
    payload: str
    off_peak: bool
    credits: int
    watermark: bool
    callback_url: str
    origin: str  # the base URL the client reached us on; result URLs use it
    created_at: datetime
    changed_at: datetime  # the last state change (the creation, at first)
    state: str = CREATED
    err_code: str = ""
    doomed: str = ""  # err_code the task_failed fault will end it with
    image_data: list[bytes] = field(default_factory=list, repr=False)
    next_step_at: float = 0.0
    render_future: Future | None = field(default=None, repr=False)
    rendered: render.Rendered | None = None
    # What a front wants echoed back that the engine never reads (a gateway's own model
    # name, fields only one dialect answers with).
    echo: dict = field(default_factory=dict)

    def copy(self) -> Task:
        return dataclasses.replace(self)

    def public(self) -> dict:
        """Everything about the task except the image bytes and the render's handle."""
        return {
            "id": self.id,
            "endpoint": self.endpoint,
            "state": self.state,
            "err_code": self.err_code,
            "model": self.model,
            "prompt": self.prompt,
            "images": list(self.images),
            "duration": self.duration,
            "seed": self.seed,
            "resolution": self.resolution,
            "bgm": self.bgm,
            "audio": self.audio,
            "movement_amplitude": self.movement_amplitude,
            "payload": self.payload,
            "off_peak": self.off_peak,
            "credits": self.credits,
            "watermark": self.watermark,
            "callback_url": self.callback_url,
            "created_at": iso(self.created_at),
            "changed_at": iso(self.changed_at),
            "echo": dict(self.echo),
        }


class Board:
    """All tasks, one lock, one scheduler thread, a render pool."""

    def __init__(
        self,
        config: Config,
        faults: Faults,
        storage: Path,
        on_change: Callable[[Task], None] | None = None,
        store: TaskStore | None = None,
    ):
        self.config = config
        self.faults = faults
        self.storage = storage
        self.store = store
        self.on_change = on_change or (lambda task: None)
        self._lock = threading.Lock()
        self._tasks: dict[str, Task] = {}
        self._active: list[Task] = []  # not finished, in creation order
        self._seq = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(RENDER_WORKERS, thread_name_prefix="vidu-sim-render")
        self._renders = {"done": 0, "failed": 0, "seconds": 0.0}
        self._resumed: list[Task] = []  # taken up from the store, announced at start
        if store is not None:
            self._load()

    # lifecycle

    def start(self) -> None:
        with self._lock:
            for task in self._active:
                if task.state == PROCESSING and not task.doomed:
                    task.render_future = self._pool.submit(self._render, task.copy())
            resumed, self._resumed = self._resumed, []
        self._announce(resumed)
        self._thread = threading.Thread(target=self._run, name="vidu-sim-scheduler", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        """Take up the tasks kept in the store; those in flight carry on from their state."""
        now = time.monotonic()
        for fields in self.store.load():
            task = Task(**fields)
            self._tasks[task.id] = task
            self._seq = max(self._seq, task.seq)
            if task.state in FINISHED:
                continue
            task.next_step_at = now + self.config.seconds
            images = self.store.inputs(task.id)
            if images is None and not task.doomed:
                # Its images never reached the disk: it cannot be made, as a render failure.
                self._finish(task, FAILED, RENDER_FAILURE)
                self._resumed.append(task.copy())
                continue
            task.image_data = images or []
            self._active.append(task)
        if self._tasks:
            log.info("simulator took up %d kept task(s)", len(self._tasks))

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=True)

    # the API's operations

    def create(self, *, image_data: list[bytes], **fields) -> Task:
        doomed = POLICY_FAILURE if self.faults.hit("task_failed") else ""
        with self._lock:
            self._seq += 1
            task_id = self._new_id()
            now = datetime.now(UTC)
            task = Task(
                id=task_id,
                seq=self._seq,
                created_at=now,
                changed_at=now,
                image_data=image_data,
                doomed=doomed,
                next_step_at=time.monotonic() + self.config.seconds,
                **fields,
            )
            if self.store is not None:
                # On disk before the answer goes out, so a restart never loses a task a
                # client was told about (and a disk that refuses makes no task at all).
                self.store.save_inputs(task_id, image_data)
                self.store.save(task)
            self._tasks[task_id] = task
            self._active.append(task)
            return task.copy()

    def _new_id(self) -> str:
        while True:
            task_id = str(_ids.randrange(10**17, 10**18))  # 18 digits, like the provider's
            if task_id not in self._tasks:
                return task_id

    def get(self, task_id: str) -> Task | None:
        with self._lock:
            task = self._tasks.get(task_id)
            return task.copy() if task else None

    def cancel(self, task_id: str) -> tuple[Task | None, str]:
        """(the cancelled task, "") or (the task or None, why it cannot be cancelled)."""
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None:
                return None, "not found"
            if task.state in FINISHED:
                return task.copy(), f"The task has already finished ({task.state})."
            if task.state == PROCESSING:
                return task.copy(), "The task is already processing and can no longer be cancelled."
            if not task.off_peak:
                return task.copy(), (
                    "Only off-peak tasks can be cancelled before they run; "
                    "this task was not submitted off-peak."
                )
            self._finish(task, FAILED, CANCELLED)
            copy = task.copy()
        self._announce([copy])
        return copy, ""

    def tasks(self) -> list[Task]:
        """Copies of every task, newest first."""
        with self._lock:
            return [task.copy() for task in reversed(self._tasks.values())]  # dicts keep order

    def load(self) -> dict:
        with self._lock:
            states = dict.fromkeys(STATES, 0)
            for task in self._tasks.values():
                states[task.state] += 1
            charged = sum(task.credits for task in self._tasks.values())
            renders = dict(self._renders)
        return {
            "states": states,
            "tasks": sum(states.values()),
            "charged": charged,
            "renders": renders,
        }

    # the scheduler

    def _run(self) -> None:
        tick = max(0.005, min(0.05, self.config.seconds / 4))
        while not self._stop.wait(tick):
            try:
                self._announce(self._advance(time.monotonic()))
            except Exception:  # keep the clock running whatever one tick does
                log.exception("simulator scheduler tick failed")

    def _advance(self, now: float) -> list[Task]:
        changed = []
        step = self.config.seconds
        with self._lock:
            processing = sum(1 for task in self._active if task.state == PROCESSING)
            for task in list(self._active):
                if now < task.next_step_at:
                    continue
                if task.state == CREATED:
                    task.state = QUEUEING
                    task.changed_at = datetime.now(UTC)
                    steps = self.config.off_peak_queue_steps if task.off_peak else 1
                    task.next_step_at = now + step * steps
                    self._keep(task)
                    changed.append(task.copy())
                elif task.state == QUEUEING and processing < self.config.concurrency:
                    task.state = PROCESSING
                    task.changed_at = datetime.now(UTC)
                    task.next_step_at = now + step
                    processing += 1
                    if not task.doomed:
                        task.render_future = self._pool.submit(self._render, task.copy())
                    self._keep(task)
                    changed.append(task.copy())
                elif task.state == PROCESSING:
                    if task.doomed:
                        self._finish(task, FAILED, task.doomed)
                    elif task.render_future and task.render_future.done():
                        error = task.render_future.exception()
                        if error is None:
                            task.rendered = task.render_future.result()
                            self._finish(task, SUCCESS)
                        else:
                            log.error("render of task %s failed: %r", task.id, error)
                            self._finish(task, FAILED, RENDER_FAILURE)
                    else:
                        continue  # still rendering
                    processing -= 1
                    changed.append(task.copy())
        return changed

    def _finish(self, task: Task, state: str, err_code: str = "") -> None:
        """Call with the lock held."""
        task.state = state
        task.changed_at = datetime.now(UTC)
        task.err_code = err_code
        if state == FAILED:
            task.credits = 0  # refunded
        task.image_data = []
        task.render_future = None
        if task in self._active:
            self._active.remove(task)
        self._keep(task)
        if self.store is not None:
            self.store.drop_inputs(task.id)

    def _keep(self, task: Task) -> None:
        """Write the task down (with the lock held), when there is a store."""
        if self.store is None:
            return
        try:
            self.store.save(task)
        except OSError:
            log.exception("simulator could not keep task %s on disk", task.id)

    def _render(self, task: Task) -> render.Rendered:
        started = time.perf_counter()
        try:
            result = render.render(
                task.image_data,
                duration=task.duration,
                resolution=task.resolution,
                fps=self.config.fps,
                out_dir=self.storage / task.id,
                sound=task.audio or task.bgm,
            )
        except Exception:
            with self._lock:
                self._renders["failed"] += 1
            raise
        elapsed = time.perf_counter() - started
        with self._lock:
            self._renders["done"] += 1
            self._renders["seconds"] += elapsed
        log.debug("rendered task %s in %.2f s", task.id, elapsed)
        return result

    def _announce(self, changed: list[Task]) -> None:
        for task in changed:
            log.info(
                "task %s is %s%s",
                task.id,
                task.state,
                f" ({task.err_code})" if task.err_code else "",
            )
            try:
                self.on_change(task)
            except Exception:
                log.exception("simulator could not announce task %s", task.id)
