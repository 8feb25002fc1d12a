"""What the studio's logs may say: no link that is itself a key.

A share link's, an invite's and an input image's token are the whole of their secret,
and a provider's result link carries its signature in its query: whoever reads the log
line could use them. Every record the studio logs (`RedactedRecords`, on the console
handler) and every line of gunicorn's access log (`AccessLog`) is written with them
replaced by "…". Imports nothing of Django, so gunicorn's master can load it.
"""

from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger

HIDDEN = "…"
# The path segment after these prefixes is a token (see studio/web/urls.py).
TOKEN_IN_PATH = re.compile(r"(/(?:s|invite|inputs)/)[^/?#\s\"']+")
# Query parameters that sign or authorise a link: Vidu's and S3's signed URLs, ours.
SECRET_IN_QUERY = re.compile(
    r"([?&](?:[\w.-]*(?:sig|signature|token|credential|key|policy|auth)[\w.-]*)=)[^&#\s\"']*",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """`text` with every token in a link and every signing parameter replaced."""
    if "/" not in text and "=" not in text:
        return text
    return SECRET_IN_QUERY.sub(rf"\g<1>{HIDDEN}", TOKEN_IN_PATH.sub(rf"\g<1>{HIDDEN}", text))


class RedactedRecords(logging.Filter):
    """A logging filter that writes each record's message redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class AccessLog(Logger):
    """gunicorn's logger, with tokens out of the request line, path, query and referrer."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U", "q", "f"):
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        for name, value in list(atoms.items()):
            if name.startswith("{") and name.endswith("}i") and isinstance(value, str):
                atoms[name] = redact(value)  # request headers, such as the referrer
        return atoms
