"""The second pass of `make test`: the database, queue and concurrency tests again on
PostgreSQL and Redis (not the browser tests, nor those that start the embedded default
in a data directory of their own). Skipped with its reason when they are not reachable, unless
STUDIO_REQUIRE_SERVICES is set (CI), where that is a failure."""

import os
import socket
import subprocess
import sys
from urllib.parse import urlsplit

POSTGRES = os.environ.get("STUDIO_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/studio")
REDIS = os.environ.get("STUDIO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRED = os.environ.get("STUDIO_REQUIRE_SERVICES", "") in ("1", "true", "yes")


def unreachable(url: str, default_port: int) -> str | None:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or default_port), timeout=3):
            return None
    except OSError as exc:
        return f"{parts.scheme} at {parts.hostname}:{parts.port or default_port} ({exc})"


def main() -> int:
    problems = [p for p in (unreachable(POSTGRES, 5432), unreachable(REDIS, 6379)) if p]
    if problems:
        message = (
            "PostgreSQL and Redis pass skipped: not reachable: "
            + "; ".join(problems)
            + ". Set STUDIO_TEST_POSTGRES_URL and STUDIO_TEST_REDIS_URL to run it."
        )
        print(message, file=sys.stderr)
        return 1 if REQUIRED else 0
    env = dict(
        os.environ,
        DATABASE_URL=POSTGRES,
        REDIS_URL=REDIS,
        Q_CLUSTER_NAME=f"studio-test-{os.getpid()}",
    )
    print(
        f"== PostgreSQL and Redis pass ({urlsplit(POSTGRES).hostname}, {urlsplit(REDIS).hostname})",
        flush=True,
    )
    argv = [sys.executable, "-m", "pytest", "-m", "not browser and not embedded", *sys.argv[1:]]
    return subprocess.call(argv, env=env)


if __name__ == "__main__":
    sys.exit(main())
