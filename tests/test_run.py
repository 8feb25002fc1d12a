"""`make run`'s command as a person uses it: it starts the web server, the worker and the
simulator, creates the demo owner, and Ctrl-C stops every process it started."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, child_env, free_port

pytestmark = pytest.mark.integration


def session_processes(session: int) -> list[int]:
    """Live processes of a session (Linux: read from /proc)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads process sessions from /proc")
def test_it_serves_everything_and_ctrl_c_stops_it_all(tmp_path):
    port, sim_port = free_port(), free_port()
    env = child_env(STUDIO_DATA_DIR=tmp_path, PORT=port, VIDU_SIM_PORT=sim_port)
    env.pop("DATABASE_URL", None)  # the embedded default, in its own data directory
    env.pop("REDIS_URL", None)
    log = open(tmp_path / "run.log", "w")  # noqa: SIM115
    # Its own session, as a terminal would run it; SIGINT to the group is Ctrl-C.
    run = subprocess.Popen(
        [sys.executable, "manage.py", "studio_run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output = lambda: (tmp_path / "run.log").read_text()  # noqa: E731
        wait_for(lambda: "Vidu Studio on http" in output(), 60, "the start line")
        assert "Created team Demo with owner 'demo', password: " in output()

        def answers(url):
            try:
                return httpx.get(url, timeout=2).status_code
            except httpx.HTTPError:
                return None

        assert (
            wait_for(
                lambda: answers(f"http://127.0.0.1:{port}/accounts/login/"), 30, "the web server"
            )
            == 200
        )
        assert (
            wait_for(
                lambda: answers(f"http://127.0.0.1:{sim_port}/_sim/stats"), 30, "the simulator"
            )
            == 200
        )
        assert len(session_processes(run.pid)) >= 5  # the command, web, worker, simulator

        os.killpg(run.pid, signal.SIGINT)
        assert run.wait(timeout=40) == 0
        wait_for(lambda: not session_processes(run.pid), 10, "every process to stop")
    finally:
        if run.poll() is None or session_processes(run.pid):
            os.killpg(run.pid, signal.SIGKILL)
        log.close()
