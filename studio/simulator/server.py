"""`Simulator`: the server's lifecycle, for tests (in a background thread) and the command.

sim = Simulator(port=0, seconds=0.1, fps=8).start()
httpx.get(f"{sim.base_url}/ent/v2/credits", headers={"Authorization": "Token sim-key"})
sim.stop()

One simulator speaks one dialect: `Simulator(dialect="vtrix")`, else VIDU_SIM_DIALECT, else
"official". Its front (`fronts/`) turns that dialect's requests into tasks on the board.

Given a storage directory (`storage_dir`, else VIDU_SIM_STORAGE_DIR), the simulator keeps
its tasks there (`store`) and a simulator started again on it takes them up: tasks in
flight carry on, finished ones keep their videos, and result links it gave out still
work. Without one, it works in a temporary directory and forgets everything at stop.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path

from . import faults as faults_module
from .callbacks import CallbackSender
from .config import Config
from .engine import FAILED, PROCESSING, SUCCESS, Board, Task
from .fronts import make_front
from .handler import SimulatorHTTPServer
from .links import ResultLinks
from .store import TaskStore

log = logging.getLogger("studio.simulator")

CALLBACK_STATES = (PROCESSING, SUCCESS, FAILED)


class Simulator:
    """A Vidu-compatible API server. Arguments left None come from VIDU_SIM_*."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        dialect: str | None = None,
        api_key: str | None = None,
        seconds: float | None = None,
        fps: int | None = None,
        faults: str | Mapping[str, float] | None = None,
        concurrency: int | None = None,
        url_ttl: int | None = None,
        storage_dir: str | Path | None = None,
        seed: int | None = None,
        timeout_hold: float | None = None,
        env: Mapping[str, str] | None = None,
    ):
        self.config = Config.from_env(
            env,
            dialect=dialect,
            api_key=api_key,
            seconds=seconds,
            fps=fps,
            faults=faults,
            concurrency=concurrency,
            url_ttl=url_ttl,
            storage_dir=str(storage_dir) if storage_dir is not None else None,
            seed=seed,
            timeout_hold=timeout_hold,
        )
        self.host, self.port = host, port
        self.faults = faults_module.Faults(self.config.faults, self.config.seed)
        self._own_storage = not self.config.storage_dir
        self.storage = (
            Path(tempfile.mkdtemp(prefix="vidu-sim-"))
            if self._own_storage
            else Path(self.config.storage_dir)
        )
        self.storage.mkdir(parents=True, exist_ok=True)
        self.store = None if self._own_storage else TaskStore(self.storage)
        self.stopping = threading.Event()
        self._calls: dict[str, int] = {}  # API calls by method, for the benchmarks
        self._calls_lock = threading.Lock()
        self.links = ResultLinks(
            self.config.url_ttl, self.faults, self.store.secret() if self.store else None
        )
        self.callbacks = CallbackSender(self.config.api_key, self.faults)
        self.board = Board(
            self.config, self.faults, self.storage, on_change=self._task_changed, store=self.store
        )
        self.front = make_front(self.config.dialect, self)
        self._httpd: SimulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Simulator:
        """Serve in a background thread; returns self once it accepts connections."""
        self._httpd = SimulatorHTTPServer((self.host, self.port), self)
        self.board.start()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="vidu-sim-http",
            daemon=True,
        )
        self._thread.start()
        # The command prints its own line for people; this one is for the debug log.
        log.debug(
            "Vidu simulator listening on %s (%s dialect, storage %s)",
            self.base_url,
            self.dialect,
            self.storage,
        )
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.close_connections()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.board.stop()
        self.callbacks.stop()
        if self._own_storage:
            shutil.rmtree(self.storage, ignore_errors=True)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def dialect(self) -> str:
        return self.config.dialect

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) the server is bound to; the port is real even when 0 was asked."""
        if self._httpd is None:
            raise RuntimeError("The simulator has not been started.")
        host, port = self._httpd.server_address[:2]
        return host, port

    @property
    def base_url(self) -> str:
        host, port = self.address
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        return f"http://{host}:{port}"

    def task(self, task_id: str) -> Task | None:
        return self.board.get(task_id)

    def hold(self) -> None:
        self.stopping.wait(self.config.timeout_hold)

    def tasks(self) -> list[dict]:
        """A snapshot of every task the simulator accepted, newest first."""
        return [task.public() for task in self.board.tasks()]

    def count_call(self, method: str) -> None:
        with self._calls_lock:
            self._calls[method] = self._calls.get(method, 0) + 1

    def stats(self) -> dict:
        load = self.board.load()
        with self._calls_lock:
            calls = dict(self._calls)
        return {
            "api_calls": {"total": sum(calls.values()), **calls},
            "faults": self.faults.counts(),
            "tasks": load["tasks"],
            "states": load["states"],
            "credits_charged": load["charged"],
            "callbacks": self.callbacks.counts(),
            "renders": load["renders"],
            "config": {
                "dialect": self.config.dialect,
                "seconds": self.config.seconds,
                "fps": self.config.fps,
                "concurrency": self.config.concurrency,
                "url_ttl": self.config.url_ttl,
                "faults": self.config.faults,
            },
        }

    def _task_changed(self, task: Task) -> None:
        """Called by the scheduler (outside its lock) after each state change."""
        if self.front.sends_callbacks and task.callback_url and task.state in CALLBACK_STATES:
            body = self.front.callback_body(task)
            self.callbacks.send(task.callback_url, body, final=task.state != PROCESSING)
