"""A local Vidu-compatible API server, for development and tests.

One simulator speaks one dialect: the official ent/v2 API or one of the gateways of the
seeds (`Simulator(dialect=...)`, VIDU_SIM_DIALECT). Modules, one job each: `config`
(settings from arguments and VIDU_SIM_*), `faults` (fault injection), `fronts` (one module
per dialect: routes, auth, request models, bodies), `intake` (the per-model checks every
dialect shares), `images` (loading and checking input images), `engine` (the neutral
tasks and scheduler), `render` (the MP4 and cover), `links` (signed result URLs),
`callbacks` (signed callback delivery), `handler` (HTTP), `server` (`Simulator`).
"""

from .config import DIALECTS, Config
from .faults import FAULTS, FaultSpecError
from .server import Simulator

__all__ = ["DIALECTS", "FAULTS", "Config", "FaultSpecError", "Simulator"]
