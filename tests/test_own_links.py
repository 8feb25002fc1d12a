"""A frame too big for the request goes as the studio's own signed link; when the
provider cannot fetch that link (the web server restarting mid-upload), the frame is
sent inside the request instead, and the video is not failed for good."""

import pytest

from studio.simulator import Simulator
from studio.vidu import registry
from studio.vidu.base import Refused, Submission
from studio.worker import jobs, submission
from tests.conftest import free_port
from tests.test_images import KEY, big_png, stored_generation  # noqa: F401 (a fixture)


@pytest.fixture
def simulator(settings):
    with Simulator(port=0, api_key=KEY, seconds=60, fps=1) as sim:
        settings.VIDU_API_KEY = KEY
        settings.VIDU_BASE_URL = sim.base_url
        settings.STUDIO_BACKOFF_BASE = 0.01
        registry.forget_clients()
        yield sim
        registry.forget_clients()


@pytest.mark.django_db(transaction=True)
def test_an_own_link_the_provider_cannot_fetch_is_replaced_by_the_image_inline(
    simulator,
    team,
    alice,
    media_root,
    settings,
    big_png,  # noqa: F811
):
    settings.STUDIO_PUBLIC_URL = f"http://127.0.0.1:{free_port()}"  # nobody answers there
    generation = stored_generation(team, alice, [big_png])
    assert jobs.submit(str(generation.pk)) == "submitted"
    generation.refresh_from_db()
    assert generation.state == "created" and generation.provider_task_id
    [task] = simulator.board.tasks()
    assert task.images[0].startswith("data:image/jpeg;base64,")  # re-encoded to fit
    assert not generation.error_reason


@pytest.mark.parametrize(
    "images, reason, inline",
    [
        (["https://studio.example/inputs/x/frame-0.png"], "ImageDownloadFailure", True),
        (["data:image/png;base64,AAAA"], "ImageDownloadFailure", False),  # nothing to fetch
        (["https://studio.example/inputs/x/frame-0.png"], "CreditInsufficient", False),
    ],
)
def test_only_a_refused_fetch_of_our_own_link_is_sent_again_inline(images, reason, inline):
    request = Submission(endpoint="img2video", model="viduq2-turbo", images=tuple(images))
    refusal = Refused(reason, "the provider said so", status=400)
    assert submission._own_link_unreachable(refusal, request) is inline
