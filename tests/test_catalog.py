"""The catalog against the seed documents, rule by rule, model by model.

`DOCUMENTED` below is written out by hand from /work/shared/seeds (and VIDU-API.md
section 2), independently of studio/catalog.py: the table-driven tests compare the
catalog with it, and the property tests use it as the oracle for what a parameter set
must be accepted or refused on. The last tests drive real HTTP against the simulator.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from studio import catalog
from studio.models import Membership
from studio.simulator import Simulator
from studio.vidu import registry
from studio.web.forms.generation import GenerationForm
from studio.web.views.generate import _create
from studio.worker import submission
from tests.conftest import png

IMG, SE = "img2video", "start-end2video"
R3 = ("540p", "720p", "1080p")


@dataclass(frozen=True)
class Documented:
    offered: tuple[str, ...]  # the documents that list the model for this endpoint
    durations: tuple[int, ...]
    default_duration: int
    resolutions: dict  # duration -> (choices, default)
    movement: bool  # movement_amplitude takes effect
    audio: str | None  # None: not offered; "optional"; "default_on"
    voice: bool  # voice_id takes effect (with audio on)
    bgm: bool
    bgm_no_effect: tuple[int, ...]
    off_peak_with_audio: bool


def span(lo, hi):
    return tuple(range(lo, hi + 1))


def same(durations, choices, default):
    return {d: (choices, default) for d in durations}


VIDU20_RES = {4: (("360p", "720p", "1080p"), "360p"), 8: (("720p",), "720p")}


def q3(offered, img):
    # [002] 1-16 s default 5, 540p/720p/1080p default 720p, audio defaults to true;
    # [004] the same for start-end, no movement on q3, no BGM on q3, off-peak "except q3";
    # [000] voice_id has no effect on q3.
    return Documented(
        offered, span(1, 16), 5, same(span(1, 16), R3, "720p"), False, "default_on", False,
        False, (), not img,
    )  # fmt: skip


def q2(offered, img, res=R3):
    # [000, 001, 002] img2video 1-10 s; [004] start-end 1-8 s; both default 5 and 720p;
    # [002, 004] no movement on q2; [002] audio optional, voice only with audio, no
    # off-peak with audio; [004] audio only on q3 for start-end, BGM no effect at 9-10 s.
    durations = span(1, 10) if img else span(1, 8)
    return Documented(
        offered, durations, 5, same(durations, res, "720p"), False,
        "optional" if img else None, img, True, (9, 10), False,
    )  # fmt: skip


def q1(offered, img):
    # [003, 004] 5 s only, 1080p only, movement auto/small/medium/large, BGM yes;
    # [003] audio optional (img2video); [004] no audio on start-end for q1.
    return Documented(
        offered, (5,), 5, same((5,), ("1080p",), "1080p"), True,
        "optional" if img else None, img, True, (), False,
    )  # fmt: skip


def vidu20(offered, img):
    # [004] 4 or 8 s (default 4); 4 s: 360p/720p/1080p (360p), 8 s: 720p only.
    return Documented(
        offered, (4, 8), 4, VIDU20_RES, True, "optional" if img else None, img, True, (), False,
    )  # fmt: skip


DOCUMENTED = {
    (IMG, "viduq3-pro"): q3(("000", "002"), True),
    (IMG, "viduq3-turbo"): q3(("002",), True),
    (IMG, "viduq2-pro"): q2(("000", "001"), True),
    (IMG, "viduq2-turbo"): q2(("000", "001"), True),
    # [000] lists the q2 series with 540p too; [004] gives pro-fast 720p/1080p only.
    (IMG, "viduq2-pro-fast"): q2(("000",), True, ("720p", "1080p")),
    (IMG, "viduq2"): q2(("002",), True),
    (IMG, "viduq1"): q1(("000", "002", "003"), True),
    (IMG, "viduq1-classic"): q1(("000",), True),
    (IMG, "vidu2.0"): vidu20(("000",), True),
    (SE, "viduq3-pro"): q3(("004",), False),
    (SE, "viduq3-turbo"): q3(("004",), False),
    (SE, "viduq2-pro"): q2(("004",), False),
    (SE, "viduq2-turbo"): q2(("004",), False),
    (SE, "viduq2-pro-fast"): q2(("004",), False, ("720p", "1080p")),
    (SE, "viduq1"): q1(("004",), False),
    (SE, "viduq1-classic"): q1(("004",), False),
    (SE, "vidu2.0"): vidu20(("004",), False),
}
PROMPT_MAX = {IMG: 2000, SE: 5000}  # [001, 002, 003]; [004]
WATERMARK = {IMG: True, SE: False}  # [000, 002, 003]; not in [004]
META_DATA = {IMG: True, SE: False}  # [000, 002]; not in [004]
ROWS = sorted(DOCUMENTED.items())
# viduq2 is KKIAI's name for the Q2 series [002], not an official model id: the official
# API (the catalog's default provider) does not offer it.
GATEWAY_ONLY = {(IMG, "viduq2"): "kkiai"}
OFFICIAL_ROWS = [row for row in ROWS if row[0] not in GATEWAY_ONLY]


def provider_of(endpoint, model) -> tuple[str, dict]:
    """A provider that offers the model, and what it needs besides (KKIAI: a prompt)."""
    name = GATEWAY_ONLY.get((endpoint, model), "official")
    return name, ({"prompt": "a prompt"} if catalog.PROVIDERS[name].prompt_required else {})


def row_id(item):
    (endpoint, model), _ = item
    return f"{endpoint}-{model}"


# the table, model by model


@pytest.mark.parametrize("endpoint", [IMG, SE])
def test_it_offers_exactly_the_documented_models(endpoint):
    documented = {model for (e, model) in DOCUMENTED if e == endpoint}
    assert set(catalog.MODELS[endpoint]) == documented


@pytest.mark.parametrize("item", ROWS, ids=row_id)
def test_each_model_follows_its_documents(item):
    (endpoint, name), doc = item
    model = catalog.get_model(endpoint, name)
    assert model.source("model").docs == doc.offered
    assert model.durations == doc.durations
    assert model.default_duration == doc.default_duration
    for duration in doc.durations:
        rule = model.resolution_rule(duration)
        assert (rule.choices, rule.default) == doc.resolutions[duration], duration
    assert model.movement_amplitude == doc.movement
    assert model.audio == doc.audio
    assert model.voice_id == doc.voice
    assert model.bgm == doc.bgm
    assert tuple(d for d in doc.durations if not model.bgm_applies(d)) == (
        tuple(d for d in doc.bgm_no_effect if d in doc.durations) if doc.bgm else doc.durations
    )
    assert model.off_peak_with_audio == doc.off_peak_with_audio


@pytest.mark.parametrize("item", ROWS, ids=row_id)
def test_every_model_rule_names_its_source(item):
    (endpoint, name), _ = item
    model = catalog.get_model(endpoint, name)
    for rule in catalog.MODEL_RULE_NAMES:
        source = model.source(rule)
        assert source.docs, (name, rule)
        assert set(source.docs) <= set(catalog.DOCUMENTS), (name, rule, source)
        assert str(source).startswith("[") and source.titles
    # start-end2video is documented in one place only: [004].
    if endpoint == SE:
        assert {d for rule in catalog.MODEL_RULE_NAMES for d in model.source(rule).docs} <= {"004"}


def test_every_limit_and_endpoint_rule_names_its_source():
    for name, limit in catalog.LIMITS.items():
        assert limit.source.docs and set(limit.source.docs) <= set(catalog.DOCUMENTS), name
        assert limit.text, name
    for endpoint in catalog.ENDPOINTS:
        rules = catalog.endpoint_rules(endpoint)
        for rule in catalog.ENDPOINT_RULE_NAMES:
            assert set(rules.source(rule).docs) <= set(catalog.DOCUMENTS), (endpoint, rule)
    assert set(catalog.PRICE_SOURCE.docs) <= set(catalog.DOCUMENTS)


def test_where_the_documents_disagree_the_catalog_says_so():
    pro_fast = catalog.get_model(IMG, "viduq2-pro-fast").source("resolution")
    assert pro_fast.docs == ("004",) and "[000]" in pro_fast.note
    prompt = catalog.endpoint_rules(IMG).source("prompt")
    assert "[002] marks it required" in prompt.note
    assert catalog.endpoint_rules(IMG).prompt_required is False
    bgm = catalog.get_model(IMG, "viduq3-pro").source("bgm")
    assert "VIDU-API.md applies it to img2video" in bgm.note
    off_peak = catalog.get_model(SE, "viduq3-pro").source("off_peak")
    assert off_peak.docs == ("004",) and "[002]" in off_peak.note


@pytest.mark.parametrize(
    "endpoint, key, value",
    [
        (IMG, "images", 1),
        (SE, "images", 2),
        (IMG, "prompt_max", 2000),
        (SE, "prompt_max", 5000),
        (IMG, "watermark", True),
        (SE, "watermark", False),
        (IMG, "meta_data", True),
        (SE, "meta_data", False),
    ],
)
def test_endpoint_rules_follow_the_documents(endpoint, key, value):
    assert getattr(catalog.endpoint_rules(endpoint), key) == value


def test_limits_follow_the_documents():
    assert set(catalog.IMAGE_FORMATS) == {"png", "jpeg", "webp"}  # and jpg, which is jpeg
    assert catalog.IMAGE_MAX_BYTES == 50_000_000
    assert catalog.REQUEST_BODY_MAX_BYTES == 20_000_000
    assert (catalog.IMAGE_MIN_RATIO, catalog.IMAGE_MAX_RATIO) == (0.25, 4.0)
    assert (catalog.START_END_RATIO_MIN, catalog.START_END_RATIO_MAX) == (0.8, 1.25)
    assert catalog.PAYLOAD_MAX_CHARS == 1_048_576
    assert catalog.WM_POSITIONS == (1, 2, 3, 4) and catalog.WM_POSITION_DEFAULT == 3
    assert catalog.MOVEMENT_AMPLITUDES == ("auto", "small", "medium", "large")
    assert catalog.IS_REC_EXTRA_CREDITS == 10


# checking parameters, model by model


@pytest.mark.parametrize("item", ROWS, ids=row_id)
def test_it_fills_in_each_models_defaults(item):
    (endpoint, name), doc = item
    provider, needs = provider_of(endpoint, name)
    checked = catalog.check_parameters(endpoint, {"model": name, **needs}, provider)
    assert checked.ok, checked.problems
    p = checked.params
    assert p["duration"] == doc.default_duration
    assert p["resolution"] == doc.resolutions[doc.default_duration][1]
    assert ("movement_amplitude" in p) == doc.movement
    if doc.movement:
        assert p["movement_amplitude"] == "auto"
    assert p.get("audio") == ({"default_on": True, "optional": False}.get(doc.audio))
    assert "bgm" not in p and "off_peak" not in p and "seed" not in p


@pytest.mark.parametrize("item", ROWS, ids=row_id)
def test_it_takes_every_documented_duration_and_resolution_and_nothing_else(item):
    (endpoint, name), doc = item
    for duration in span(0, 17):
        for resolution in ("360p", "540p", "720p", "1080p"):
            provider, needs = provider_of(endpoint, name)
            raw = {"model": name, "duration": duration, "resolution": resolution, **needs}
            checked = catalog.check_parameters(endpoint, raw, provider)
            allowed = duration in doc.durations and resolution in doc.resolutions[duration][0]
            assert checked.ok == allowed, (duration, resolution, checked.problems)


@pytest.mark.parametrize(
    "endpoint, raw, field, message",
    [
        (IMG, {"model": "viduq1", "duration": 8}, "duration", "viduq1 makes 5-second videos only"),
        (
            SE,
            {"model": "viduq2-pro", "duration": 9},
            "duration",
            "viduq2-pro makes videos of 1 to 8 seconds; 9 is not offered.",
        ),
        (IMG, {"model": "vidu2.0", "duration": 6}, "duration", "4- or 8-second videos"),
        (
            IMG,
            {"model": "vidu2.0", "duration": 8, "resolution": "1080p"},
            "resolution",
            "vidu2.0 makes 720p only at 8 seconds; 1080p is not offered.",
        ),
        (
            IMG,
            {"model": "viduq2-pro-fast", "resolution": "540p"},
            "resolution",
            "viduq2-pro-fast makes 720p or 1080p; 540p is not offered.",
        ),
        (IMG, {"model": "viduq3-pro", "bgm": True}, "bgm", "not available on Vidu Q3 Pro"),
        (
            IMG,
            {"model": "viduq2-turbo", "duration": 10, "bgm": True},
            "bgm",
            "no effect on Vidu Q2 Turbo at 10 seconds",
        ),
        (
            IMG,
            {"model": "viduq2-pro", "movement_amplitude": "large"},
            "movement_amplitude",
            "no effect on Vidu Q2 Pro",
        ),
        (IMG, {"model": "viduq3-pro", "voice_id": "v1"}, "voice_id", "no effect on Vidu Q3 Pro"),
        (IMG, {"model": "viduq2-pro", "voice_id": "v1"}, "voice_id", "switch audio on"),
        (SE, {"model": "viduq2-pro", "audio": True}, "audio", "Vidu Q2 Pro makes silent videos"),
        (
            IMG,
            {"model": "viduq3-pro", "off_peak": True},
            "off_peak",
            "Off-peak is not available with audio on Vidu Q3 Pro",
        ),
        (
            IMG,
            {"model": "viduq1", "audio": True, "off_peak": True},
            "off_peak",
            "not available with audio",
        ),
        (IMG, {"model": "vidu9"}, "model", "vidu9 is not offered for image to video"),
        (SE, {"model": "viduq2"}, "model", "viduq2 is not offered"),
        (IMG, {"model": "viduq2-turbo", "prompt": "x" * 2001}, "prompt", "at most 2,000"),
        (SE, {"model": "viduq2-turbo", "prompt": "x" * 5001}, "prompt", "at most 5,000"),
        (IMG, {"model": "viduq2-turbo", "wm_position": 5}, "wm_position", "1 top left"),
        (SE, {"model": "viduq2-turbo", "watermark": True}, "watermark", "not offered"),
        (SE, {"model": "viduq2-turbo", "meta_data": "{}"}, "meta_data", "not offered"),
        (IMG, {"model": "viduq2-turbo", "meta_data": "{nope"}, "meta_data", "must be JSON"),
        (IMG, {"model": "viduq2-turbo", "seed": -1}, "seed", "between 0 and 2147483647"),
        (
            IMG,
            {"model": "viduq2-turbo", "payload": "x" * 1_048_577},
            "payload",
            "at most 1,048,576",
        ),
    ],
)
def test_it_explains_each_refusal_in_the_users_words(endpoint, raw, field, message):
    checked = catalog.check_parameters(endpoint, raw)
    assert [p.field for p in checked.problems] == [field]
    assert message in checked.problems[0].message


@pytest.mark.parametrize(
    "endpoint, raw",
    [
        (SE, {"model": "viduq3-pro", "off_peak": True}),  # [004]: off-peak "except for q3"
        (IMG, {"model": "viduq3-pro", "audio": False, "off_peak": True}),
        (IMG, {"model": "viduq2-pro", "audio": True, "voice_id": "v1"}),
        (IMG, {"model": "viduq2-turbo", "duration": 8, "bgm": True}),
        (IMG, {"model": "viduq2-turbo", "movement_amplitude": "auto"}),  # ignored, not sent
        (IMG, {"model": "viduq2-turbo", "prompt": "x" * 2000, "payload": "y" * 1_048_576}),
        (SE, {"model": "viduq2-turbo", "prompt": "x" * 5000}),
        (IMG, {"model": "viduq2-turbo", "seed": 2**31 - 1, "watermark": True, "wm_position": 1}),
    ],
)
def test_it_accepts_the_documented_edges(endpoint, raw):
    checked = catalog.check_parameters(endpoint, raw)
    assert checked.ok, checked.problems
    assert "movement_amplitude" not in checked.params or raw["model"] == "viduq1"


def test_an_option_that_does_not_apply_is_never_sent():
    checked = catalog.check_parameters(
        IMG, {"model": "viduq2-turbo", "movement_amplitude": "auto", "wm_position": 2}
    )
    assert "movement_amplitude" not in checked.params and "wm_position" not in checked.params


# images


@pytest.mark.parametrize(
    "size, ok",
    [
        ((400, 100), False),  # exactly 4:1: "less than 4:1"
        ((100, 400), False),
        ((399, 100), True),
        ((100, 399), True),
        ((500, 100), False),
        ((1, 1), True),
    ],
)
def test_the_aspect_ratio_is_strictly_between_1_to_4_and_4_to_1(size, ok):
    assert (catalog.image_ratio_problem(*size) is None) == ok


def test_aspect_ratio_messages_name_the_ratio_and_the_fix():
    assert catalog.image_ratio_problem(500, 100) == (
        "This image is 5:1; Vidu needs an aspect ratio between 1:4 and 4:1. "
        "Crop it to make it less wide."
    )
    assert "not exactly 1:4" in catalog.image_ratio_problem(250, 1000)
    # 4001:1000 is just over the limit: it must not read as "4:1".
    assert catalog.image_ratio_problem(4001, 1000).startswith("This image is 4.001:1;")


@pytest.mark.parametrize(
    "start, end, ok",
    [
        ((125, 100), (100, 100), True),  # 1.25
        ((100, 100), (125, 100), True),  # 0.8
        ((126, 100), (100, 100), False),
        ((100, 100), (126, 100), False),
        ((16, 9), (9, 16), False),
    ],
)
def test_start_and_end_ratios_are_within_0_8_and_1_25(start, end, ok):
    assert (catalog.start_end_ratio_problem(start, end) is None) == ok


# the estimate


@pytest.mark.parametrize(
    "model, duration, resolution, credits",
    [
        ("viduq2-turbo", 5, "720p", 5),  # 1 a second
        ("viduq2-turbo", 5, "1080p", 10),
        ("viduq2-pro", 4, "720p", 8),
        ("viduq2-pro", 4, "1080p", 16),
        ("viduq1", 5, "1080p", 8),
        ("vidu2.0", 4, "360p", 2),
        ("vidu2.0", 4, "720p", 4),
        ("vidu2.0", 4, "1080p", 10),
        ("vidu2.0", 8, "720p", 10),
    ],
)
def test_the_estimate_follows_the_third_party_price_list(model, duration, resolution, credits):
    assert (
        catalog.estimate_credits({"model": model, "duration": duration, "resolution": resolution})
        == credits
    )


def test_a_recommended_prompt_adds_10_and_off_peak_costs_less():
    base = catalog.estimate_credits({"model": "viduq2-pro", "duration": 8, "resolution": "1080p"})
    assert (
        catalog.estimate_credits(
            {"model": "viduq2-pro", "duration": 8, "resolution": "1080p", "is_rec": True}
        )
        == base + 10
    )
    assert (
        catalog.estimate_credits(
            {"model": "viduq2-pro", "duration": 8, "resolution": "1080p", "off_peak": True}
        )
        < base
    )
    assert (
        catalog.estimate_credits(
            {"model": "vidu2.0", "duration": 4, "resolution": "360p", "off_peak": True}
        )
        >= 1
    )
    assert (
        "off-peak"
        in catalog.estimate(
            {"model": "viduq2-pro", "duration": 8, "resolution": "1080p", "off_peak": True}
        ).basis
    )


@pytest.mark.parametrize("item", ROWS, ids=row_id)
def test_every_offered_combination_has_a_price(item):
    (endpoint, name), doc = item
    for duration in doc.durations:
        for resolution in doc.resolutions[duration][0]:
            listed = (name, duration, resolution) in catalog.PRICE_PER_VIDEO or (
                resolution in catalog.PRICE_PER_SECOND.get(name, {})
            )
            assert listed, (name, duration, resolution)


# the oracle, and the properties


def documented_ok(endpoint: str, raw: dict, payload_max: int = catalog.PAYLOAD_MAX_CHARS) -> bool:
    """Whether the documents (as the studio reads them) allow `raw`, from DOCUMENTED."""
    doc = DOCUMENTED.get((endpoint, raw.get("model")))
    if doc is None or (endpoint, raw.get("model")) in GATEWAY_ONLY:
        return False
    duration = raw.get("duration")
    duration = doc.default_duration if duration is None else duration
    if duration not in doc.durations:
        return False
    choices, default = doc.resolutions[duration]
    if (raw.get("resolution") or default) not in choices:
        return False
    seed = raw.get("seed")
    if seed is not None and not 0 <= seed <= 2**31 - 1:
        return False
    amplitude = raw.get("movement_amplitude")
    if doc.movement and amplitude not in (None, "auto", "small", "medium", "large"):
        return False
    if not doc.movement and amplitude not in (None, "auto"):
        return False
    audio = raw.get("audio")
    if doc.audio is None and audio:
        return False
    audio_on = doc.audio is not None and (doc.audio == "default_on" if audio is None else audio)
    if raw.get("voice_id") and not (doc.voice and audio_on):
        return False
    if raw.get("bgm") and (not doc.bgm or duration in doc.bgm_no_effect):
        return False
    if raw.get("off_peak") and audio_on and not doc.off_peak_with_audio:
        return False
    if len(raw.get("prompt") or "") > PROMPT_MAX[endpoint]:
        return False
    if WATERMARK[endpoint]:
        if raw.get("wm_position") is not None and raw["wm_position"] not in (1, 2, 3, 4):
            return False
        if raw.get("wm_url") and not raw["wm_url"].startswith(("http://", "https://")):
            return False
    elif raw.get("watermark") or raw.get("wm_position") is not None or raw.get("wm_url"):
        return False
    if len(raw.get("payload") or "") > payload_max:
        return False
    meta = raw.get("meta_data")
    if meta:
        if not META_DATA[endpoint]:
            return False
        try:
            json.loads(meta)
        except ValueError:
            return False
    return True


ALL_MODELS = sorted({model for (_, model) in DOCUMENTED}) + ["vidu9"]


@st.composite
def parameter_sets(draw, endpoint=None):
    endpoint = endpoint or draw(st.sampled_from([IMG, SE]))
    raw = {
        "model": draw(st.sampled_from(ALL_MODELS)),
        "duration": draw(st.none() | st.integers(0, 17)),
        "resolution": draw(st.none() | st.sampled_from(["360p", "540p", "720p", "1080p", "4k"])),
        "movement_amplitude": draw(
            st.none() | st.sampled_from(["auto", "small", "medium", "large", "huge"])
        ),
        "audio": draw(st.none() | st.booleans()),
        "voice_id": draw(st.none() | st.just("voice-1")),
        "bgm": draw(st.booleans()),
        "is_rec": draw(st.booleans()),
        "off_peak": draw(st.booleans()),
        "seed": draw(st.none() | st.sampled_from([-1, 0, 7, 2**31 - 1, 2**31])),
        "prompt": "p" * draw(st.sampled_from([0, 12, 2000, 2001, 5000, 5001])),
        "watermark": draw(st.booleans()),
        "wm_position": draw(st.none() | st.integers(0, 5)),
        "wm_url": draw(
            st.none() | st.sampled_from(["https://example.com/mark.png", "ftp://example.com/m"])
        ),
        "payload": "q" * draw(st.sampled_from([0, 5, catalog.PAYLOAD_MAX_CHARS - 50])),
        "meta_data": draw(st.none() | st.sampled_from(['{"Label": "x"}', "{not json"])),
    }
    return endpoint, raw


@st.composite
def documented_parameter_sets(draw):
    """Parameter sets the documents allow, drawn from DOCUMENTED (options and edges)."""
    (endpoint, model), doc = draw(st.sampled_from(OFFICIAL_ROWS))
    duration = draw(st.sampled_from(doc.durations))
    choices, _ = doc.resolutions[duration]
    audio = draw(st.none() | st.booleans()) if doc.audio else None
    audio_on = doc.audio is not None and (doc.audio == "default_on" if audio is None else audio)
    raw = {
        "model": model,
        "duration": duration,
        "resolution": draw(st.sampled_from(choices)),
        "movement_amplitude": draw(st.sampled_from(["auto", "small", "medium", "large"]))
        if doc.movement
        else None,
        "audio": audio,
        "voice_id": draw(st.sampled_from([None, "voice-1"])) if doc.voice and audio_on else None,
        "bgm": draw(st.booleans()) if doc.bgm and duration not in doc.bgm_no_effect else False,
        "is_rec": draw(st.booleans()),
        "off_peak": draw(st.booleans()) if doc.off_peak_with_audio or not audio_on else False,
        "seed": draw(st.none() | st.sampled_from([0, 1, 2**31 - 1])),
        "prompt": "p" * draw(st.sampled_from([0, 12, PROMPT_MAX[endpoint]])),
        "payload": draw(st.sampled_from(["", "mine", "é" * 1000])),
    }
    if WATERMARK[endpoint]:
        raw["watermark"] = draw(st.booleans())
        raw["wm_position"] = draw(st.none() | st.integers(1, 4))
        raw["wm_url"] = draw(st.none() | st.just("https://example.com/mark.png"))
        raw["meta_data"] = draw(st.none() | st.just('{"Label": "x"}'))
    return endpoint, raw


@settings(max_examples=600, deadline=None)
@given(parameter_sets())
def test_a_parameter_set_is_accepted_exactly_when_the_documents_allow_it(case):
    endpoint, raw = case
    checked = catalog.check_parameters(endpoint, raw)
    assert checked.ok == documented_ok(endpoint, raw), checked.problems


@settings(max_examples=300, deadline=None)
@given(documented_parameter_sets() | parameter_sets())
def test_what_the_catalog_accepts_it_accepts_again_unchanged(case):
    endpoint, raw = case
    checked = catalog.check_parameters(endpoint, raw)
    assume(checked.ok)
    again = catalog.check_parameters(endpoint, checked.params)
    assert again.ok and again.params == checked.params


@settings(max_examples=300, deadline=None)
@given(parameter_sets())
def test_the_forms_nearest_valid_choices_are_always_accepted(case):
    endpoint, raw = case
    settled = catalog.settle(endpoint, raw)
    checked = catalog.check_parameters(endpoint, settled)
    assert checked.ok, (settled, checked.problems)
    # What was already valid stays as it was.
    if documented_ok(endpoint, raw) and raw["model"] in catalog.MODELS[endpoint]:
        assert settled["model"] == raw["model"]
        if raw["duration"] is not None:
            assert settled["duration"] == raw["duration"]


def form_data(raw: dict) -> dict:
    """What a browser would post for `raw`: checkboxes only when ticked."""
    data = {}
    for name, value in raw.items():
        if value is None:
            continue
        if name == "audio":
            data[name] = "true" if value else "false"
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = str(value)
    return data


def form_files(endpoint: str) -> dict:
    if endpoint == IMG:
        return {"images": SimpleUploadedFile("a.png", SMALL_PNG, "image/png")}
    return {
        "start_image": SimpleUploadedFile("s.png", SMALL_PNG, "image/png"),
        "end_image": SimpleUploadedFile("e.png", SMALL_PNG, "image/png"),
    }


SMALL_PNG = png(64, 48)


@settings(max_examples=400, deadline=None)
@given(parameter_sets())
def test_the_form_accepts_exactly_what_the_documents_allow(case):
    endpoint, raw = case
    form = GenerationForm(endpoint, form_data(raw), form_files(endpoint))
    expected = documented_ok(endpoint, raw, catalog.PAYLOAD_MAX_CHARS - catalog.PAYLOAD_RESERVE)
    assert form.is_valid() == expected, form.errors


@pytest.fixture(scope="module")
def simulator():
    # Tasks stay "created" for a minute: this test is about what the simulator's intake
    # accepts, and needs no video rendered.
    with Simulator(port=0, api_key="catalog-key", seconds=60, fps=1) as sim:
        yield sim


@settings(max_examples=200, deadline=None)
@given(documented_parameter_sets())
def test_every_documented_parameter_set_is_accepted(case):
    endpoint, raw = case
    assert documented_ok(endpoint, raw)
    assert catalog.check_parameters(endpoint, raw).ok
    assert GenerationForm(endpoint, form_data(raw), form_files(endpoint)).is_valid()


@pytest.mark.django_db
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=documented_parameter_sets() | parameter_sets())
def test_the_simulator_never_refuses_what_the_form_accepted(case, simulator, alice, media_root):
    endpoint, raw = case
    form = GenerationForm(endpoint, form_data(raw), form_files(endpoint))
    assume(form.is_valid())
    membership = Membership.objects.get(user=alice)
    generation = _create(form, membership, alice)
    body = registry.connect().body(submission.build(generation))
    answer = httpx.post(
        f"{simulator.base_url}/ent/v2/{endpoint}",
        json=body,
        headers={"Authorization": "Token catalog-key"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    task = answer.json()
    assert (task["model"], task["duration"], task["resolution"]) == (
        generation.model,
        generation.params["duration"],
        generation.params["resolution"],
    )
    assert task["credits"] == generation.estimated_credits


def test_every_model_has_a_name_and_a_character_for_people():
    for models in catalog.MODELS.values():
        for model in models.values():
            assert model.title.startswith("Vidu ") and model.character, model.name
            assert model.label.startswith(f"{model.title} — {model.character}, ")
            assert model.name not in model.label, model.name
    q2 = catalog.get_model(SE, "viduq2-turbo")
    assert catalog.model_label(q2, "official") == "Vidu Q2 Turbo — fast, good detail, silent"
    q2 = catalog.get_model(IMG, "viduq2-turbo")
    assert catalog.model_label(q2, "official").endswith("sound optional")
    assert catalog.model_label(q2, "umodelverse").endswith("silent")  # takes no audio


def test_frames_of_different_shapes_are_told_in_ratios():
    problem = catalog.start_end_ratio_problem((640, 360), (360, 640))
    assert problem.startswith("The start frame is 16:9 and the end frame 9:16, too different")
    assert "16:9 goes with 3:2, not with 4:3" in problem
    assert not re.search(r"\d\.\d", problem)  # no 3.16 or 0.8
    assert catalog.start_end_ratio_problem((640, 360), (600, 400)) is None  # 16:9 and 3:2
    assert catalog.start_end_ratio_problem((640, 360), (400, 300))  # 16:9 and 4:3
    assert "16:9 goes with 3:2" in catalog.LIMITS["start_end_ratio"].text
