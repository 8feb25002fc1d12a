"""Secrets never reach a log or an error report: the tokens of shared, invite and input
links, signed result URLs, and the passwords inside connection URLs."""

from __future__ import annotations

import logging
import sys

import pytest

from studio.logs import AccessLog, RedactedRecords, redact
from studio.web.reporting import StudioReporterFilter

TOKEN = "Zq3v_8LrQ1f2xY7wK0pS9mN4bT6cD5eA"


@pytest.mark.parametrize(
    "line",
    [
        f"GET /s/{TOKEN}/ HTTP/1.1",
        f"GET /s/{TOKEN}/video.mp4 HTTP/1.1",
        f"GET /invite/{TOKEN}/ HTTP/1.1",
        f"GET /inputs/{TOKEN}/0.png?expires=1700000000&signature={TOKEN} HTTP/1.1",
        f"fetch https://cdn.example.com/v.mp4?X-Amz-Signature={TOKEN}&X-Amz-Credential=AKIA",
    ],
)
def test_tokens_and_signatures_are_written_as_an_ellipsis(line):
    cleaned = redact(line)
    assert TOKEN not in cleaned and "AKIA" not in cleaned and "…" in cleaned


def test_other_lines_are_left_alone():
    line = "GET /generations/?q=bay&state=done HTTP/1.1"
    assert redact(line) == line


def test_every_log_record_is_redacted(caplog):
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactedRecords())
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", (f"/s/{TOKEN}/",), None
    )
    handler.filter(record)
    assert TOKEN not in record.getMessage()


def test_the_settings_put_the_filter_on_the_console():
    from django.conf import settings

    assert "redacted" in settings.LOGGING["handlers"]["console"]["filters"]


def test_gunicorns_access_log_line_has_no_token():
    class Config:
        access_log_format = '%(h)s "%(r)s" %(s)s "%(f)s"'
        errorlog = "-"
        loglevel = "info"
        accesslog = None
        syslog = False
        logconfig = None
        logconfig_dict = {}
        logconfig_json = None
        capture_output = False
        disable_redirect_access_to_syslog = False
        user = 0
        group = 0

        def __getattr__(self, name):
            return None

    class Response:
        status = "200 OK"
        sent = 10
        headers = []

    class Request:
        headers = [("REFERER", f"https://studio.example/s/{TOKEN}/")]

    environ = {
        "REMOTE_ADDR": "203.0.113.7",
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/s/{TOKEN}/video.mp4",
        "PATH_INFO": f"/s/{TOKEN}/video.mp4",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://studio.example/s/{TOKEN}/",
    }
    from datetime import timedelta

    logger = AccessLog.__new__(AccessLog)
    logger.cfg = Config()
    atoms = logger.atoms(Response(), Request(), environ, timedelta(milliseconds=5))
    line = Config.access_log_format % atoms
    assert TOKEN not in line and "/s/…/video.mp4" in line


def test_a_debug_report_hides_the_passwords_inside_connection_urls(settings):
    settings.DATABASE_URL = "postgres://studio:hunter2-db@db.internal:5432/studio"
    settings.REDIS_URL = "redis://:hunter2-redis@cache.internal:6379/0"
    settings.Q_CLUSTER = {"name": "studio", "redis": "redis://:hunter2-redis@cache.internal/0"}
    settings.CACHES = {
        "default": {"BACKEND": "x", "LOCATION": "redis://:hunter2-redis@cache.internal:6379/0"}
    }
    settings.STUDIO_ANYTHING_URL = "https://user:hunter2-other@example.com/"
    report = str(StudioReporterFilter().get_safe_settings())
    assert "hunter2" not in report
    assert "cache.internal" in report  # the rest of the URL still helps whoever debugs
