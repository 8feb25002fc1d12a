"""Fault injection: which failures the simulator plays, how often, and how many it played.

A spec is `name=probability` pairs separated by commas, for example
`submit_error=0.1,callback_drop=0.3`. Every decision is `random() < p` from one generator
that `VIDU_SIM_SEED` makes reproducible.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping

FAULTS = {
    "submit_error": "a create call answers 500 InternalServiceFailure; no task is made",
    "submit_throttle": "a create call answers 429 QuotaExceeded; no task is made",
    "submit_timeout": "the task is made and charged, but the answer never comes back",
    "query_error": "a task query answers 500 InternalServiceFailure",
    "callback_drop": "a callback is not sent (each attempt decides on its own)",
    "callback_duplicate": "a callback is sent twice",
    "callback_reorder": "a callback is held back 1-2 s, so a later one may overtake it",
    "result_expired": "a result URL answers 403 once it has been fetched",
    "task_failed": "the task ends failed (CreationPolicyViolation), credits refunded",
}


class FaultSpecError(ValueError):
    pass


def parse(spec: str | Mapping[str, float] | None) -> dict[str, float]:
    """Probabilities by fault name from a spec string or mapping; unknown names raise."""
    if not spec:
        return {}
    if isinstance(spec, Mapping):
        pairs = list(spec.items())
    else:
        pairs = []
        for item in spec.split(","):
            item = item.strip()
            if not item:
                continue
            name, sep, value = item.partition("=")
            if not sep:
                raise FaultSpecError(f"Fault {item!r} needs a probability, e.g. {item}=0.1.")
            pairs.append((name.strip(), value.strip()))
    probabilities = {}
    for name, value in pairs:
        if name not in FAULTS:
            known = ", ".join(FAULTS)
            raise FaultSpecError(f"Unknown fault {name!r}; the simulator knows {known}.")
        try:
            probability = float(value)
        except (TypeError, ValueError):
            raise FaultSpecError(f"Fault {name} has probability {value!r}, not a number.") from None
        if not 0 <= probability <= 1:
            raise FaultSpecError(f"Fault {name} has probability {probability}; use 0 to 1.")
        probabilities[name] = probability
    return probabilities


class Faults:
    """Decides whether to inject each fault and counts the ones injected (thread-safe)."""

    def __init__(self, spec: str | Mapping[str, float] | None = None, seed: int | None = None):
        self.probabilities = parse(spec)
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(FAULTS, 0)

    def hit(self, name: str) -> bool:
        """Whether to inject `name` this time; counts it when so."""
        if name not in FAULTS:
            raise KeyError(name)
        probability = self.probabilities.get(name, 0.0)
        if probability <= 0:
            return False
        with self._lock:
            if self._random.random() < probability:
                self._counts[name] += 1
                return True
        return False

    def uniform(self, low: float, high: float) -> float:
        with self._lock:
            return self._random.uniform(low, high)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)
