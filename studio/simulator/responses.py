"""The provider's response bodies, built from a task (the same for API and callbacks)."""

from __future__ import annotations

from .engine import SUCCESS, Task, iso
from .links import ResultLinks


def create_body(task: Task) -> dict:
    return {
        "task_id": task.id,
        "state": task.state,
        "model": task.model,
        "prompt": task.prompt,
        "images": list(task.images),
        "duration": task.duration,
        "seed": task.seed,
        "resolution": task.resolution,
        "bgm": task.bgm,
        "audio": task.audio,
        "movement_amplitude": task.movement_amplitude,
        "payload": task.payload,
        "off_peak": task.off_peak,
        "credits": task.credits,
        "watermark": task.watermark,
        "created_at": iso(task.created_at),
    }


def creations(task: Task, links: ResultLinks, base: str) -> list[dict]:
    if task.state != SUCCESS:
        return []
    video = links.url(base, task.id, "video.mp4")
    # The simulator draws no watermark, so the watermarked file has the same bytes.
    return [
        {
            "id": f"{task.id}01",
            "url": video,
            "cover_url": links.url(base, task.id, "cover.jpg"),
            "watermarked_url": links.url(base, task.id, "video-watermarked.mp4"),
        }
    ]


def query_body(task: Task, links: ResultLinks, base: str) -> dict:
    """GET /ent/v2/tasks/{id}/creations, and the body of every callback."""
    return {
        "id": task.id,
        "state": task.state,
        "err_code": task.err_code,
        "credits": task.credits,
        "payload": task.payload,
        "bgm": task.bgm,
        "off_peak": task.off_peak,
        "creations": creations(task, links, base),
    }


def listed_task(task: Task, links: ResultLinks, base: str) -> dict:
    return {
        "id": task.id,
        "state": task.state,
        "model": task.model,
        "payload": task.payload,
        "credits": task.credits,
        "created_at": iso(task.created_at),
        "err_code": task.err_code,
        "off_peak": task.off_peak,
        "creations": creations(task, links, base),
    }
