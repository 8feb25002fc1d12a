"""Plain helpers that store generations the way the form would, for view tests."""

from django.core.files.base import ContentFile

from studio.models import Creation, Generation, InputImage
from tests.conftest import png


def make_generation(team, author, *, state="queued", task_id="", **fields) -> Generation:
    generation = Generation.objects.create(
        team=team,
        author=author,
        endpoint=fields.pop("endpoint", "img2video"),
        model=fields.pop("model", "viduq2-turbo"),
        prompt=fields.pop("prompt", "a slow pan over the bay"),
        params=fields.pop("params", {"duration": 2, "resolution": "540p"}),
        estimated_credits=2,
        state=state,
        provider_task_id=task_id,
        **fields,
    )
    image = InputImage(
        generation=generation, position=0, format="png", width=320, height=180, size=100
    )
    image.file.save("0.png", ContentFile(png()), save=False)
    image.save()
    return generation


def attach_video(
    generation, video_bytes: bytes = b"\x00" * 1000, cover: bytes = b"jpeg"
) -> Creation:
    creation = Creation(
        generation=generation,
        provider_creation_id="c1",
        video_size=len(video_bytes),
        duration=2.0,
        width=320,
        height=180,
        codec="h264",
    )
    creation.video.save("video.mp4", ContentFile(video_bytes), save=False)
    creation.cover.save("cover.jpg", ContentFile(cover), save=False)
    creation.save()
    Generation.objects.filter(pk=generation.pk).update(result_status="stored")
    generation.refresh_from_db()
    return creation
