"""Deliver signed callbacks from a small pool, with the provider's retries and our faults.

Each POST is signed when it is sent (`signatures.sign_headers`), so a retry or a duplicate
carries a fresh Date and nonce, as a real redelivery would. `success` and `failed` are
retried up to three more times when delivery fails; `processing` is sent once.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from studio.vidu.signatures import sign_headers

from .faults import Faults

log = logging.getLogger("studio.simulator")

WORKERS = 4
TIMEOUT = 10.0
RETRY_BACKOFF = (0.5, 1.0, 2.0)  # before the 2nd, 3rd and 4th attempt
REORDER_DELAY = (1.0, 2.0)


class CallbackSender:
    def __init__(self, api_key: str, faults: Faults):
        self.api_key = api_key
        self.faults = faults
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="vidu-sim-callback")
        self._client = httpx.Client(timeout=TIMEOUT)
        self._lock = threading.Lock()
        self._counts = {"posted": 0, "delivered": 0, "refused": 0, "dropped": 0, "gave_up": 0}

    def send(self, url: str, body: dict, *, final: bool) -> None:
        """Queue one callback; `final` (success, failed) gets retries."""
        if self._stop.is_set():
            return
        try:
            self._pool.submit(self._deliver, url, json.dumps(body).encode(), final)
        except RuntimeError:  # the pool has shut down
            pass

    def stop(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def _deliver(self, url: str, data: bytes, final: bool) -> None:
        if self.faults.hit("callback_reorder"):
            if self._stop.wait(self.faults.uniform(*REORDER_DELAY)):
                return
        attempts = 1 + (len(RETRY_BACKOFF) if final else 0)
        for attempt in range(attempts):
            if attempt and self._stop.wait(RETRY_BACKOFF[attempt - 1]):
                return
            if self.faults.hit("callback_drop"):
                self._count("dropped")
                continue
            delivered = self._post(url, data)
            if self.faults.hit("callback_duplicate"):
                delivered = self._post(url, data) or delivered
            if delivered:
                return
        self._count("gave_up")
        log.warning("callback to %s not delivered after %d attempt(s)", url, attempts)

    def _post(self, url: str, data: bytes) -> bool:
        if self._stop.is_set():
            return False
        headers = sign_headers(self.api_key, url)
        headers["Content-Type"] = "application/json"
        self._count("posted")
        try:
            answer = self._client.post(url, content=data, headers=headers)
        except Exception as error:  # network errors, or the client closed at stop
            log.info("callback to %s failed: %r", url, error)
            self._count("refused")
            return False
        if 200 <= answer.status_code < 300:
            self._count("delivered")
            return True
        log.info("callback to %s answered %s", url, answer.status_code)
        self._count("refused")
        return False
