"""Each provider dialect against its documents: the request it builds (path, auth header,
body), the answers it reads (the documents' own example bodies), and its errors.

The provider is an `httpx.MockTransport` here, answering with the documents' examples;
tests/test_gateways.py runs each dialect against the simulator over real HTTP.
"""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from studio.vidu import registry
from studio.vidu.base import (
    CREDITS,
    USD,
    NotSupported,
    OutcomeUnknown,
    Refused,
    Retryable,
    Submission,
)
from studio.vidu.vtrix import model_id

IMAGE = "data:image/png;base64,iVBORw0KGgo="
END = "data:image/png;base64,R0lGODlh"


class Provider:
    """A fake provider: records requests, answers from a list of (status, body)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status, body = self.answers.pop(0)
        if isinstance(body, Exception):
            raise body
        return httpx.Response(status, json=body)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self) -> dict:
        return json.loads(self.last.content)


def dialect(name: str, provider: Provider, base_url: str = "https://gateway.test"):
    cls = registry.dialect_class(name)
    return cls(base_url, "the-key", transport=httpx.MockTransport(provider))


def submission(endpoint="img2video", model="viduq2-turbo", **params) -> Submission:
    images = (IMAGE,) if endpoint == "img2video" else (IMAGE, END)
    return Submission(
        endpoint=endpoint,
        model=model,
        images=images,
        prompt="make it dance.",
        params={"duration": 5, "resolution": "1080p", **params},
        payload="gen-1",
    )


def test_every_provider_in_the_registry_has_a_dialect_and_a_documented_host():
    assert set(registry.PROVIDERS) == {"official", "octopusx", "umodelverse", "kkiai", "vtrix"}
    for name in registry.PROVIDERS:
        assert registry.dialect_class(name).name == name
        assert registry.default_base_url(name).startswith("https://")


def test_an_unknown_provider_is_refused_with_the_names_it_could_be():
    with pytest.raises(registry.UnknownProvider, match="official, octopusx"):
        registry.check("vidu-pirate")


# official (seed 004, VIDU-API.md section 1)

OFFICIAL_CREATED = {
    "task_id": "your_task_id_here",
    "state": "created",
    "model": "viduq3-pro",
    "images": ["https://example/a.jpeg", "https://example/b.jpeg"],
    "prompt": "The camera zooms in on the bird.",
    "duration": 5,
    "seed": 1234,
    "resolution": "1080p",
    "audio": True,
    "off_peak": False,
    "credits": 40,
    "created_at": "2025-01-01T15:41:31.968916Z",
}
OFFICIAL_DONE = {
    "id": "your_task_id_here",
    "state": "success",
    "err_code": "",
    "credits": 4,
    "payload": "gen-1",
    "bgm": False,
    "off_peak": False,
    "creations": [
        {
            "id": "c1",
            "url": "https://r/v.mp4",
            "cover_url": "https://r/c.jpg",
            "watermarked_url": "",
        }
    ],
}


def test_official_sends_the_official_body_with_a_token():
    provider = Provider((200, OFFICIAL_CREATED))
    view = dialect("official", provider).create(
        submission("start-end2video", "viduq3-pro", audio=True)
    )
    assert provider.last.url == "https://gateway.test/ent/v2/start-end2video"
    assert provider.last.headers["Authorization"] == "Token the-key"
    body = provider.body()
    assert body["images"] == [IMAGE, END] and body["payload"] == "gen-1"
    assert body["model"] == "viduq3-pro" and body["audio"] is True
    assert (view.task_id, view.state) == ("your_task_id_here", "created")
    assert view.cost.amount == 40 and view.cost.unit == CREDITS


def test_official_reads_a_finished_task_with_its_cover_and_credits():
    provider = Provider((200, OFFICIAL_DONE))
    view = dialect("official", provider).query("your_task_id_here")
    assert provider.last.url == "https://gateway.test/ent/v2/tasks/your_task_id_here/creations"
    assert view.state == "success" and view.cost.amount == 4
    assert view.videos[0].url == "https://r/v.mp4" and view.videos[0].cover_url
    assert view.payload == "gen-1"


def test_official_reads_a_user_cancel_as_cancelled_and_a_failure_in_plain_words():
    cancelled = {**OFFICIAL_DONE, "state": "failed", "err_code": "UserCancelled", "creations": []}
    failed = {**cancelled, "err_code": "CreationPolicyViolation"}
    official = dialect("official", Provider((200, cancelled), (200, failed)))
    assert official.query("t").state == "cancelled"
    view = official.query("t")
    assert view.state == "failed" and view.reason == "CreationPolicyViolation"
    assert view.message == "Vidu refused to deliver the video under its content policy."


def test_official_errors_keep_the_reason_and_say_whether_to_try_again():
    refusal = {
        "code": 400,
        "reason": "FieldInvalid",
        "message": "duration must be 5",
        "metadata": {"trace_id": "x"},
    }
    official = dialect(
        "official",
        Provider(
            (400, refusal),
            (429, {"code": 429, "reason": "QuotaExceeded", "message": "slow down"}),
            (503, {"code": 503, "reason": "InternalServiceFailure", "message": "down"}),
        ),
    )
    with pytest.raises(Refused) as refused:
        official.create(submission())
    assert refused.value.permanent and refused.value.reason == "FieldInvalid"
    assert "Vidu said: duration must be 5" in refused.value.plain
    with pytest.raises(Retryable) as throttled:
        official.create(submission())
    assert not throttled.value.permanent and not throttled.value.maybe_sent
    with pytest.raises(OutcomeUnknown) as failed:
        official.create(submission())
    assert failed.value.maybe_sent  # a 5xx may still have made the task


def test_official_finds_a_lost_task_by_its_payload_in_the_task_list():
    page = {
        "next_page_token": "",
        "tasks": [
            {**OFFICIAL_DONE, "id": "other", "payload": "gen-0"},
            {**OFFICIAL_DONE, "id": "mine", "payload": "gen-1", "state": "processing"},
        ],
    }
    provider = Provider((200, page))
    from datetime import UTC, datetime

    found = dialect("official", provider).find_by_payload("gen-1", datetime(2026, 1, 1, tzinfo=UTC))
    assert provider.last.url.path == "/ent/v2/tasks"
    assert (found.task_id, found.state) == ("mine", "processing")


def test_a_connection_that_never_opened_is_safe_to_send_again():
    official = dialect("official", Provider((0, httpx.ConnectError("refused"))))
    with pytest.raises(Retryable) as exc:
        official.create(submission())
    assert not exc.value.maybe_sent and "could not be reached" in exc.value.plain


def test_an_answer_that_never_came_may_have_made_the_task():
    official = dialect("official", Provider((0, httpx.ReadTimeout("slow"))))
    with pytest.raises(OutcomeUnknown) as exc:
        official.create(submission())
    assert exc.value.maybe_sent


# Octopusx (seed 000)


def test_octopusx_sends_the_official_body_under_vidu_with_a_bearer_key():
    provider = Provider(
        (200, {"task_id": "oc-1", "status": "processing", "created_at": 1756959000})
    )
    octopusx = dialect("octopusx", provider, "https://octopusx.ai")
    view = octopusx.create(submission(model="viduq2-pro", bgm=True))
    assert provider.last.url == "https://octopusx.ai/vidu/ent/v2/img2video"
    assert provider.last.headers["Authorization"] == "Bearer the-key"
    body = provider.body()
    assert body["model"] == "viduq2-pro" and body["images"] == [IMAGE] and body["bgm"] is True
    assert "callback_url" not in body
    assert (view.task_id, view.state, view.cost) == ("oc-1", "created", None)


def test_octopusx_reads_completed_with_a_video_url_and_no_cover_or_cost():
    done = {
        "id": "oc-1",
        "status": "completed",
        "video_url": "https://o/v.mp4",
        "status_update_time": 1,
    }
    provider = Provider((200, {"id": "oc-1", "status": "processing"}), (200, done))
    octopusx = dialect("octopusx", provider)
    assert octopusx.query("oc-1").state == "processing"
    view = octopusx.query("oc-1")
    assert provider.last.url == "https://gateway.test/vidu/ent/v2/task/oc-1/creations"
    assert view.state == "success" and view.cost is None
    assert [(v.url, v.cover_url) for v in view.videos] == [("https://o/v.mp4", "")]


def test_octopusx_says_a_failure_came_without_a_reason():
    view = dialect("octopusx", Provider((200, {"id": "oc-1", "status": "failed"}))).query("oc-1")
    assert view.state == "failed"
    assert view.message == "Octopusx reported that the task failed. It gave no reason."


def test_octopusx_has_no_task_list_cancel_or_callbacks():
    octopusx = dialect("octopusx", Provider())
    assert not (octopusx.finds_lost_tasks or octopusx.cancels or octopusx.takes_callbacks)
    with pytest.raises(NotSupported):
        octopusx.cancel("oc-1")


def test_octopusx_errors_reach_the_user_with_its_message():
    error = {"error": {"code": "invalid_request", "message": "model not supported"}}
    with pytest.raises(Refused) as exc:
        dialect("octopusx", Provider((400, error))).create(submission())
    assert exc.value.reason == "invalid_request"
    assert exc.value.plain == "Octopusx refused the request. Octopusx said: model not supported"


# UModelverse (seed 001)


def test_umodelverse_puts_images_under_input_and_options_under_parameters():
    provider = Provider((200, {"output": {"task_id": "task_id"}, "request_id": "request_id"}))
    umodelverse = dialect("umodelverse", provider, "https://api.umodelverse.ai")
    view = umodelverse.create(
        submission("start-end2video", "viduq2-pro", bgm=True, movement_amplitude="auto")
    )
    assert provider.last.url == "https://api.umodelverse.ai/v1/tasks/submit"
    assert provider.last.headers["Authorization"] == "the-key"  # no scheme
    assert provider.body() == {
        "model": "viduq2-pro",
        "input": {"first_frame_url": IMAGE, "prompt": "make it dance.", "last_frame_url": END},
        "parameters": {
            "vidu_type": "start-end2video",
            "duration": 5,
            "resolution": "1080p",
            "bgm": True,
            "movement_amplitude": "auto",
        },
    }
    assert (view.task_id, view.state) == ("task_id", "created")


def test_umodelverse_sends_only_the_parameters_it_documents():
    provider = Provider((200, {"output": {"task_id": "t"}}))
    dialect("umodelverse", provider).create(submission(seed=7, audio=True, off_peak=True))
    assert provider.body()["parameters"] == {
        "vidu_type": "img2video",
        "duration": 5,
        "resolution": "1080p",
        "seed": 7,
    }
    assert "payload" not in provider.body()


def test_umodelverse_reads_its_status_example():
    example = {
        "output": {
            "task_id": "task_id",
            "task_status": "Success",
            "urls": ["https://xxxxx/xxxx.mp4"],
            "submit_time": 1756959000,
            "finish_time": 1756959050,
        },
        "usage": {"duration": 5},
        "request_id": "",
    }
    provider = Provider(
        (200, {"output": {"task_id": "task_id", "task_status": "Pending"}}),
        (200, {"output": {"task_id": "task_id", "task_status": "Running"}}),
        (200, example),
    )
    umodelverse = dialect("umodelverse", provider)
    assert umodelverse.query("task_id").state == "queueing"
    assert umodelverse.query("task_id").state == "processing"
    view = umodelverse.query("task_id")
    assert provider.last.url == "https://gateway.test/v1/tasks/status?task_id=task_id"
    assert view.state == "success" and view.cost is None
    assert [v.url for v in view.videos] == ["https://xxxxx/xxxx.mp4"]


def test_umodelverse_failure_carries_its_error_message():
    failed = {"output": {"task_id": "t", "task_status": "Failure", "error_message": "bad image"}}
    view = dialect("umodelverse", Provider((200, failed))).query("t")
    assert view.state == "failed"
    assert view.message == "UModelverse reported that the task failed. UModelverse said: bad image"


# KKIAI (seed 002)

KKIAI_CREATED = {
    "task_id": "911045603801182208",
    "type": "img2video",
    "state": "created",
    "model": "viduq1",
    "style": "general",
    "prompt": "镜头缓慢推进",
    "images": ["https://storage.xuanxu.net/images/1.png"],
    "duration": 5,
    "seed": 12345,
    "aspect_ratio": "",
    "resolution": "1080p",
    "movement_amplitude": "auto",
    "created_at": "2026-01-20T04:01:53.504648743Z",
    "credits": 80,
    "payload": "custom-tracking-id-123",
    "cus_priority": 0,
    "off_peak": False,
    "watermark": False,
    "is_rec": False,
    "wm_position": "unspecified",
    "wm_url": "",
    "meta_data": "",
    "client_request_id": "",
}


def test_kkiai_sends_the_official_body_with_a_bearer_key_and_reads_its_example():
    provider = Provider((200, KKIAI_CREATED))
    kkiai = dialect("kkiai", provider, "https://www.kkiai.com")
    view = kkiai.create(submission(model="viduq1", movement_amplitude="auto"))
    assert provider.last.url == "https://www.kkiai.com/ent/v2/img2video"
    assert provider.last.headers["Authorization"] == "Bearer the-key"
    assert provider.body()["prompt"] == "make it dance."
    assert view.task_id == "911045603801182208" and view.cost.amount == 80
    assert view.cost.unit == CREDITS


def test_kkiai_cannot_find_a_lost_task_or_cancel_but_takes_callbacks():
    kkiai = dialect("kkiai", Provider())
    assert kkiai.takes_callbacks and not kkiai.finds_lost_tasks and not kkiai.cancels
    with pytest.raises(NotSupported):
        from datetime import UTC, datetime

        kkiai.find_by_payload("gen-1", datetime.now(UTC))


def test_kkiai_queries_the_official_path():
    provider = Provider((200, OFFICIAL_DONE))
    assert dialect("kkiai", provider).query("t1").state == "success"
    assert provider.last.url.path == "/ent/v2/tasks/t1/creations"


# Vtrix (seed 003)


def test_vtrix_names_the_model_with_its_endpoint():
    assert model_id("img2video", "viduq1") == "viduq1_img2video"
    assert model_id("start-end2video", "viduq2-pro") == "viduq2_pro_start_end2video"


def test_vtrix_posts_every_model_to_one_path():
    provider = Provider((200, {"id": "vx-1", "status": "pending"}))
    vtrix = dialect("vtrix", provider, "https://cloud.vtrix.ai")
    view = vtrix.create(submission(model="viduq1", movement_amplitude="auto"))
    assert provider.last.url == "https://cloud.vtrix.ai/model/v1/generation"
    assert provider.last.headers["Authorization"] == "Bearer the-key"
    body = provider.body()
    assert body["model"] == "viduq1_img2video" and body["images"] == [IMAGE]
    assert body["duration"] == 5 and body["resolution"] == "1080p"
    assert (view.task_id, view.state) == ("vx-1", "created")


def test_vtrix_reads_videos_from_output_content_and_its_cost_in_dollars():
    done = {
        "id": "vx-1",
        "status": "completed",
        "progress": 1,
        "output": [{"content": [{"type": "video", "url": "https://v/out.mp4"}]}],
        "usage": {"cost": "0.2500", "discount": 0},
        "metadata": {},
    }
    provider = Provider((200, {"id": "vx-1", "status": "processing", "progress": 0.4}), (200, done))
    vtrix = dialect("vtrix", provider)
    assert vtrix.query("vx-1").state == "processing"
    view = vtrix.query("vx-1")
    assert provider.last.url.path == "/model/v1/generation/task/vx-1"
    assert view.state == "success" and [v.url for v in view.videos] == ["https://v/out.mp4"]
    assert view.cost.amount == Decimal("0.2500") and view.cost.unit == USD


@pytest.mark.parametrize(
    "error",
    [
        {"code": 8008003098, "error_message": "the render broke"},  # seed 003's field name
        {"code": 8008003098, "message": "the render broke"},  # its public docs'
    ],
)
def test_vtrix_failure_says_what_its_code_means_and_what_it_said(error):
    failed = {"id": "vx-1", "status": "failed", "error": error}
    view = dialect("vtrix", Provider((200, failed))).query("vx-1")
    assert view.state == "failed" and view.reason == "8008003098"
    assert view.message == (
        "Vtrix reported that the task failed. The generation failed. Vtrix said: the render broke"
    )


def test_vtrix_request_errors_are_refusals_in_plain_words():
    error = {"error": {"code": 8008003004, "message": "images[0] is not an image"}}
    with pytest.raises(Refused) as exc:
        dialect("vtrix", Provider((400, error))).create(submission(model="viduq1"))
    assert exc.value.plain == (
        "Vtrix could not use the image. Vtrix said: images[0] is not an image"
    )


def test_a_gateway_answer_wrapped_in_data_is_read_too():
    wrapped = {"code": 0, "data": {"id": "vx-2", "status": "pending"}}
    assert (
        dialect("vtrix", Provider((200, wrapped))).create(submission("img2video", "viduq1")).task_id
        == "vx-2"
    )
