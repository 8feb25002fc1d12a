"""The part of a create request every dialect shares, once its front has read the body.

A front parses the body with its own pydantic model, translates it into Vidu's parameter
names and hands them here: `check` applies the documented per-model rules
(`studio.catalog`), loads the images and checks their shapes. Refusals are `ApiError`s
in neutral words; the front renders them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from pydantic import ValidationError

from studio import catalog

from .errors import ApiError, bad
from .images import Picture, load_picture

# The official API's reason for each kind of problem the catalog finds.
REASONS = {
    catalog.INVALID: "FieldInvalid",
    catalog.MISSING: "FieldLacking",
    catalog.UNWANTED: "FieldUnwanted",
    catalog.UNOFFERED: "ModelUnavailable",
}


@dataclass
class Accepted:
    endpoint: str
    params: dict  # catalog.check_parameters' params: Vidu's names, defaults filled in
    pictures: list[Picture]
    movement_amplitude: str  # as asked, for the echo when the model ignores it


def parse_json_object(raw: bytes) -> dict:
    if len(raw) > catalog.REQUEST_BODY_MAX_BYTES:
        limit = catalog.REQUEST_BODY_MAX_BYTES // (1000 * 1000)
        raise bad("BadRequest", f"The request body is larger than {limit} MB.")
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise bad("BadRequest", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise bad("BadRequest", "The request body must be a JSON object.")
    return data


def refusal(error: ValidationError) -> ApiError:
    """The first problem pydantic found, as FieldUnwanted, FieldLacking or FieldInvalid."""
    first = error.errors()[0]
    kind = first["type"]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    if kind == "extra_forbidden":
        return bad("FieldUnwanted", f"The field {where} is not accepted.", where)
    if kind == "missing":
        return bad("FieldLacking", f"The field {where} is required.", where)
    return bad("FieldInvalid", f"The field {where} is invalid: {first['msg']}.", where)


def check(
    endpoint: str,
    params: dict,
    images: list[tuple[str, str]],
    image_field: str = "images",
    rules_of: str = "",
) -> Accepted:
    """Check Vidu parameters and load `images` ((where, text) pairs, in order).

    The front has already checked the body's shape, the model against the models its
    provider sells, and the image count. The per-model rules are Vidu's own, as the
    catalog states them for the official API. `rules_of`: for a model name only a
    gateway uses, the official model whose rules it follows.
    """
    checked = vidu_rules(endpoint, params, rules_of)
    if not checked.ok:
        problem = checked.problems[0]
        raise bad(REASONS[problem.kind], problem.message, problem.field)
    pictures = [load_picture(where, text, image_field) for where, text in images]
    for picture in pictures:
        problem = catalog.image_ratio_problem(*picture.size)
        if problem:
            raise bad("FieldInvalid", problem, image_field)
    if len(pictures) == 2:
        problem = catalog.start_end_ratio_problem(pictures[0].size, pictures[1].size)
        if problem:
            raise bad("FieldInvalid", problem, image_field)
    amplitude = params.get("movement_amplitude")
    return Accepted(
        endpoint,
        checked.params,
        pictures,
        amplitude if isinstance(amplitude, str) else "",
    )


def vidu_rules(endpoint: str, params: dict, rules_of: str = "") -> catalog.Checked:
    """The catalog's verdict; under `rules_of`'s rules, in the asked model's name."""
    if not rules_of:
        return catalog.check_parameters(endpoint, params)
    name = params["model"]
    checked = catalog.check_parameters(endpoint, params | {"model": rules_of})
    checked.params["model"] = name
    for problem in checked.problems:
        problem.message = re.sub(rf"\b{re.escape(rules_of)}\b", lambda _: name, problem.message)
    return checked
