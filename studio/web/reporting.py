"""Django's error reports (the DEBUG page, error mails) without the secrets inside URLs.

Django hides settings whose names look secret (KEY, TOKEN, PASS, ...), but a password
also lives inside DATABASE_URL, REDIS_URL, the job queue's broker settings and the
cache's LOCATION, under names that do not. Here every setting whose name says it is a
connection is hidden whole, and any other value that holds a URL with a password has
the password replaced.
"""

from __future__ import annotations

import re

from django.views.debug import SafeExceptionReporterFilter

CREDENTIALS_IN_URL = re.compile(r"(\w[\w+.-]*://)([^/@\s:]*):([^/@\s]*)@")


class StudioReporterFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile(
        "API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|DATABASE_URL|REDIS_URL|BROKER|DSN",
        flags=re.IGNORECASE,
    )

    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        if type(cleansed) is str:  # not the lazy substitute of a hidden one
            return CREDENTIALS_IN_URL.sub(rf"\g<1>\g<2>:{self.cleansed_substitute}@", cleansed)
        return cleansed
