"""A local Vidu-compatible API server (official ent/v2 API), for development and tests.

Modules, one job each: `config` (settings from arguments and VIDU_SIM_*), `faults` (fault
injection), `intake` (checking create requests), `engine` (tasks and the scheduler),
`render` (the MP4 and cover), `links` (signed result URLs), `responses` (response bodies),
`callbacks` (signed callback delivery), `api` (HTTP routes), `server` (`Simulator`).
"""

from .config import Config
from .faults import FAULTS, FaultSpecError
from .server import Simulator

__all__ = ["FAULTS", "Config", "FaultSpecError", "Simulator"]
