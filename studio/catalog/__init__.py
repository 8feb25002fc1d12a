"""Every documented rule of every Vidu model, per endpoint: the one source of truth.

The form, the checks before submit, the UI hints, the cost estimate and the simulator
all read this package. Each rule carries a `Source`: the documents it comes from
(`DOCUMENTS`: the seeds 000..004, or "api" for ../shared/VIDU-API.md's summary of the
official platform docs) and, where the documents disagree or are silent, a note saying
what the other reading is. A disputed choice is one value in one place: change it there.

- `sources`: the documents, and a rule's citation of them
- `limits`: the rules for every model (formats, sizes, ratios, ranges)
- `endpoints`: the two endpoints and what their requests carry
- `models`: each model's durations, resolutions and options
- `providers`: who sells Vidu, what each offers and takes
- `prices`: the price tables and the estimate
- `resolve`: reading a request's choices against a model, for the checks and the form
- `checks`: the checks before submit, parameters and images
- `wording`: how lists, ratios and sizes are written from the numbers
"""

from .checks import (
    INVALID,
    MISSING,
    UNOFFERED,
    UNWANTED,
    Checked,
    Problem,
    check_parameters,
    image_ratio_problem,
    sent_payload_problem,
    start_end_ratio_problem,
)
from .endpoints import (
    ENDPOINT_LABELS,
    ENDPOINT_RULE_NAMES,
    ENDPOINT_RULES,
    ENDPOINTS,
    IMG2VIDEO,
    START_END2VIDEO,
    Endpoint,
    endpoint_rules,
)
from .limits import (
    CONTENT_FORMATS,
    IMAGE_FORMATS,
    IMAGE_MAX_BYTES,
    IMAGE_MAX_RATIO,
    IMAGE_MIN_RATIO,
    IS_REC_EXTRA_CREDITS,
    LIMITS,
    META_DATA_MAX_CHARS,
    MOVEMENT_AMPLITUDES,
    OFF_PEAK_HOURS,
    PAYLOAD_MAX_CHARS,
    PAYLOAD_RESERVE,
    REQUEST_BODY_MAX_BYTES,
    SEED_MAX,
    SEED_MIN,
    START_END_RATIO_MAX,
    START_END_RATIO_MIN,
    WM_POSITION_DEFAULT,
    WM_POSITION_NAMES,
    WM_POSITIONS,
    Limit,
)
from .models import (
    DEFAULT_MODEL,
    MODEL_RULE_NAMES,
    MODELS,
    TITLES,
    Model,
    Option,
    Resolutions,
    get_model,
    models_for,
)
from .prices import (
    PRICE_PER_SECOND,
    PRICE_PER_VIDEO,
    PRICE_SOURCE,
    Estimate,
    default_model,
    estimate,
    estimate_credits,
)
from .providers import (
    DEFAULT_PROVIDER,
    PROVIDERS,
    Provider,
    missing_models,
    model_label,
    models_offered,
    options_for,
    provider,
)
from .resolve import FLAGS, flag, settle, truthy
from .sources import DOCUMENTS, Document, Source, cite
from .wording import MB, not_taken

__all__ = [
    "CONTENT_FORMATS",
    "DEFAULT_MODEL",
    "DEFAULT_PROVIDER",
    "DOCUMENTS",
    "ENDPOINTS",
    "ENDPOINT_LABELS",
    "ENDPOINT_RULES",
    "ENDPOINT_RULE_NAMES",
    "FLAGS",
    "IMAGE_FORMATS",
    "IMAGE_MAX_BYTES",
    "IMAGE_MAX_RATIO",
    "IMAGE_MIN_RATIO",
    "IMG2VIDEO",
    "INVALID",
    "IS_REC_EXTRA_CREDITS",
    "LIMITS",
    "MB",
    "META_DATA_MAX_CHARS",
    "MISSING",
    "MODELS",
    "MODEL_RULE_NAMES",
    "MOVEMENT_AMPLITUDES",
    "OFF_PEAK_HOURS",
    "PAYLOAD_MAX_CHARS",
    "PAYLOAD_RESERVE",
    "PRICE_PER_SECOND",
    "PRICE_PER_VIDEO",
    "PRICE_SOURCE",
    "PROVIDERS",
    "REQUEST_BODY_MAX_BYTES",
    "SEED_MAX",
    "SEED_MIN",
    "START_END2VIDEO",
    "START_END_RATIO_MAX",
    "START_END_RATIO_MIN",
    "UNOFFERED",
    "UNWANTED",
    "WM_POSITIONS",
    "WM_POSITION_DEFAULT",
    "WM_POSITION_NAMES",
    "Checked",
    "Document",
    "Endpoint",
    "Estimate",
    "Limit",
    "Model",
    "Option",
    "Problem",
    "Provider",
    "Resolutions",
    "TITLES",
    "Source",
    "check_parameters",
    "cite",
    "default_model",
    "endpoint_rules",
    "estimate",
    "estimate_credits",
    "flag",
    "get_model",
    "image_ratio_problem",
    "missing_models",
    "model_label",
    "models_for",
    "models_offered",
    "not_taken",
    "options_for",
    "provider",
    "sent_payload_problem",
    "settle",
    "start_end_ratio_problem",
    "truthy",
]
