"""The worker's jobs against the simulator over real HTTP (in-process, on loopback):
submit exactly once, recover what a dead worker left, copy results, cancel."""

from datetime import timedelta

import pytest
from django.utils import timezone

from studio.models import Generation
from studio.simulator import Simulator
from studio.vidu import registry
from studio.worker import cadence, cancelling, copying, jobs, payloads, submission
from tests.conftest import drain_queue, run_queued_jobs
from tests.factories import make_generation

pytestmark = pytest.mark.usefixtures("media_root")


@pytest.fixture
def sim(settings):
    simulator = Simulator(
        port=0, api_key="sim-key", seconds=0.05, fps=4, seed=7, timeout_hold=3
    ).start()
    settings.VIDU_BASE_URL = simulator.base_url
    settings.VIDU_API_KEY = "sim-key"
    settings.VIDU_TIMEOUT = 1
    settings.STUDIO_BACKOFF_BASE = 0.01
    settings.STUDIO_PUBLIC_URL = ""
    yield simulator
    simulator.stop()


def tasks_for(sim, generation):
    return [t for t in sim.tasks() if t["payload"] == str(generation.pk)]


@pytest.fixture
def queued(team, alice):
    return make_generation(team, alice)


def test_it_submits_once_with_the_generation_id_as_payload(sim, queued):
    assert jobs.submit(str(queued.pk)) == "submitted"
    queued.refresh_from_db()
    (task,) = tasks_for(sim, queued)
    assert queued.state == "created" and queued.provider_task_id == task["id"]
    assert queued.credits == task["credits"] == 2
    assert list(queued.events.values_list("state", "source")) == [
        ("submitting", "submit"),
        ("created", "submit"),
    ]


def test_a_second_submit_job_does_nothing(sim, queued):
    jobs.submit(str(queued.pk))
    assert jobs.submit(str(queued.pk)) == "not claimed"
    assert len(tasks_for(sim, queued)) == 1


def test_it_sets_the_callback_url_when_the_studio_is_public(sim, queued, settings):
    settings.STUDIO_PUBLIC_URL = "https://studio.example.com"
    request = submission.build(queued)
    assert request.callback_url == "https://studio.example.com/vidu/callback/"
    assert request.payload == str(queued.pk)
    assert request.images[0].startswith("data:image/png;base64,")


def test_it_wraps_a_users_own_payload(sim, team, alice):
    g = make_generation(
        team, alice, params={"duration": 2, "resolution": "540p", "payload": "order-17"}
    )
    jobs.submit(str(g.pk))
    (task,) = [t for t in sim.tasks() if "order-17" in t["payload"]]
    assert payloads.generation_id_from_payload(task["payload"]) == str(g.pk)


def test_a_refusal_ends_failed_with_the_reason_in_plain_words(sim, team, alice):
    g = make_generation(team, alice, model="viduq1", params={"duration": 8, "resolution": "1080p"})
    assert jobs.submit(str(g.pk)) == "refused"
    g.refresh_from_db()
    assert g.state == "failed" and g.error_reason == "FieldInvalid"
    assert "Vidu said: viduq1 makes 5-second videos only" in g.error_message
    assert tasks_for(sim, g) == []


@pytest.mark.parametrize("fault", ["submit_error", "submit_throttle"])
def test_it_retries_errors_and_throttling(sim, queued, fault):
    sim.faults.probabilities[fault] = 0.6
    assert jobs.submit(str(queued.pk)) in ("submitted", "recovered")
    assert sim.faults.counts()[fault] >= 1
    assert len(tasks_for(sim, queued)) == 1


def test_a_lost_answer_is_found_in_the_task_list_not_sent_again(sim, queued):
    sim.faults.probabilities["submit_timeout"] = 1.0
    assert jobs.submit(str(queued.pk)) == "recovered"
    queued.refresh_from_db()
    (task,) = tasks_for(sim, queued)
    assert queued.provider_task_id == task["id"] and queued.state != "failed"
    assert sim.faults.counts()["submit_timeout"] == 1


def test_when_vidu_stays_down_the_claim_waits_for_the_reconciler(sim, queued):
    sim.faults.probabilities["submit_error"] = 1.0
    assert jobs.submit(str(queued.pk)) == "retry later"
    queued.refresh_from_db()
    assert queued.state == "submitting"
    assert "internal failure" in queued.error_message


def dead_claim(generation, seconds=600):
    Generation.objects.filter(pk=generation.pk).update(
        state="submitting", claimed_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_the_reconciler_adopts_a_task_sent_by_a_worker_that_died(sim, queued):
    # The dead worker's request reached Vidu; its answer was never stored.
    request = submission.build(queued)
    created = registry.connect().create(request)
    dead_claim(queued)
    drain_queue()
    assert jobs.reconcile()["recovered"] == 1
    assert run_queued_jobs() == ["recovered"]
    queued.refresh_from_db()
    assert queued.provider_task_id == created.task_id
    assert len(tasks_for(sim, queued)) == 1


def test_the_reconciler_sends_what_a_dead_worker_never_sent(sim, queued):
    dead_claim(queued)
    drain_queue()
    jobs.reconcile()
    assert run_queued_jobs() == ["submitted"]
    queued.refresh_from_db()
    assert queued.state in ("created", "queueing", "processing", "success")
    assert len(tasks_for(sim, queued)) == 1


def test_the_reconciler_leaves_a_fresh_claim_alone(sim, queued):
    dead_claim(queued, seconds=1)
    assert jobs.reconcile()["recovered"] == 0
    assert tasks_for(sim, queued) == []


def test_it_gives_up_only_when_the_task_list_confirms_no_task(sim, queued):
    sim.faults.probabilities["submit_error"] = 1.0
    dead_claim(queued)
    Generation.objects.filter(pk=queued.pk).update(submit_attempts=submission.MAX_CLAIMS)
    drain_queue()
    jobs.reconcile()
    assert run_queued_jobs() == ["gave up"]
    queued.refresh_from_db()
    assert queued.state == "failed" and "nothing was charged" in queued.error_message


def test_it_does_not_give_up_on_a_task_vidu_has(sim, queued):
    sim.faults.probabilities["submit_timeout"] = 1.0
    jobs.submit(str(queued.pk))  # recovered from the list
    Generation.objects.filter(pk=queued.pk).update(
        state="submitting", provider_task_id="", submit_attempts=submission.MAX_CLAIMS
    )
    dead_claim(queued)
    drain_queue()
    jobs.reconcile()
    run_queued_jobs()
    queued.refresh_from_db()
    assert queued.state != "failed" and queued.provider_task_id


def test_the_reconciler_requeues_a_submit_job_lost_with_its_worker(sim, queued):
    Generation.objects.filter(pk=queued.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    drain_queue()
    assert jobs.reconcile()["requeued"] == 1
    assert drain_queue() == ["studio.worker.jobs.submit"]


def wait_for_state(generation, state, tick, limit=200):
    import time

    for _ in range(limit):
        tick()
        generation.refresh_from_db()
        if generation.state == state:
            return generation
        time.sleep(0.05)
    raise AssertionError(f"{generation.state}, not {state}")


def test_the_reconciler_polls_a_quiet_task_to_the_end(
    sim, queued, settings, django_capture_on_commit_callbacks
):
    settings.STUDIO_POLL_SECONDS = 0
    jobs.submit(str(queued.pk))
    with django_capture_on_commit_callbacks(execute=True):
        wait_for_state(queued, "success", jobs.reconcile)
    assert queued.events.filter(source="poll").exists()
    assert "studio.worker.jobs.fetch_result" in drain_queue()


def test_polling_backs_off_with_age_and_never_stops(queued, settings):
    settings.STUDIO_POLL_SECONDS = 60
    ages = [timedelta(minutes=1), timedelta(minutes=30), timedelta(hours=3), timedelta(hours=47)]
    intervals = []
    for age in ages:
        queued.created_at = timezone.now() - age
        intervals.append(cadence.poll_interval(queued))
    assert intervals == sorted(intervals) and intervals[0] < intervals[-1]
    assert intervals[-1] <= timedelta(hours=1)


def finished(sim, generation, settings):
    settings.STUDIO_POLL_SECONDS = 0
    jobs.submit(str(generation.pk))
    return wait_for_state(generation, "success", jobs.reconcile)


def test_it_copies_and_probes_the_video(sim, queued, settings):
    finished(sim, queued, settings)
    assert jobs.fetch_result(str(queued.pk)) == "stored"
    creation = queued.creations.get()
    assert (creation.codec, creation.height) == ("h264", 540)
    assert creation.duration == pytest.approx(2, abs=0.1)


def test_an_expired_url_is_refreshed_by_querying_again(sim, queued, settings):
    finished(sim, queued, settings)
    sim.faults.probabilities["result_expired"] = 1.0
    # A first fetch of the same URLs (say, by a browser) spends them.
    import httpx

    task = registry.connect().query(queued.provider_task_id)
    assert httpx.get(task.videos[0].url).status_code == 200
    assert httpx.get(task.videos[0].url).status_code == 403
    assert jobs.fetch_result(str(queued.pk)) == "stored"


def test_a_result_that_cannot_be_fetched_is_marked_and_can_be_retried(
    sim, queued, settings, django_capture_on_commit_callbacks
):
    finished(sim, queued, settings)
    sim.faults.probabilities["query_error"] = 1.0
    assert jobs.fetch_result(str(queued.pk)) == "unavailable"
    queued.refresh_from_db()
    assert queued.result_status == "unavailable"
    assert "could not be copied" in queued.error_message
    assert "internal failure" in queued.error_message and "http" not in queued.error_message
    sim.faults.probabilities["query_error"] = 0.0
    drain_queue()
    with django_capture_on_commit_callbacks(execute=True):
        assert copying.retry(queued)
    assert drain_queue() == ["studio.worker.jobs.fetch_result"]
    assert jobs.fetch_result(str(queued.pk)) == "stored"


def test_a_queued_generation_is_cancelled_locally(sim, queued):
    assert "nothing was charged" in cancelling.cancel(queued)
    assert jobs.submit(str(queued.pk)) == "not claimed"
    assert tasks_for(sim, queued) == []


def test_an_off_peak_task_is_cancelled_at_vidu(sim, team, alice):
    g = make_generation(team, alice, params={"duration": 2, "resolution": "540p", "off_peak": True})
    jobs.submit(str(g.pk))
    g.refresh_from_db()
    assert "refunded" in cancelling.cancel(g)
    g.refresh_from_db()
    assert (g.state, g.credits) == ("cancelled", 0)
    (task,) = tasks_for(sim, g)
    assert task["err_code"] == "UserCancelled"


def test_a_task_made_at_once_cannot_be_cancelled(sim, queued):
    jobs.submit(str(queued.pk))
    queued.refresh_from_db()
    with pytest.raises(cancelling.CannotCancel, match="only off-peak"):
        cancelling.cancel(queued)


def test_a_processing_task_cannot_be_cancelled(queued):
    Generation.objects.filter(pk=queued.pk).update(state="processing")
    queued.refresh_from_db()
    with pytest.raises(cancelling.CannotCancel, match="already making"):
        cancelling.cancel(queued)


def test_the_reconciler_retries_a_failed_copy_while_vidu_keeps_it(
    sim, queued, settings, django_capture_on_commit_callbacks
):
    finished(sim, queued, settings)
    sim.faults.probabilities["query_error"] = 1.0
    assert jobs.fetch_result(str(queued.pk)) == "unavailable"
    sim.faults.probabilities["query_error"] = 0.0
    drain_queue()
    settings.STUDIO_RESULT_RETRY_SECONDS = 0
    assert jobs.reconcile()["fetches"] == 1
    assert drain_queue() == ["studio.worker.jobs.fetch_result"]
    assert jobs.fetch_result(str(queued.pk)) == "stored"


def test_the_reconciler_stops_retrying_once_vidus_links_have_expired(sim, queued, settings):
    Generation.objects.filter(pk=queued.pk).update(
        state="success",
        result_status="unavailable",
        finished_at=timezone.now() - timedelta(hours=25),
        updated_at=timezone.now() - timedelta(hours=1),
    )
    settings.STUDIO_RESULT_RETRY_SECONDS = 0
    drain_queue()
    assert jobs.reconcile()["fetches"] == 0
    assert Generation.objects.get(pk=queued.pk).result_status == "unavailable"


def test_it_keeps_the_watermarked_video_when_one_was_asked_for(sim, team, alice, settings):
    g = make_generation(
        team, alice, params={"duration": 2, "resolution": "540p", "watermark": True}
    )
    finished(sim, g, settings)
    assert jobs.fetch_result(str(g.pk)) == "stored"
    creation = g.creations.get()
    assert creation.watermarked and creation.watermarked.size > 0


def test_it_does_not_copy_a_watermarked_video_nobody_asked_for(sim, queued, settings):
    finished(sim, queued, settings)
    jobs.fetch_result(str(queued.pk))
    assert not queued.creations.get().watermarked


def test_a_worker_that_lost_its_claim_sends_nothing(sim, queued):
    # This worker claimed long ago; the reconciler has since taken the claim over.
    dead_claim(queued)
    mine = Generation.objects.get(pk=queued.pk)
    Generation.objects.filter(pk=queued.pk).update(claimed_at=timezone.now())
    assert submission.send(mine, maybe_sent=False) == "claim lost"
    assert tasks_for(sim, queued) == []


def test_the_row_says_where_and_that_it_was_sent_before_the_create_call(sim, queued, monkeypatch):
    # A worker may die during the call: the reconciler then finds a renewed claim that
    # says the request may have gone out, and to which connection.
    dialect = registry.connect()
    seen = []

    def create(request, real=dialect.create):
        seen.append(Generation.objects.get(pk=queued.pk))
        return real(request)

    monkeypatch.setattr(dialect, "create", create)
    assert jobs.submit(str(queued.pk)) == "submitted"
    (row,) = seen
    assert row.state == "submitting" and row.sent_at is not None
    assert row.provider_base_url == sim.base_url
    assert row.claimed_at >= row.sent_at


def test_a_worker_stops_once_a_callback_attached_the_task(sim, queued):
    dead_claim(queued, seconds=1)
    mine = Generation.objects.get(pk=queued.pk)
    Generation.objects.filter(pk=queued.pk).update(provider_task_id="from-a-callback")
    assert submission.send(mine, maybe_sent=True) == "claim lost"
    assert tasks_for(sim, queued) == []


def test_an_unreadable_task_list_neither_resends_nor_fails(sim, queued, settings):
    dead_claim(queued, seconds=1)
    mine = Generation.objects.get(pk=queued.pk)
    settings.VIDU_API_KEY = "not-the-key"  # the list answers 401
    assert submission.send(mine, maybe_sent=True) == "retry later"
    queued.refresh_from_db()
    assert queued.state == "submitting" and "refused the studio's API key" in (queued.error_message)
    assert tasks_for(sim, queued) == []


def test_the_reconciler_removes_images_staged_for_forms_never_sent(
    team, charlie, alice, media_root
):
    from django.core.files.base import ContentFile

    from studio.models import StagedImage
    from tests.conftest import png

    olds = []
    for owner in (alice, charlie):
        staged = StagedImage(
            team=owner.memberships.get().team,
            owner=owner,
            format="png",
            width=320,
            height=180,
            size=10,
        )
        staged.file.save("x.png", ContentFile(png()), save=False)
        staged.save()
        olds.append(staged)
    StagedImage.objects.update(created_at=timezone.now() - timedelta(days=2))
    assert jobs.reconcile()["staged_removed"] == 2
    assert not StagedImage.objects.exists()
    assert not any(s.file.storage.exists(s.file.name) for s in olds)


def test_jobs_queued_under_the_old_task_paths_are_renamed_by_the_migration(db):
    """Jobs waiting in the database broker and the reconciler's schedule, from before
    the worker had a package of its own, run after the upgrade."""
    import importlib

    from django.apps import apps
    from django.utils import timezone
    from django_q.models import OrmQ, Schedule
    from django_q.signing import SignedPackage

    def waiting(func, *args):
        task = {"id": func, "func": func, "args": args, "kwargs": {}}
        OrmQ.objects.create(key="studio", payload=SignedPackage.dumps(task), lock=timezone.now())

    moved = importlib.import_module("studio.migrations.0012_worker_task_paths")
    Schedule.objects.filter(name="reconcile").update(func="studio.jobs.reconcile")
    waiting("studio.jobs.submit", "1234")
    waiting("studio.health.beat", "probe")
    moved.rename(apps, None)
    assert Schedule.objects.get(name="reconcile").func == "studio.worker.jobs.reconcile"
    assert sorted(SignedPackage.loads(q.payload)["func"] for q in OrmQ.objects.all()) == [
        "studio.worker.health.beat",
        "studio.worker.jobs.submit",
    ]


def test_a_cancel_never_overrides_a_send_that_happened_after_it_looked(sim, queued):
    """The person pressed cancel on a queued video; a worker sent it meanwhile."""
    seen = Generation.objects.get(pk=queued.pk)  # what the cancel read: still queued
    assert jobs.submit(str(queued.pk)) == "submitted"
    with pytest.raises(cancelling.CannotCancel):
        cancelling.cancel(seen)
    queued.refresh_from_db()
    assert queued.state != "cancelled" and queued.provider_task_id
    assert len(tasks_for(sim, queued)) == 1


def test_a_task_list_that_refuses_for_good_becomes_a_decision_for_a_person(sim, queued, settings):
    """The key may create tasks but not list them: after the bounded claims, the
    generation stops for a person with the provider's reason, and is no longer claimed."""
    settings.VIDU_API_KEY = "a-key-the-list-refuses"
    registry.forget_clients()
    dead_claim(queued)
    Generation.objects.filter(pk=queued.pk).update(
        submit_attempts=submission.MAX_CLAIMS, sent_at=timezone.now() - timedelta(minutes=10)
    )
    drain_queue()
    jobs.reconcile()
    assert run_queued_jobs() == ["gave up"]
    queued.refresh_from_db()
    assert queued.state == "unconfirmed"
    assert (
        "task list" in queued.error_message
        and "refused the studio's API key" in queued.error_message
    )
    Generation.objects.filter(pk=queued.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    jobs.reconcile()
    assert drain_queue() == []  # not claimed again
    assert tasks_for(sim, queued) == []
