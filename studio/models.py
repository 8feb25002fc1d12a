"""Teams, their members, and the generations they make."""

from __future__ import annotations

import re
import secrets
import statistics
import uuid
from collections import defaultdict

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from studio import catalog
from studio.images.uploads import storable
from studio.vidu.registry import NO_KEY


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    # Credits the team may spend in a calendar month (UTC); empty for no limit.
    monthly_budget = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    OWNER, MEMBER, VIEWER = "owner", "member", "viewer"
    ROLES = [(OWNER, "Owner"), (MEMBER, "Member"), (VIEWER, "Viewer")]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=ROLES, default=MEMBER)
    created_at = models.DateTimeField(default=timezone.now)
    # An owner's monthly limit for this person, in credits, beside the team's budget;
    # None: no limit of their own.
    monthly_limit = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="one_membership")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    @property
    def can_generate(self) -> bool:
        return self.role in (self.OWNER, self.MEMBER)


def new_token() -> str:
    """An unguessable token for links: 32 random bytes (256 bits) from `secrets`."""
    return secrets.token_urlsafe(32)


class Invite(models.Model):
    """A single-use, expiring link that adds a person to a team with a role."""

    team = models.ForeignKey(Team, models.CASCADE, related_name="invites")
    role = models.CharField(max_length=10, choices=Membership.ROLES, default=Membership.MEMBER)
    token = models.CharField(max_length=64, unique=True, default=new_token)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"invite to {self.team} as {self.role}"


class State(models.TextChoices):
    QUEUED = "queued", "Queued"
    SUBMITTING = "submitting", "Submitting"
    # A create call's answer was lost and the provider cannot be asked whether it made the
    # task: only a person may send it again (it may be paid for twice).
    UNCONFIRMED = "unconfirmed", "Needs your decision"
    CREATED = "created", "Submitted"
    QUEUEING = "queueing", "Waiting in the queue"
    PROCESSING = "processing", "Processing"
    SUCCESS = "success", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# States only move forward: a state may be replaced by one of a higher rank.
STATE_RANK = {
    State.QUEUED: 0,
    State.SUBMITTING: 1,
    State.UNCONFIRMED: 2,
    State.CREATED: 3,
    State.QUEUEING: 4,
    State.PROCESSING: 5,
    State.SUCCESS: 6,
    State.FAILED: 6,
    State.CANCELLED: 6,
}
TERMINAL = (State.SUCCESS, State.FAILED, State.CANCELLED)
# Every other state, named: `state IN (...)` probes an index on state, where
# `NOT state IN TERMINAL` would read every row of the team to find the few left.
IN_PROGRESS = tuple(state for state in State if state not in TERMINAL)
AT_PROVIDER = (State.CREATED, State.QUEUEING, State.PROCESSING)
# Endings the provider does not charge for unless it says otherwise (see
# Generation.not_charged).
UNCHARGED_ENDINGS = (State.FAILED, State.CANCELLED)


def earlier_states(state: str) -> list[str]:
    return [s for s, rank in STATE_RANK.items() if rank < STATE_RANK[state]]


class ResultStatus(models.TextChoices):
    NONE = "", "Not yet"
    FETCHING = "fetching", "Copying the video"
    STORED = "stored", "Stored"
    UNAVAILABLE = "unavailable", "Could not be copied"


SEARCH_TERMS = re.compile(r'"([^"]+)"|(\S+)')
MAX_SEARCH_TERMS = 8
# PostgreSQL's full-text match of a prompt, in English: it finds other forms of each word
# ("sunsets" for "sunset", "running" for "run") and skips words like "at". Migration 0010
# indexes the same expression.
PROMPT_FULL_TEXT = (
    'to_tsvector(\'english\'::regconfig, "studio_generation"."prompt") '
    "@@ websearch_to_tsquery('english'::regconfig, %s)"
)


def search_terms(q: str) -> list[str]:
    """The words of a search, each to be found somewhere in the prompt, in any order and
    any case; "words in quotes" stay one phrase; at most eight, repeats dropped."""
    terms = [(phrase or word).strip().strip('"') for phrase, word in SEARCH_TERMS.findall(q)]
    unique: dict[str, str] = {}
    for term in terms:
        if term:  # a stray quote alone is no word
            unique.setdefault(term.casefold(), term)
    return list(unique.values())[:MAX_SEARCH_TERMS]


class GenerationQuerySet(models.QuerySet):
    def matching(self, q: str):
        """Generations whose prompt has every word of `q`, in any order and any case, a
        word still being typed included ("sun" finds "sunset"): each word is a LIKE that
        PostgreSQL's trigram index (migration 0006) serves. On PostgreSQL its full-text
        search finds more: other forms of the words ("sunsets hill" finds "hills at
        sunset"), unless the search quotes a phrase. SQLite has no full-text search without
        an extension, so words are matched as they are typed there."""
        terms = search_terms(q)
        if not terms:
            return self
        every_word = models.Q()
        for term in terms:
            every_word &= models.Q(prompt__icontains=term)
        # Quotes ask for the exact words; full-text search would drop the small ones.
        if connection.vendor == "postgresql" and '"' not in q:
            full_text = RawSQL(PROMPT_FULL_TEXT, (q,), output_field=models.BooleanField())
            every_word |= models.Q(full_text)
        return self.filter(every_word)

    def typical_seconds(self, team, model: str, provider: str, runs: int = 20) -> float | None:
        """The median time, in seconds, the team's last `runs` successful videos of
        `model` at `provider` took from creation to the provider's "done" (made at once,
        not off-peak); None when there are none. One query, read through an index on
        (team, model, created_at)."""
        times = list(
            self.filter(
                team=team,
                model=model,
                provider=provider,
                state=State.SUCCESS,
                finished_at__isnull=False,
            )
            .filter(models.Q(params__off_peak=False) | models.Q(params__off_peak__isnull=True))
            .order_by("-created_at", "-id")
            .values_list("created_at", "finished_at")[:runs]
        )
        if not times:
            return None
        return statistics.median((done - made).total_seconds() for made, done in times)


class Batch(models.Model):
    """Variants of one request made together: the same request with different seeds, or
    on up to four models side by side."""

    SEEDS, MODELS = "seeds", "models"
    MODES = [(SEEDS, "Different seeds"), (MODELS, "Different models")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, models.CASCADE, related_name="batches")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="batches"
    )
    mode = models.CharField(max_length=10, choices=MODES, default=SEEDS)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"batch {self.pk} ({self.mode})"


class Generation(models.Model):
    ENDPOINTS = [(e, catalog.ENDPOINT_LABELS[e]) for e in catalog.ENDPOINTS]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, models.CASCADE, related_name="generations")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="generations"
    )
    endpoint = models.CharField(max_length=20, choices=ENDPOINTS)
    model = models.CharField(max_length=40)
    prompt = models.TextField(blank=True)
    # The validated parameters as sent to Vidu (duration, resolution, seed, ...),
    # without images, prompt and payload, which have their own homes.
    params = models.JSONField(default=dict)
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    # The connection the generation was sent to: its task is followed there, by the
    # dialect that created it, whatever the configuration says later.
    provider = models.CharField(max_length=20, default=catalog.DEFAULT_PROVIDER)
    provider_base_url = models.CharField(max_length=200, blank=True)
    provider_task_id = models.CharField(max_length=64, blank=True, db_index=True)
    estimated_credits = models.PositiveIntegerField(null=True)
    credits = models.PositiveIntegerField(null=True)  # the provider's figure, in credits
    # The seed the provider says it used: the one asked for, or the one it drew at random,
    # so a result worth keeping can be made again.
    seed_used = models.BigIntegerField(null=True, blank=True)
    # The provider's figure where it charges money (US dollars), never turned into credits.
    cost_usd = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    error_reason = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    # The provider's own link to the finished video, shown while the studio copies it;
    # it expires (24 hours at Vidu), so the page moves to our copy once it is stored.
    preview_url = models.URLField(max_length=2000, blank=True)
    result_status = models.CharField(
        max_length=12, choices=ResultStatus.choices, default=ResultStatus.NONE, blank=True
    )
    submit_attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True)
    # When a create call was last about to be sent: a claim recovered from a dead worker
    # with no such time never reached the provider, so sending is safe.
    sent_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True)
    next_poll_at = models.DateTimeField(null=True, db_index=True)
    # The one-time token of the form render that made this generation: a second submit
    # of the same render (a double click, a resent POST) finds it here instead of paying
    # again. Unique, so two submits at the same instant cannot both create.
    form_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # Variants asked for together (several seeds, or several models) share a batch.
    batch = models.ForeignKey(
        "Batch", models.SET_NULL, null=True, blank=True, related_name="generations"
    )
    # Hidden from the team's history (a soft delete); owners can restore it.
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = GenerationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        # The history lists a team's generations newest first, by (created_at, id) so the
        # keyset cursor is exact; each filter has an index in that order behind its
        # column, so a page reads its 25 rows whatever the team's mix. The prompt search
        # has a trigram index on PostgreSQL, made in migration 0006 (SQLite has none).
        indexes = [
            models.Index(fields=["team", "-created_at", "-id"], name="generation_team_newest"),
            models.Index(
                fields=["team", "author", "-created_at", "-id"], name="generation_author_newest"
            ),
            models.Index(
                fields=["team", "state", "-created_at", "-id"], name="generation_state_newest"
            ),
            models.Index(
                fields=["team", "model", "-created_at", "-id"], name="generation_model_newest"
            ),
            models.Index(
                fields=["team", "endpoint", "-created_at", "-id"], name="generation_endpoint_newest"
            ),
            models.Index(fields=["state"]),
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.endpoint} {self.id}"

    @property
    def provider_rules(self) -> catalog.Provider:
        return catalog.PROVIDERS.get(self.provider) or catalog.PROVIDERS[catalog.DEFAULT_PROVIDER]

    @property
    def provider_label(self) -> str:
        return self.provider_rules.label

    @property
    def model_title(self) -> str:
        """The model's name for people ("Vidu Q2 Turbo"); its id when the catalog no
        longer lists it."""
        return catalog.TITLES.get(self.model, self.model)

    @property
    def cost_reported(self) -> bool:
        """Whether the provider said what this cost (in its own unit)."""
        return self.credits is not None or self.cost_usd is not None

    @property
    def not_charged(self) -> bool:
        """Whether this generation counts as not charged: it failed or was cancelled and
        the provider gave no figure in credits. It then costs 0 (no estimate either)."""
        return self.credits is None and self.state in UNCHARGED_ENDINGS

    @classmethod
    def not_charged_condition(cls) -> models.Q:
        """`not_charged` as a query condition, for costs added up in the database
        (studio.budgets)."""
        return models.Q(credits__isnull=True, state__in=UNCHARGED_ENDINGS)

    @property
    def needs_decision(self) -> bool:
        return self.state == State.UNCONFIRMED

    @property
    def duration(self) -> int | None:
        return self.params.get("duration")

    @property
    def resolution(self) -> str | None:
        return self.params.get("resolution")

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL

    @property
    def waits_for_a_key(self) -> bool:
        """Sent through a connection the studio no longer has a key for: not followed."""
        return self.state in AT_PROVIDER and self.error_reason == NO_KEY

    @property
    def in_flight(self) -> bool:
        """Whether the page should keep asking about this generation."""
        if self.state == State.SUCCESS:
            return self.result_status in (ResultStatus.NONE, ResultStatus.FETCHING)
        return self.state not in TERMINAL and self.state != State.UNCONFIRMED

    @property
    def progress(self) -> list[tuple[str, bool]]:
        """The steps a user watches, and which are behind us."""
        rank = STATE_RANK[self.state]
        return [
            ("Queued", True),
            (f"Sent to {self.provider_label}", rank >= STATE_RANK[State.CREATED]),
            (
                "Processing",
                rank >= STATE_RANK[State.PROCESSING]
                and self.state != State.FAILED
                or self.state == State.SUCCESS,
            ),
            ("Video ready", self.result_status == ResultStatus.STORED),
        ]

    def advance(
        self, state: str, source: str, detail: str = "", *, only_from=None, **fields
    ) -> bool:
        """Move to `state` if it is later than the stored one; record the event.

        A conditional UPDATE, so concurrent callbacks, polls and submits cannot move a
        generation backwards or record one change twice. `only_from`: move only from
        these states (the ones a decision was made on). Returns whether it moved.
        """
        now = timezone.now()
        values = {"state": state, "updated_at": now, **fields}
        if state in TERMINAL:
            values.setdefault("finished_at", now)
        allowed = earlier_states(state)
        if only_from is not None:
            allowed = [s for s in allowed if s in only_from]
        with transaction.atomic():
            moved = Generation.objects.filter(pk=self.pk, state__in=allowed).update(**values)
            if moved:
                GenerationEvent.objects.create(
                    generation_id=self.pk, state=state, source=source, detail=detail[:500], at=now
                )
        if moved:
            for key, value in values.items():
                setattr(self, key, value)
        return bool(moved)

    def send_again(self, by) -> bool:
        """A person decided to send an unconfirmed generation once more: queue it afresh.

        The one way a state moves back, and only from UNCONFIRMED, only by a person.
        """
        now = timezone.now()
        with transaction.atomic():
            moved = Generation.objects.filter(pk=self.pk, state=State.UNCONFIRMED).update(
                state=State.QUEUED,
                submit_attempts=0,
                claimed_at=None,
                sent_at=None,
                error_reason="",
                error_message="",
                updated_at=now,
            )
            if moved:
                GenerationEvent.objects.create(
                    generation_id=self.pk,
                    state=State.QUEUED,
                    source="user",
                    detail=f"sent again by {by}"[:500],
                    at=now,
                )
        if moved:
            self.refresh_from_db()
        return bool(moved)


def input_image_path(instance: InputImage, filename: str) -> str:
    name = f"{instance.position}-{uuid.uuid4().hex[:8]}.{instance.format}"
    return f"inputs/{instance.generation_id}/{name}"


class InputImage(models.Model):
    FIRST, END = 0, 1  # img2video's image and start-end's start frame are position 0

    generation = models.ForeignKey(Generation, models.CASCADE, related_name="images")
    position = models.PositiveSmallIntegerField(default=FIRST)
    file = models.FileField(upload_to=input_image_path, max_length=255)
    format = models.CharField(max_length=10)  # png, jpeg, webp: by content
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveBigIntegerField()
    original_name = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["generation", "position"], name="one_image_a_position")
        ]

    def __str__(self) -> str:
        return f"image {self.position} of {self.generation_id}"

    @classmethod
    def store(
        cls, generation: Generation, position: int, data, info, original_name: str = ""
    ) -> InputImage:
        """Keep an image already checked by `studio.images.uploads.inspect` (`info`).

        `data`: its bytes, or an open file (an upload), copied in pieces without the
        image's metadata (EXIF, XMP, text: `studio.images.metadata`).
        """
        image = cls(
            generation=generation,
            position=position,
            format=info.format,
            width=info.width,
            height=info.height,
            size=info.size,
            original_name=original_name[:255],
        )
        image.file.save(f"{position}.{info.format}", storable(data, info.format), save=False)
        image.size = image.file.size  # as stored: smaller by the metadata left out
        image.save()
        return image

    @property
    def content_type(self) -> str:
        return f"image/{self.format}"


def creation_path(instance: Creation, filename: str) -> str:
    return f"creations/{instance.generation_id}/{filename}"


class Creation(models.Model):
    """A video Vidu made, copied into our storage while its URLs were valid."""

    generation = models.ForeignKey(Generation, models.CASCADE, related_name="creations")
    provider_creation_id = models.CharField(max_length=64, blank=True)
    video = models.FileField(upload_to=creation_path, max_length=255)
    cover = models.FileField(upload_to=creation_path, max_length=255, blank=True)
    # Vidu's copy with its watermark (watermarked_url), when it gives one.
    watermarked = models.FileField(upload_to=creation_path, max_length=255, blank=True)
    video_size = models.PositiveBigIntegerField(default=0)
    cover_size = models.PositiveBigIntegerField(default=0)
    duration = models.FloatField(default=0)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    codec = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "provider_creation_id"], name="one_copy_a_creation"
            )
        ]

    def __str__(self) -> str:
        return f"video {self.provider_creation_id} of {self.generation_id}"

    @property
    def wants_watermark(self) -> bool:
        """Whether the generation was made with a watermark."""
        return bool(self.generation.params.get("watermark"))

    @property
    def shared_video(self):
        """The file a shared link plays and downloads: the watermarked copy when a
        watermark was asked for, the video otherwise; None when a watermark was asked for
        and the studio has no watermarked copy (never the clean file in its place)."""
        if self.wants_watermark:
            return self.watermarked or None
        return self.video or None

    @property
    def share_refusal(self) -> str:
        """Why no link to this video can be made now, in the sharer's words; "" when
        one can."""
        if self.generation.hidden_at:
            return (
                "This video is hidden: its shared links no longer work and no new one can "
                "be made. If an owner restores it, new links can be made; the old ones "
                "stay off."
            )
        if self.wants_watermark and not self.watermarked:
            return (
                "This video was made with a watermark, but the studio has no watermarked "
                "copy of it, so no link can be made: a link would show it without the "
                "watermark. Links made before answer “not found”."
            )
        return ""


class GenerationEvent(models.Model):
    SOURCES = [
        ("form", "Form"),
        ("submit", "Submit"),
        ("callback", "Callback"),
        ("poll", "Poll"),
        ("user", "User"),
    ]

    generation = models.ForeignKey(Generation, models.CASCADE, related_name="events")
    state = models.CharField(max_length=12, choices=State.choices)
    source = models.CharField(max_length=10, choices=SOURCES)
    detail = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.state} by {self.source} at {self.at:%H:%M:%S}"


def staged_image_path(instance: StagedImage, filename: str) -> str:
    return f"staged/{instance.team_id}/{instance.pk}.{instance.format}"


class StagedImage(models.Model):
    """An image uploaded (or reused) for a form that is not submitted yet.

    Kept across a validation error so nobody uploads twice, and how "generate again"
    reuses a generation's images without an upload.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    file = models.FileField(upload_to=staged_image_path, max_length=255)
    format = models.CharField(max_length=10)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveBigIntegerField()
    original_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"staged {self.original_name or self.pk}"


class ShareLink(models.Model):
    """A read-only, revocable link to one result, for people outside the team."""

    generation = models.ForeignKey(Generation, models.CASCADE, related_name="share_links")
    token = models.CharField(max_length=64, unique=True, default=new_token)
    show_prompt = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"share of {self.generation_id}"


class CallbackNonce(models.Model):
    """Nonces of callbacks already accepted: a replayed callback is refused."""

    nonce = models.CharField(max_length=100, unique=True)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.nonce


class Heartbeat(models.Model):
    """When a job last ran on the queue, by the name of what wrote it.

    The reconciler and the watchdog's probe job write it; the health check and
    `make run`'s supervisor read it to tell a queue that waits with nothing running.
    """

    name = models.CharField(max_length=40, primary_key=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class Star(models.Model):
    """A person's star on a video: the team sees how many each has and sorts by them."""

    generation = models.ForeignKey(Generation, models.CASCADE, related_name="stars")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="stars")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["generation", "user"], name="one_star_a_person")
        ]

    def __str__(self) -> str:
        return f"{self.user}'s star on {self.generation_id}"


def mark_batch_places(generations) -> None:
    """Give each card of a batch its place in it (`batch_place`, "1 of 4"), in one query
    however many batches the page shows; the hidden ones are not counted."""
    ids = {g.batch_id for g in generations if g.batch_id}
    if not ids:
        return
    members: dict = defaultdict(list)
    rows = (
        Generation.objects.filter(batch_id__in=ids, hidden_at__isnull=True)
        .order_by("created_at", "pk")
        .values_list("batch_id", "pk")
    )
    for batch_id, pk in rows:
        members[batch_id].append(pk)
    for generation in generations:
        siblings = members.get(generation.batch_id, [])
        if generation.pk in siblings:
            place = siblings.index(generation.pk) + 1
            generation.batch_place = f"{place} of {len(siblings)}"


class SeenPrice(models.Model):
    """The highest price a provider has reported for one kind of video (its model,
    duration, resolution and the options that change a price), in credits. A video of
    that kind is reserved against the budget at this price when it is above the
    studio's estimate (studio.budgets.reserve)."""

    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=64)
    duration = models.PositiveIntegerField()
    resolution = models.CharField(max_length=16)
    options = models.CharField(max_length=64, blank=True)  # "is_rec,off_peak", sorted
    highest = models.PositiveIntegerField()
    estimate = models.PositiveIntegerField()  # the studio's estimate for that kind
    times = models.PositiveIntegerField(default=1)
    last_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "model", "duration", "resolution", "options"],
                name="one_price_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.model} {self.duration}s {self.resolution}: {self.highest}"
