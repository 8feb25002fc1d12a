"""Images kept for unsent forms stay within a per-person cap, never at the cost of the
form in hand; upload files a killed process left behind are swept."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from studio import staging
from studio.images import uploads
from studio.models import StagedImage
from studio.worker import jobs
from tests.conftest import png

pytestmark = pytest.mark.usefixtures("media_root")


def stage(team, owner, name: str, minutes_ago: int = 0, data: bytes | None = None):
    data = data or png()
    staged = staging.keep(team, owner, data, uploads.inspect(data), name)
    when = timezone.now() - timedelta(minutes=minutes_ago)
    StagedImage.objects.filter(pk=staged.pk).update(created_at=when)
    staged.refresh_from_db()
    return staged


def names(owner=None) -> set[str]:
    kept = StagedImage.objects.all()
    if owner is not None:
        kept = kept.filter(owner=owner)
    return set(kept.values_list("original_name", flat=True))


def test_a_person_keeps_at_most_the_cap_the_oldest_going_first(team, alice, bob, settings):
    settings.STUDIO_STAGED_MAX_PER_PERSON = 3
    for n in range(5):
        stage(team, alice, f"a{n}.png", minutes_ago=50 - n)
    stage(team, bob, "b0.png", minutes_ago=60)
    assert names(alice) == {"a2.png", "a3.png", "a4.png"}
    assert names(bob) == {"b0.png"}  # another person's are theirs to keep
    # The files go with them.
    files = {Path(s.file.path).name for s in StagedImage.objects.all()}
    assert set(os.listdir(Path(settings.MEDIA_ROOT) / "staged" / str(team.pk))) == files


def test_the_cap_counts_bytes_too(team, alice, settings):
    big = png(1600, 900)
    settings.STUDIO_STAGED_MAX_BYTES_PER_PERSON = 2 * len(big) + 10
    for n in range(4):
        stage(team, alice, f"a{n}.png", minutes_ago=50 - n, data=big)
    assert names(alice) == {"a2.png", "a3.png"}


def test_the_images_the_form_in_hand_uses_are_never_discarded(team, alice, settings):
    in_form = stage(team, alice, "in-form.png", minutes_ago=90)
    for n in range(3):
        stage(team, alice, f"other{n}.png", minutes_ago=50 - n)
    settings.STUDIO_STAGED_MAX_PER_PERSON = 2
    data = png()
    staging.keep(team, alice, data, uploads.inspect(data), "new.png", in_use=[in_form])
    assert names(alice) == {"in-form.png", "new.png"}


def post_refused(client, kept: dict[str, StagedImage] | None = None, **files):
    """A start-and-end form the studio refuses (a duration the model lacks)."""
    data = {"model": "viduq2-turbo", "duration": "99"}
    data.update({f"{field}_staged": str(image.pk) for field, image in (kept or {}).items()})
    data.update({field: SimpleUploadedFile(f"{name}.png", png()) for field, name in files.items()})
    response = client.post(reverse("generate", args=["start-end2video"]), data)
    assert response.status_code == 422
    return response


def test_a_refused_submit_over_the_cap_keeps_the_images_its_form_uses(
    client, team, alice, settings
):
    settings.STUDIO_STAGED_MAX_PER_PERSON = 3
    client.force_login(alice)
    # An earlier form's two images, two hours ago.
    post_refused(client, start_image="old-start", end_image="old-end")
    StagedImage.objects.update(created_at=timezone.now() - timedelta(hours=2))
    # This form's start frame, kept from a try three hours ago: the oldest of all.
    post_refused(client, start_image="start")
    start = StagedImage.objects.get(original_name="start.png")
    StagedImage.objects.filter(pk=start.pk).update(created_at=timezone.now() - timedelta(hours=3))
    # Refused again, now with its end frame: a fourth image, one over the cap.
    response = post_refused(client, kept={"start_image": start}, end_image="end")
    kept = names(alice)
    assert len(kept) == 3 and {"start.png", "end.png"} <= kept
    html = response.content.decode()
    assert f'name="start_image_staged" value="{start.pk}"' in html
    assert client.get(reverse("staged_image", args=[start.pk])).status_code == 200


def test_the_periodic_sweep_removes_upload_files_left_behind(settings, tmp_path, db):
    folder = tmp_path / "uploads-tmp"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    stale, fresh = folder / "tmpa1b2.upload.png", folder / "tmpc3d4.upload.png"
    stale.write_bytes(b"left by a killed worker")
    fresh.write_bytes(b"a request under way")
    hour_and_more = time.time() - 3700
    os.utime(stale, (hour_and_more, hour_and_more))
    staging.sweep()
    assert not stale.exists() and fresh.exists()
    # The reconciler's periodic pass is what calls it.
    os.utime(fresh, (hour_and_more, hour_and_more))
    jobs.reconcile()
    assert not fresh.exists()


def test_uploads_are_written_to_the_studio_s_own_folder(
    client, alice, settings, tmp_path, monkeypatch
):
    from django.conf import settings as live

    assert Path(live.FILE_UPLOAD_TEMP_DIR).is_dir()
    folder = tmp_path / "uploads-tmp"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000  # so these uploads go to files
    seen = []
    original = uploads.inspect

    def looking(source):
        seen.append(Path(source.temporary_file_path()).parent)
        return original(source)

    monkeypatch.setattr(uploads, "inspect", looking)
    client.force_login(alice)
    post_refused(client, start_image="start", end_image="end")
    assert seen == [folder, folder]
    assert os.listdir(folder) == []  # gone with the request
