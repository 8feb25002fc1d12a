from django.conf import settings
from django.utils.functional import SimpleLazyObject

from studio.access import memberships, pick_membership
from studio.addresses import public_base
from studio.web.views import polls


def studio(request) -> dict:
    """For every page: the simulator banner, the teams to switch between, and the base
    URL that links sent outside (invites, shares) start with."""

    return {
        "using_simulator": settings.VIDU_USING_SIMULATOR,
        # Lazy, so a page that shows no team menu makes no query for it.
        "my_memberships": SimpleLazyObject(lambda: memberships(request)),
        "current_membership": SimpleLazyObject(lambda: pick_membership(request)),
        "public_base": SimpleLazyObject(lambda: public_base(request)),
        # Lazy: only pages with a poller sign one.
        "poll_token": SimpleLazyObject(lambda: polls.token_for(request)),
    }
