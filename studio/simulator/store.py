"""Tasks kept on disk, so a simulator started again on the same storage directory goes on
where the last one stopped: the same tasks, their input images until they finish, the
rendered files, and the key that signs result links (links it gave out keep working).

storage/
  link-secret                the result links' signing key (mode 600)
  tasks/<id>.json            one task, rewritten (atomically) on every change
  <id>/inputs/<n>            the images of a task not finished yet
  <id>/video.mp4, cover.jpg  the render (written by `render`)
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
from datetime import datetime
from pathlib import Path

from . import render

log = logging.getLogger("studio.simulator")

# Task fields kept as they are; the rest are written and read below.
PLAIN = (
    "id",
    "seq",
    "endpoint",
    "model",
    "prompt",
    "images",
    "duration",
    "seed",
    "resolution",
    "bgm",
    "audio",
    "movement_amplitude",
    "payload",
    "off_peak",
    "credits",
    "watermark",
    "callback_url",
    "origin",
    "state",
    "err_code",
    "doomed",
    "echo",
)


class TaskStore:
    def __init__(self, root: Path):
        self.root = root
        self.tasks_dir = root / "tasks"
        self.tasks_dir.mkdir(parents=True, exist_ok=True)

    def secret(self) -> bytes:
        """The result links' key: made once, then read on every start."""
        path = self.root / "link-secret"
        try:
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
                fh.write(secrets.token_hex(32))
        except FileExistsError:
            pass
        return bytes.fromhex(path.read_text().strip())

    def save(self, task) -> None:
        record = {name: getattr(task, name) for name in PLAIN}
        record["created_at"] = task.created_at.isoformat()
        record["changed_at"] = task.changed_at.isoformat()
        if task.rendered is not None:
            record["rendered"] = {
                "video": task.rendered.video.name,
                "cover": task.rendered.cover.name,
                "width": task.rendered.width,
                "height": task.rendered.height,
                "frames": task.rendered.frames,
                "fps": task.rendered.fps,
            }
        path = self.tasks_dir / f"{task.id}.json"
        partial = path.with_suffix(".part")
        partial.write_text(json.dumps(record))
        partial.replace(path)  # a reader (the next start) never sees half a task

    def save_inputs(self, task_id: str, images: list[bytes]) -> None:
        folder = self.root / task_id / "inputs"
        folder.mkdir(parents=True, exist_ok=True)
        for index, data in enumerate(images):
            (folder / str(index)).write_bytes(data)

    def inputs(self, task_id: str) -> list[bytes] | None:
        folder = self.root / task_id / "inputs"
        try:
            names = sorted(os.listdir(folder), key=int)
            return [(folder / name).read_bytes() for name in names] or None
        except (OSError, ValueError):
            return None

    def drop_inputs(self, task_id: str) -> None:
        shutil.rmtree(self.root / task_id / "inputs", ignore_errors=True)

    def load(self) -> list[dict]:
        """Every task kept, as the fields of `engine.Task`, oldest first."""
        tasks = []
        for path in self.tasks_dir.glob("*.json"):
            try:
                record = json.loads(path.read_text())
                fields = {name: record[name] for name in PLAIN}
                fields["created_at"] = datetime.fromisoformat(record["created_at"])
                fields["changed_at"] = datetime.fromisoformat(record["changed_at"])
                rendered = record.get("rendered")
                if rendered:
                    folder = self.root / record["id"]
                    fields["rendered"] = render.Rendered(
                        video=folder / rendered["video"],
                        cover=folder / rendered["cover"],
                        width=rendered["width"],
                        height=rendered["height"],
                        frames=rendered["frames"],
                        fps=rendered["fps"],
                    )
            except (OSError, ValueError, KeyError, TypeError):
                log.warning("simulator: cannot read the kept task %s; skipping it", path.name)
                continue
            tasks.append(fields)
        return sorted(tasks, key=lambda fields: fields["seq"])
