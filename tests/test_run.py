"""`make run`'s command as a person uses it: it starts the web server, the worker and the
simulator, creates the demo owner, and Ctrl-C stops every process it started."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, child_env, free_port

pytestmark = [pytest.mark.integration, pytest.mark.embedded]


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


def logs_in(base: str, username: str, password: str) -> bool:
    with httpx.Client(base_url=base, timeout=10) as http:
        form = http.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        answer = http.post(
            "/accounts/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base}/accounts/login/"},
        )
        return answer.status_code == 302


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
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
        wait_for(lambda: "Vidu Studio is ready: http" in output(), 90, "the ready line")
        time.sleep(1)  # what else would still come straight after it
        printed = output()
        password = re.search(r"Log in as  demo  with the password  (\S+)", printed).group(1)
        # The login is said once everything answers, and each start is said once.
        ready_at = printed.index("Vidu Studio is ready")
        assert "Listening at: http" in printed[:ready_at]  # the web server's own line
        for started in ("Following tasks at the provider.", "Vidu simulator listening on"):
            assert printed.count(started) == 1
        assert "AXES: BEGIN" not in printed
        assert "Enqueued" not in printed[ready_at:]  # the watchdog's probes stay quiet
        hint = re.search(r"to change it: (.+) changepassword demo", printed).group(1)
        # The printed hint works as typed, from where `make run` runs.
        help_text = subprocess.run(
            [*hint.split(), "help", "changepassword"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert help_text.returncode == 0, help_text.stderr

        def answers(url):
            try:
                return httpx.get(url, timeout=2).status_code
            except httpx.HTTPError:
                return None

        assert answers(f"http://127.0.0.1:{port}/accounts/login/") == 200
        assert answers(f"http://127.0.0.1:{sim_port}/_sim/stats") == 200
        assert logs_in(f"http://127.0.0.1:{port}", "demo", password)
        assert len(session_processes(run.pid)) >= 5  # the command, web, worker, simulator

        pressed = time.monotonic()
        os.killpg(run.pid, signal.SIGINT)
        assert run.wait(timeout=40) == 0
        wait_for(lambda: not session_processes(run.pid), 10, "every process to stop")
        # Well under the 30 s the web server and the worker would each wait out if a
        # child ignored the signal; a loaded machine stops it all in about 3 s.
        assert time.monotonic() - pressed < 10, "Ctrl-C should stop everything at once"
    finally:
        if run.poll() is None or session_processes(run.pid):
            os.killpg(run.pid, signal.SIGKILL)
        log.close()


def test_running_installs_only_what_runs(tmp_path):
    """`make run` on a fresh machine installs the studio, not the test tools."""

    def plan(target: str) -> str:
        return subprocess.run(
            ["make", "-n", target, f"VENV={tmp_path / 'venv'}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    installs = [line for line in plan("run").splitlines() if "pip install" in line]
    assert installs and all("[test]" not in line for line in installs), installs
    assert '-e ".[test]"' in plan("test")
