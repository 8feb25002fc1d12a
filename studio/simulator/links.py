"""Signed, expiring result URLs: `/files/<task>/<name>?expires=<unix>&n=<nonce>&sig=<hmac>`.

Every query mints fresh URLs (a new nonce and signature), as the provider's storage does,
so a client whose link has expired can always get a working one by asking again.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import OrderedDict
from urllib.parse import urlencode

from .faults import Faults

FILES = {
    "video.mp4": "video/mp4",
    "video-watermarked.mp4": "video/mp4",
    "cover.jpg": "image/jpeg",
}
REMEMBERED_FETCHES = 100_000


class ResultLinks:
    def __init__(self, ttl: int, faults: Faults, secret: bytes | None = None):
        self.ttl = ttl
        self.faults = faults
        self._secret = secret or secrets.token_bytes(32)
        self._fetched: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def _signature(self, task_id: str, name: str, expires: str, nonce: str) -> str:
        message = f"{task_id}/{name}|{expires}|{nonce}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def url(self, base: str, task_id: str, name: str) -> str:
        expires = str(math.ceil(time.time() + self.ttl))  # valid for at least `ttl` seconds
        nonce = secrets.token_hex(6)
        query = urlencode(
            {"expires": expires, "n": nonce, "sig": self._signature(task_id, name, expires, nonce)}
        )
        return f"{base}/files/{task_id}/{name}?{query}"

    def refusal(self, task_id: str, name: str, query: dict[str, str]) -> str | None:
        """Why this fetch is refused (403), or None when the link is good."""
        expires, nonce, given = query.get("expires", ""), query.get("n", ""), query.get("sig", "")
        expected = self._signature(task_id, name, expires, nonce)
        if not given or not hmac.compare_digest(expected, given):
            return "The link's signature is not valid."
        try:
            deadline = int(expires)
        except ValueError:
            return "The link's signature is not valid."
        if time.time() > deadline:
            return "The link has expired; query the task again for a fresh one."
        with self._lock:
            seen = given in self._fetched
            self._fetched[given] = None
            self._fetched.move_to_end(given)
            while len(self._fetched) > REMEMBERED_FETCHES:
                self._fetched.popitem(last=False)
        if seen and self.faults.hit("result_expired"):
            return "The link has expired; query the task again for a fresh one."
        return None
