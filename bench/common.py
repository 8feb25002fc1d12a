"""What several benchmarks share: the PostgreSQL server they measure on, and the bare
logged-in view each poll or page is measured against."""

from __future__ import annotations

import os
import sys
import types

PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/")


def postgres(sql: str) -> str | None:
    """Run `sql` on the server's maintenance database; the problem, if it failed."""
    try:
        import psycopg

        with psycopg.connect(
            PG_SERVER.rstrip("/") + "/postgres", autocommit=True, connect_timeout=3
        ) as conn:
            conn.execute(sql)
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
    return None


def bare_view_urlconf() -> str:
    """The product's URLs plus a bare logged-in view, the baseline: only in this run."""
    from django.contrib.auth.decorators import login_required
    from django.http import HttpResponse
    from django.urls import path

    from studio.web import urls

    @login_required
    def bare(request):
        return HttpResponse("ok")

    module = types.ModuleType("bench_bare_urls")
    module.urlpatterns = [path("bench/bare/", bare, name="bench_bare"), *urls.urlpatterns]
    sys.modules[module.__name__] = module
    return module.__name__
