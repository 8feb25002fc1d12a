"""What a team spends in credits, and its optional monthly budget.

A generation counts with the provider's figure (`credits`) once Vidu has given one, and
with our estimate until then. A failed or cancelled generation that Vidu never charged
for (no figure, or 0) counts 0. Months are calendar months in UTC.

The budget is enforced when a generation is stored: `enforce` locks the team's row
inside the transaction that inserts the generation, so two submits at once are checked
one after the other and can never together pass the budget. That count must see what the
other submit committed while this one waited for the lock: on PostgreSQL the settings
pin READ COMMITTED (each statement sees what was committed before it), whatever the
database's default isolation level; under REPEATABLE READ the count would be read from
a snapshot taken before the wait.

Our estimates are guesses where no price is published, so a video is reserved at the
highest of its estimate and what the provider has charged for that kind of video
(`SeenPrice`, learnt from every figure a provider reports): once one video of a kind has
cost 20 where we guessed 10, the next ones count 20 from the moment they are stored, and
those already in flight are raised to it. A kind never charged yet is reserved at the
estimate times the most the provider's prices have been above our estimates. The team
page says how far the month can still go over at worst (`Report.worst_overrun`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from studio import catalog
from studio.models import (  # noqa: F401 (tests name UNCHARGED_ENDINGS here)
    UNCHARGED_ENDINGS,
    Generation,
    Membership,
    SeenPrice,
    Team,
)


class OverBudget(Exception):
    """A generation would take the team past its monthly budget."""

    def __init__(self, budget: int, spent: int, estimate: int):
        self.budget, self.spent, self.estimate = budget, spent, estimate
        self.remaining = max(0, budget - spent)
        left = (
            f"{self.remaining} credit is"
            if self.remaining == 1
            else f"{self.remaining} credits are"
        )
        super().__init__(
            f"This video would take the team past its monthly budget of {budget} credits: "
            f"it needs about {estimate}, and {left} left this month."
        )


def month_start(now: datetime | None = None) -> datetime:
    now = (now or timezone.now()).astimezone(UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month_start(now: datetime | None = None) -> datetime:
    start = month_start(now)
    return (start + timedelta(days=32)).replace(day=1)


# What a generation counts for: Vidu's figure, else nothing when it was not charged
# (Generation.not_charged), else the estimate.
COST = Case(
    When(credits__isnull=False, then=F("credits")),
    When(Generation.not_charged_condition(), then=Value(0)),
    default=Coalesce(F("estimated_credits"), Value(0)),
    output_field=IntegerField(),
)
# The part of COST that is only our estimate.
ESTIMATED = Case(
    When(
        Q(credits__isnull=True) & ~Generation.not_charged_condition(), then=F("estimated_credits")
    ),
    default=Value(0),
    output_field=IntegerField(),
)


# The options that change what a video costs; a kind of video is its model, duration,
# resolution and which of these are on.
PRICED_OPTIONS = ("audio", "bgm", "is_rec", "off_peak")


def kind_of(provider: str, model: str, params: Mapping) -> dict:
    """The SeenPrice fields naming one kind of video."""
    return {
        "provider": provider,
        "model": model,
        "duration": int(params.get("duration") or 0),
        "resolution": str(params.get("resolution") or ""),
        "options": ",".join(o for o in PRICED_OPTIONS if params.get(o)),
    }


def _key(kind: Mapping) -> tuple:
    return tuple(kind[f] for f in ("model", "duration", "resolution", "options"))


def learn(generation: Generation, credits: int | None) -> None:
    """Remember a provider's figure for a video of this kind when it is the highest yet,
    and raise the reservation of the same kind's videos still waiting for a figure this
    month, in every team."""
    if not credits or credits <= 0 or generation.estimated_credits is None:
        return
    kind = kind_of(generation.provider, generation.model, generation.params)
    if not kind["duration"] or not kind["resolution"]:
        return  # a video whose length or size was left to the provider names no kind
    sent = {**generation.params, "model": generation.model}
    estimate = catalog.estimate(sent, generation.provider).credits or 0
    seen, made = SeenPrice.objects.get_or_create(
        **kind, defaults={"highest": credits, "estimate": estimate}
    )
    if not made:
        SeenPrice.objects.filter(pk=seen.pk).update(
            highest=Greatest(F("highest"), Value(credits)),
            estimate=estimate,
            last_at=timezone.now(),
        )
    lookup = {f"params__{name}": kind[name] for name in ("duration", "resolution")}
    Generation.objects.filter(
        provider=generation.provider,
        model=generation.model,
        created_at__gte=month_start(),
        credits__isnull=True,
        estimated_credits__lt=credits,
        **lookup,
    ).exclude(state__in=UNCHARGED_ENDINGS).filter(_same_options(kind["options"])).update(
        estimated_credits=credits
    )


def _same_options(options: str) -> Q:
    """Generations whose priced options are exactly `options` (JSON false or absent
    both mean off)."""
    on = set(options.split(",")) - {""}
    condition = Q()
    for name in PRICED_OPTIONS:
        if name in on:
            condition &= Q(**{f"params__{name}": True})
        else:
            condition &= Q(**{f"params__{name}__isnull": True}) | Q(**{f"params__{name}": False})
    return condition


@dataclass
class Prices:
    """What a provider has charged, loaded once for a form or a report."""

    provider: str
    highest: dict[tuple, int] = field(default_factory=dict)
    ratio: float = 1.0  # the most its figures have been above our estimates

    @classmethod
    def of(cls, provider: str) -> Prices:
        return cls.of_each([provider])[provider]

    @classmethod
    def of_each(cls, providers) -> dict[str, Prices]:
        """Each provider's prices, in one query."""
        found = {provider: cls(provider) for provider in providers}
        for row in SeenPrice.objects.filter(provider__in=found).values():
            prices = found[row["provider"]]
            prices.highest[_key(row)] = row["highest"]
            if row["estimate"]:
                prices.ratio = max(prices.ratio, row["highest"] / row["estimate"])
        return found

    def seen(self, model: str, params: Mapping) -> int | None:
        return self.highest.get(_key(kind_of(self.provider, model, params)))

    def worst(self, model: str, params: Mapping, estimate: int) -> int:
        """The most a video of this kind may cost, judged from what was charged."""
        seen = self.seen(model, params)
        if seen is not None:
            return max(seen, estimate)
        return math.ceil(estimate * self.ratio)


def reserve(sent: Mapping, provider: str, prices: Prices | None = None) -> catalog.Estimate:
    """What a video is counted at until its provider gives a figure: our estimate, or
    the provider's highest figure for that kind of video, or (for a kind never charged
    yet) the estimate times the most the provider's figures have been above ours."""
    estimate = catalog.estimate(sent, provider)
    if estimate.credits is None:
        return estimate
    prices = prices or Prices.of(provider)
    label = catalog.PROVIDERS[provider].label
    seen = prices.seen(sent["model"], sent)
    if seen is not None:
        if seen > estimate.credits:
            return catalog.Estimate(seen, f"the most {label} has charged for this video")
        return estimate
    if prices.ratio > 1:
        credits = math.ceil(estimate.credits * prices.ratio)
        return catalog.Estimate(
            credits,
            f"{estimate.basis}, × {prices.ratio:.2g}: {label} has charged up to that much "
            "more than the studio's estimates",
        )
    return estimate


def this_month(team: Team | int, now: datetime | None = None) -> QuerySet[Generation]:
    return Generation.objects.filter(team=team, created_at__gte=month_start(now))


def spent_this_month(team: Team | int, now: datetime | None = None) -> int:
    return this_month(team, now).aggregate(total=Coalesce(Sum(COST), 0))["total"]


class OverLimit(OverBudget):
    """Generations would take their author past their own monthly limit in the team."""

    def __init__(self, limit: int, spent: int, estimate: int):
        self.budget, self.spent, self.estimate = limit, spent, estimate
        self.remaining = max(0, limit - spent)
        left = f"{self.remaining} credit" if self.remaining == 1 else f"{self.remaining} credits"
        Exception.__init__(
            self,
            f"This would take you past your own monthly limit of {limit} credits in this "
            f"team: it needs about {estimate}, and you have {left} left this month.",
        )


def spent_by(team: Team | int, author, now: datetime | None = None) -> int:
    """What one person's generations in the team count for this month (the team's COST)."""
    mine = this_month(team, now).filter(author=author)
    return mine.aggregate(total=Coalesce(Sum(COST), 0))["total"]


def enforce(generation: Generation, *others: Generation) -> None:
    """Refuse `generation` (and `others`: the rest of its batch), just inserted in the
    current transaction, when together they take the team past its monthly budget or
    their author past their own monthly limit (raise OverBudget or OverLimit, so the
    transaction rolls back: all of them or none).

    Locks the team's row until the transaction ends, so concurrent submits to one team
    are counted one after another. The lock is taken after the insert, and "no key"
    (FOR NO KEY UPDATE on PostgreSQL) so it does not wait on the key-share lock that
    another transaction's insert holds on the same team row. SQLite serializes writers
    on its own (the settings begin transactions IMMEDIATE).
    """
    team = (
        Team.objects.select_for_update(no_key=connection.features.has_select_for_no_key_update)
        .only("id", "monthly_budget")
        .get(pk=generation.team_id)
    )
    estimate = sum(g.estimated_credits or 0 for g in (generation, *others))
    if team.monthly_budget is not None:
        total = spent_this_month(team)  # includes the generations just inserted
        if total > team.monthly_budget:
            raise OverBudget(team.monthly_budget, total - estimate, estimate)
    limit = member_limit(team, generation.author_id)
    if limit is not None:
        total = spent_by(team, generation.author_id)
        if total > limit:
            raise OverLimit(limit, total - estimate, estimate)


def member_limit(team: Team | int, user_id: int | None) -> int | None:
    """The person's monthly limit in the team, None when they have none."""
    if user_id is None:
        return None
    limits = Membership.objects.filter(team=team, user_id=user_id)
    return limits.values_list("monthly_limit", flat=True).first()


@dataclass
class Allowance:
    """What a person may still spend this month, and what sets it."""

    left: int
    team_budget: bool  # the team's budget (True) or the person's own limit (False)

    @property
    def text(self) -> str:
        whose = "the team's budget" if self.team_budget else "your monthly limit"
        return f"{self.left} credit{'' if self.left == 1 else 's'} left this month ({whose})"


def allowance(team: Team, user, now: datetime | None = None) -> Allowance | None:
    """The smaller of the team's remaining budget and the person's remaining limit;
    None when neither is set."""
    found = []
    if team.monthly_budget is not None:
        found.append(Allowance(max(0, team.monthly_budget - spent_this_month(team, now)), True))
    limit = member_limit(team, user.pk)
    if limit is not None:
        found.append(Allowance(max(0, limit - spent_by(team, user, now)), False))
    return min(found, key=lambda a: a.left) if found else None


# Providers that report no cost at all: their videos are counted, never priced.
UNREPORTED_PROVIDERS = [p.name for p in catalog.PROVIDERS.values() if p.cost_unit is None]


@dataclass
class Line:
    """One row of the spending report: a member's or a model's month.

    Credits and money stay apart: a provider that charges in US dollars is never
    turned into credits, and one that reports nothing is counted as unreported.
    """

    label: str
    videos: int
    charged: int  # the providers' figures in credits
    estimated: int  # estimates of what a credit-charging provider has not reported yet
    usd: Decimal = Decimal(0)  # the providers' figures in US dollars
    unreported: int = 0  # videos from providers that report no cost

    @property
    def total(self) -> int:
        return self.charged + self.estimated


def _month_rows(queryset: QuerySet[Generation]) -> list[dict]:
    """The month in one pass over the team's rows: a row per (author, model) with its
    videos and costs, which the report adds up per member and per model."""
    return list(
        queryset.values("author_id", "model")
        .annotate(
            videos=Count("id"),
            charged=Coalesce(Sum("credits"), 0),
            estimated=Coalesce(Sum(ESTIMATED), 0),
            usd=Coalesce(
                Sum("cost_usd"),
                Value(Decimal(0)),
                output_field=DecimalField(max_digits=14, decimal_places=4),
            ),
            unreported=Count("id", filter=Q(provider__in=UNREPORTED_PROVIDERS)),
        )
        .order_by()
    )


def _add_up(rows: list[dict], key: str) -> dict[object, Line]:
    """The rows added up into a line for each value of `key`."""
    lines: dict[object, Line] = {}
    for row in rows:
        line = lines.setdefault(row[key], Line(str(row[key]), 0, 0, 0))
        line.videos += row["videos"]
        line.charged += row["charged"]
        line.estimated += row["estimated"]
        line.usd += Decimal(row["usd"])
        line.unreported += row["unreported"]
    return lines


@dataclass
class Exposure:
    """The month's videos that count at a reservation, not a provider's figure, and how
    far they could take the month beyond what is counted."""

    videos: int = 0  # counted at a reservation
    worst_overrun: int = 0  # credits beyond the reservations if each costs the most seen
    never_priced: int = 0  # of a kind, at a provider, that has never been charged


def exposure(team: Team, now: datetime | None = None) -> Exposure:
    """The month's videos counted at a reservation, grouped by kind in the database (a
    month may hold thousands), each kind judged by what its provider has charged."""
    kinds = (
        this_month(team, now)
        .filter(credits__isnull=True, estimated_credits__isnull=False)
        .exclude(Generation.not_charged_condition())
        .values(
            "provider",
            "model",
            duration=KT("params__duration"),
            resolution=KT("params__resolution"),
            **{name: KT(f"params__{name}") for name in PRICED_OPTIONS},
        )
        .annotate(videos=Count("id"), reserved=Sum("estimated_credits"))
        .order_by()
    )
    kinds = list(kinds)
    found = Exposure()
    prices = Prices.of_each({kind["provider"] for kind in kinds})
    for kind in kinds:
        provider = prices[kind["provider"]]
        params = {
            "model": kind["model"],
            "duration": int(kind["duration"] or 0),
            "resolution": kind["resolution"] or "",
            # JSON true reads "true" on PostgreSQL and 1 on SQLite.
            **{name: str(kind[name]).lower() in ("true", "1") for name in PRICED_OPTIONS},
        }
        found.videos += kind["videos"]
        if provider.seen(kind["model"], params) is None and provider.ratio <= 1:
            found.never_priced += kind["videos"]
        estimate = catalog.estimate(params, kind["provider"]).credits or 0
        worst = provider.worst(kind["model"], params, estimate)
        found.worst_overrun += max(0, worst * kind["videos"] - kind["reserved"])
    return found


@dataclass
class Report:
    start: datetime
    end: datetime
    budget: int | None
    total: Line
    by_member: list[Line]
    by_model: list[Line]
    exposure: Exposure = field(default_factory=Exposure)

    @property
    def remaining(self) -> int | None:
        return None if self.budget is None else max(0, self.budget - self.total.total)

    @property
    def used_percent(self) -> int:
        if not self.budget:
            return 100 if self.budget == 0 else 0
        return min(100, round(100 * self.total.total / self.budget))


def report(team: Team, now: datetime | None = None, names: dict | None = None) -> Report:
    """This month's spending for the team page: in total, per member and per model.

    `names`: the members' usernames by user id, when the caller has them already.
    """
    rows = _month_rows(this_month(team, now))
    if names is None:
        names = dict(team.memberships.values_list("user_id", "user__username"))
    by_author = _add_up(rows, "author_id")
    former = _former([user_id for user_id in by_author if user_id not in names])
    by_member = []
    for user_id, line in by_author.items():
        if user_id is None:
            line.label = "(deleted user)"
        else:
            line.label = names.get(user_id) or former.get(user_id, "(deleted user)")
        by_member.append(line)
    by_member.sort(key=lambda line: (-line.total, line.label))
    by_model = sorted(_add_up(rows, "model").values(), key=lambda x: (-x.total, x.label))
    total = Line(
        "Total",
        sum(line.videos for line in by_model),
        sum(line.charged for line in by_model),
        sum(line.estimated for line in by_model),
        sum((line.usd for line in by_model), Decimal(0)),
        sum(line.unreported for line in by_model),
    )
    return Report(
        month_start(now),
        next_month_start(now),
        team.monthly_budget,
        total,
        by_member,
        by_model,
        # Said beside the budget only: no budget, no query.
        exposure(team, now) if total.estimated and team.monthly_budget is not None else Exposure(),
    )


def _former(user_ids: list[int]) -> dict[int, str]:
    """Labels for authors who left the team, in one query however many left."""
    if not user_ids:
        return {}
    users = get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username")
    return {pk: f"{username} (no longer in the team)" for pk, username in users}
