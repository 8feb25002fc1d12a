"""The simulator's settings: constructor arguments first, then VIDU_SIM_* variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import faults as faults_module

# The wire formats a simulator can speak, one per instance; `fronts.FRONTS` implements them.
DIALECTS = ("official", "octopusx", "umodelverse", "kkiai", "vtrix")
DEFAULT_DIALECT = "official"


@dataclass(frozen=True)
class Config:
    dialect: str = DEFAULT_DIALECT
    api_key: str = "sim-key"
    seconds: float = 2.0  # per state step
    fps: int = 24
    faults: dict[str, float] = field(default_factory=dict)
    concurrency: int = 5
    url_ttl: int = 86400  # seconds a result URL stays valid
    storage_dir: str | None = None  # tasks and videos kept there; None: a temporary one
    seed: int | None = None  # makes fault decisions reproducible
    timeout_hold: float = 35.0  # how long submit_timeout holds the connection
    off_peak_queue_steps: int = 3  # off-peak tasks wait this many steps in queueing

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> Config:
        """Arguments that are not None win; otherwise VIDU_SIM_*; otherwise the default."""
        env = os.environ if env is None else env
        if not env.get("VIDU_SIM_STORAGE_DIR", "").strip() and env.get("VIDU_SIM_STORAGE"):
            env = {**env, "VIDU_SIM_STORAGE_DIR": env["VIDU_SIM_STORAGE"]}  # its older name
        readers = {
            "dialect": ("VIDU_SIM_DIALECT", str),
            "api_key": ("VIDU_SIM_API_KEY", str),
            "seconds": ("VIDU_SIM_SECONDS", float),
            "fps": ("VIDU_SIM_FPS", int),
            "faults": ("VIDU_SIM_FAULTS", str),
            "concurrency": ("VIDU_SIM_CONCURRENCY", int),
            "url_ttl": ("VIDU_SIM_URL_TTL", int),
            "storage_dir": ("VIDU_SIM_STORAGE_DIR", str),
            "seed": ("VIDU_SIM_SEED", int),
            "timeout_hold": ("VIDU_SIM_TIMEOUT_HOLD", float),
        }
        values = {}
        for name, (variable, kind) in readers.items():
            value = overrides.pop(name, None)
            if value is None and env.get(variable, "").strip():
                try:
                    value = kind(env[variable].strip())
                except ValueError:
                    message = f"{variable}={env[variable]!r} is not a valid {kind.__name__}."
                    raise ValueError(message) from None
            if value is not None:
                values[name] = value
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["faults"] = faults_module.parse(values.get("faults"))
        if "dialect" in values:
            values["dialect"] = values["dialect"].strip().lower()
        config = cls(**values)
        config.check()
        return config

    def check(self) -> None:
        if self.dialect not in DIALECTS:
            raise ValueError(
                f"Unknown dialect {self.dialect!r}; the simulator speaks {', '.join(DIALECTS)}."
            )
        if not self.api_key:
            raise ValueError("The simulator needs an API key.")
        if self.seconds < 0:
            raise ValueError("VIDU_SIM_SECONDS must be 0 or more.")
        if self.fps < 1:
            raise ValueError("VIDU_SIM_FPS must be at least 1.")
        if self.concurrency < 1:
            raise ValueError("VIDU_SIM_CONCURRENCY must be at least 1.")
        if self.url_ttl < 1:
            raise ValueError("VIDU_SIM_URL_TTL must be at least 1 second.")
