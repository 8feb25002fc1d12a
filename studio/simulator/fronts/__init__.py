"""The dialects the simulator speaks, one module each; a simulator speaks one of them.

`official` is Vidu's own API; `octopusx`, `umodelverse`, `kkiai` and `vtrix` are the
gateways of seeds 000 to 003 (see ../shared/VIDU-API.md, section 3). Each front owns its
routes, auth, request models and bodies; `base` holds what they share.
"""

from __future__ import annotations

from ..config import DIALECTS
from .base import Front, Reply, Request, Service
from .kkiai import KkiaiFront
from .octopusx import OctopusxFront
from .official import OfficialFront
from .umodelverse import UModelverseFront
from .vtrix import VtrixFront

FRONTS: dict[str, type[Front]] = {
    front.name: front
    for front in (OfficialFront, OctopusxFront, UModelverseFront, KkiaiFront, VtrixFront)
}
assert tuple(FRONTS) == DIALECTS, "config.DIALECTS and the fronts must name the same dialects"


def make_front(dialect: str, service: Service) -> Front:
    try:
        return FRONTS[dialect](service)
    except KeyError:
        raise ValueError(f"Unknown dialect {dialect!r}; known: {', '.join(FRONTS)}.") from None


__all__ = ["FRONTS", "Front", "Reply", "Request", "Service", "make_front"]
