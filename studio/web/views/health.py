"""`/healthz`: does the studio work? For load balancers, container runtimes and people.

No login, nothing secret: 200 `{"status": "ok"}` when the database answers and the job
queue is not stalled; otherwise 503 with the reason in plain words.
"""

import logging

from django.db import DatabaseError
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from studio.worker import health

log = logging.getLogger(__name__)


@require_GET
@never_cache
def healthz(request):
    try:
        reason = health.stalled()
    except DatabaseError:
        log.warning("health check: the database does not answer", exc_info=True)
        reason = "the database does not answer"
    if reason:
        return JsonResponse({"status": "unavailable", "reason": reason}, status=503)
    return JsonResponse({"status": "ok"})
