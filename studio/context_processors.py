from django.conf import settings


def studio(request) -> dict:
    return {"using_simulator": settings.VIDU_USING_SIMULATOR}
