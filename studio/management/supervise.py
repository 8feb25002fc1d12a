"""`make run`'s supervisor: it keeps each of the studio's processes running on its own.

Each program runs as the leader of its own process group, so whatever it forks (a
qcluster's workers, gunicorn's) is stopped with it. A program that exits is started
again, alone, after a pause that doubles with each exit in the last minute (1 s, 2 s,
4 s, ...); the others carry on. One that exits `give_up_after` times within `within`
seconds will not run here, so the supervisor stops everything and says why. A watchdog
may have its program restarted, its whole group SIGKILLed at once
(`studio.worker.health.QueueWatch`: the worker, when the job queue has stalled). `stop()` ends
every program in order: SIGTERM to each program's leader, which stops what it started in
its own orderly way, a grace period, then SIGKILL for whatever is left of each group.

SIGTERM goes to the leader alone, not its group: a django-q2 cluster whose sentinel is
killed by a SIGTERM of its own hangs in its orderly stop (it wakes the dead sentinel and
waits for an answer), while the leader alone stops the cluster in a second or two, its
workers finishing the job in hand.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)


class GaveUp(Exception):
    """A program keeps exiting as soon as it starts."""


class Watchdog(Protocol):
    program: str  # the name of the program it may have restarted
    every: float  # seconds between checks

    def started(self) -> None:
        """The program has just been (re)started."""

    def check(self) -> str | None:
        """Why the program must be restarted, or None."""


@dataclass
class Program:
    name: str
    argv: list[str]
    popen: subprocess.Popen | None = None
    started_at: float = 0.0
    restart_at: float | None = None  # when a program that exited starts again
    exits: deque = field(default_factory=deque)  # when it exited, within the window

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen is not None else None


class Supervisor:
    def __init__(
        self,
        programs: Sequence[tuple[str, list[str]]],
        *,
        env: dict | None = None,
        popen_options: dict | None = None,
        watchdog: Watchdog | None = None,
        say: Callable[[str], None] | None = None,
        give_up_after: int = 5,
        within: float = 60.0,
        first_pause: float = 1.0,
        longest_pause: float = 30.0,
        stop_timeout: float = 20.0,
    ):
        self.programs = [Program(name, list(argv)) for name, argv in programs]
        self.env = env
        self.popen_options = dict(popen_options or {})
        self.watchdog = watchdog
        self.say = say or log.warning
        self.give_up_after = give_up_after
        self.within = within
        self.first_pause = first_pause
        self.longest_pause = longest_pause
        self.stop_timeout = stop_timeout
        self.restarts: list[tuple[str, str]] = []  # (program, why), oldest first
        self._next_check = 0.0

    def __getitem__(self, name: str) -> Program:
        for program in self.programs:
            if program.name == name:
                return program
        raise KeyError(name)

    def start(self) -> Supervisor:
        for program in self.programs:
            self._start(program)
        return self

    def run(self, stopping: threading.Event, tick: float = 0.5) -> None:
        """Supervise until `stopping` is set (GaveUp when a program keeps exiting); the
        caller then calls `stop()`."""
        while not stopping.is_set():
            self.poll()
            stopping.wait(tick)

    def poll(self) -> None:
        """One round: start again what exited (when its pause is over), ask the watchdog."""
        now = time.monotonic()
        for program in self.programs:
            if program.popen is None:
                if program.restart_at is not None and now >= program.restart_at:
                    self._start(program)
                continue
            code = program.popen.poll()
            if code is None:
                continue
            _signal_group(program.popen, signal.SIGKILL)  # whatever it left behind
            program.exits.append(now)
            while program.exits and program.exits[0] < now - self.within:
                program.exits.popleft()
            if len(program.exits) >= self.give_up_after:
                raise GaveUp(
                    f"{program.name} exited {len(program.exits)} times within "
                    f"{self.within:g} s (last with {code}); stopping everything."
                )
            pause = min(self.longest_pause, self.first_pause * 2 ** (len(program.exits) - 1))
            self.say(f"{program.name} exited with {code}; starting it again in {pause:g} s.")
            self.restarts.append((program.name, f"exited with {code}"))
            program.popen, program.restart_at = None, now + pause
        self._watch(now)

    def _watch(self, now: float) -> None:
        watchdog = self.watchdog
        if watchdog is None or now < self._next_check:
            return
        self._next_check = now + watchdog.every
        program = self[watchdog.program]
        if program.popen is None or program.popen.poll() is not None:
            return  # not running: it is being started again anyway
        try:
            reason = watchdog.check()
        except Exception as error:  # the database busy or away: look again next time
            self.say(f"The {program.name}'s watchdog could not check: {error}")
            return
        if reason:
            self.say(f"Restarting the {program.name}: {reason}.")
            self.restart(program.name, reason)

    def restart(self, name: str, why: str) -> None:
        """SIGKILL one program's whole group and start it again: for a program that is
        stuck (a queue where nothing has run for a while), which an orderly stop would
        wait for forever, and which has nothing under way to cut short."""
        program = self[name]
        if program.popen is not None:
            _signal_group(program.popen, signal.SIGKILL)
            program.popen.wait()
        self.restarts.append((name, why))
        self._start(program)

    def stop(self) -> None:
        """Stop every program, in order: SIGTERM to each, wait, then SIGKILL each group."""
        running = [p.popen for p in self.programs if p.popen is not None]
        for popen in running:
            if popen.poll() is None:
                popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for popen in running:
            try:
                popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for popen in running:
            # Whatever is left of a group (a worker its master no longer answers for).
            _signal_group(popen, signal.SIGKILL)
            popen.wait()

    def _start(self, program: Program) -> None:
        # Its own process group: Ctrl-C reaches only the supervisor, which then stops
        # every program and whatever each forked, in order.
        program.popen = subprocess.Popen(
            program.argv, env=self.env, process_group=0, **self.popen_options
        )
        program.started_at, program.restart_at = time.monotonic(), None
        if self.watchdog is not None and program.name == self.watchdog.program:
            # The new process needs a moment before the watchdog judges it.
            self._next_check = program.started_at + self.watchdog.every
            try:
                self.watchdog.started()
            except Exception as error:
                self.say(f"The {program.name}'s watchdog could not start a check: {error}")


def _signal_group(popen: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(popen.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass
