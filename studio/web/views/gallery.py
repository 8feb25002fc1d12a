"""The history as a gallery: choose several videos and act on them at once (download
them as one zip, compare, star, hide), a person's stars, and hiding and restoring.

Hiding is a soft delete: members and owners hide, only owners restore, viewers do
neither. Hiding revokes the video's shared links for good: restoring it does not bring
them back, new ones can be made. Hidden videos stay out of zips unless an owner asks for
them (the hidden videos' list does). A star is a person's own mark; anyone in the team may
star.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import uuid
import zipfile
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from studio.access import current_membership, generation_for, generation_to_change
from studio.models import Generation, Membership, ShareLink, Star

# At most this many videos in one zip or one action: 100 ids keep the zip's link about
# 4 KB, well under what browsers and servers take in a URL.
MAX_SELECTED = 100
# An owner's choice to put hidden videos in a zip (the hidden videos' list sends it).
INCLUDE_HIDDEN = "include_hidden"
CHUNK = 1024 * 1024  # a stored file is read 1 MiB at a time
COMPARE_RANGE = (2, 4)


def with_stars(generations, user):
    """Each generation's `star_count` and whether this person `starred` it, as subqueries
    of the same query (no query per card, no GROUP BY over the page's joins)."""
    counts = (
        Star.objects.filter(generation=OuterRef("pk"))
        .order_by()
        .values("generation")
        .annotate(n=Count("*"))
        .values("n")
    )
    return generations.annotate(
        star_count=Coalesce(Subquery(counts, output_field=IntegerField()), Value(0)),
        starred=Exists(Star.objects.filter(generation=OuterRef("pk"), user_id=user.pk)),
    )


def selected_ids(source) -> list[uuid.UUID]:
    """The `ids` chosen, well-formed and without repeats, the first MAX_SELECTED."""
    ids: dict[uuid.UUID, None] = {}
    for value in source.getlist("ids"):
        try:
            ids.setdefault(uuid.UUID(value))
        except ValueError:
            continue
        if len(ids) == MAX_SELECTED:
            break
    return list(ids)


def back(request: HttpRequest, fallback: str) -> HttpResponse:
    """Back where the person acted (the form's `next`), when it is a page of ours."""
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    return redirect(target if target and safe else fallback)


# ---- Stars ----------------------------------------------------------------------------


def toggle_star(generation: Generation, user) -> None:
    removed, _ = Star.objects.filter(generation=generation, user=user).delete()
    if not removed:
        try:
            Star.objects.create(generation=generation, user=user)
        except IntegrityError:  # the same click twice at once: one star
            pass


def star_button(request: HttpRequest, generation: Generation) -> HttpResponse:
    generation = with_stars(Generation.objects.filter(pk=generation.pk), request.user).get()
    return render(request, "generations/star.html", {"generation": generation})


@require_POST
@login_required
def star(request: HttpRequest, generation_id) -> HttpResponse:
    """Star the video, or take the star back; htmx gets the button with its new count."""
    generation, _ = generation_for(request, generation_id)
    toggle_star(generation, request.user)
    if request.htmx:
        return star_button(request, generation)
    return back(request, reverse("generation", args=[generation.pk]))


def gallery_context(request: HttpRequest, generation: Generation, membership: Membership) -> dict:
    """What a generation's page needs for its star, Hide and Restore."""
    generation.star_count = generation.stars.count()
    generation.starred = generation.stars.filter(user_id=request.user.pk).exists()
    return {
        "can_hide": membership.can_generate,
        "can_restore": membership.role == Membership.OWNER,
    }


# ---- Hiding and restoring -------------------------------------------------------------


def hide_all(generations, user) -> tuple[int, int]:
    """Hide the generations not hidden yet and revoke their shared links, for good: a
    restore does not bring them back. The links are revoked at the very time of the
    hiding, which is how a restore tells them from links revoked by hand. How many videos
    were hidden, and how many links went with them."""
    now = timezone.now()
    with transaction.atomic():
        pks = list(generations.filter(hidden_at__isnull=True).values_list("pk", flat=True))
        hidden = Generation.objects.filter(pk__in=pks, hidden_at__isnull=True).update(
            hidden_at=now, hidden_by=user
        )
        links = ShareLink.objects.filter(generation_id__in=pks, revoked_at__isnull=True).update(
            revoked_at=now
        )
    return hidden, links


def restore_all(generations) -> tuple[int, int]:
    """Restore the hidden generations; their links stay revoked. How many videos came
    back, and how many of their links the hiding had switched off."""
    with transaction.atomic():
        pks = list(generations.filter(hidden_at__isnull=False).values_list("pk", flat=True))
        links = ShareLink.objects.filter(
            generation_id__in=pks, revoked_at=F("generation__hidden_at")
        ).count()
        restored = Generation.objects.filter(pk__in=pks, hidden_at__isnull=False).update(
            hidden_at=None, hidden_by=None
        )
    return restored, links


def links_off(links: int, restored: bool) -> str:
    """What became of the shared links of videos hidden or restored, in words."""
    if not links:
        return ""
    one = links == 1
    some = f"{links} shared link{'' if one else 's'}"
    if restored:
        return (
            f" The {some} switched off by hiding stay{'s' if one else ''} off; new links "
            "can be made from the video's Share section."
        )
    return (
        f" {some} stopped working for good: restoring does not bring "
        f"{'it' if one else 'them'} back."
    )


def said(request: HttpRequest, text: str) -> HttpResponse:
    """htmx's card goes (an empty answer), with what happened said out of band."""
    messages.success(request, text)
    return render(request, "teams/flash.html", {"oob": True})


def owner_of(request: HttpRequest, generation_id) -> Generation:
    """A generation of the current team, for its owners: 404 outside, 403 within."""
    generation, membership = generation_for(request, generation_id)
    if membership.role != Membership.OWNER:
        raise PermissionDenied("Only the team's owners can restore hidden videos.")
    return generation


@require_POST
@login_required
def hide(request: HttpRequest, generation_id) -> HttpResponse:
    generation, _ = generation_to_change(request, generation_id)
    _, links = hide_all(Generation.objects.filter(pk=generation.pk), request.user)
    if links:
        text = "Hidden." + links_off(links, restored=False)
        if request.htmx:
            return said(request, text)
        messages.success(request, text)
    if request.htmx:  # the card goes from the history
        return HttpResponse("")
    return back(request, reverse("generation", args=[generation.pk]))


@require_POST
@login_required
def restore(request: HttpRequest, generation_id) -> HttpResponse:
    generation = owner_of(request, generation_id)
    _, links = restore_all(Generation.objects.filter(pk=generation.pk))
    if links:
        text = "Restored." + links_off(links, restored=True)
        if request.htmx:
            return said(request, text)
        messages.success(request, text)
    if request.htmx:
        return HttpResponse("")
    return back(request, reverse("generation", args=[generation.pk]))


# ---- The selection bar ----------------------------------------------------------------


def compare_url(ids: list[uuid.UUID]) -> str:
    try:
        base = reverse("compare")
    except NoReverseMatch:
        base = "/compare/"
    return base + "?" + urlencode([("ids", str(i)) for i in ids])


def plural(count: int) -> str:
    return f"{count} video{'s' if count != 1 else ''}"


def act_on(request: HttpRequest, membership: Membership, action: str, chosen) -> str:
    """Star, hide or restore the chosen videos; what was done, in words."""
    if action == "star":
        pks = list(chosen.values_list("pk", flat=True))
        Star.objects.bulk_create(
            [Star(generation_id=pk, user=request.user) for pk in pks],
            ignore_conflicts=True,  # already starred: still one star
        )
        return f"Starred {plural(len(pks))}."
    if action == "hide":
        if not membership.can_generate:
            raise PermissionDenied("Viewers cannot hide videos.")
        hidden, links = hide_all(chosen, request.user)
        return f"Hid {plural(hidden)}. Owners can restore them." + links_off(links, False)
    if action == "restore":
        if membership.role != Membership.OWNER:
            raise PermissionDenied("Only the team's owners can restore hidden videos.")
        restored, links = restore_all(chosen)
        return f"Restored {plural(restored)}." + links_off(links, restored=True)
    raise Http404("No such action.")


@require_POST
@login_required
def selection(request: HttpRequest) -> HttpResponse:
    """The selection bar without JavaScript: one form, one button per action. Downloads
    and comparisons go on to their own links; the rest acts and comes back."""
    membership = current_membership(request)
    ids = selected_ids(request.POST)
    action = request.POST.get("action", "")
    if not ids:
        messages.info(request, "Tick one or more videos first.")
        return back(request, reverse("history"))
    if action == "zip":
        query = [("ids", str(i)) for i in ids]
        if request.POST.get(INCLUDE_HIDDEN) == "1":  # sent by the hidden videos' list
            query.append((INCLUDE_HIDDEN, "1"))
        return redirect(reverse("gallery_zip") + "?" + urlencode(query))
    if action == "compare":
        low, high = COMPARE_RANGE
        if not low <= len(ids) <= high:
            messages.info(request, f"Choose {low} to {high} videos to compare them.")
            return back(request, reverse("history"))
        return redirect(compare_url(ids))
    chosen = Generation.objects.filter(team=membership.team, pk__in=ids)
    messages.success(request, act_on(request, membership, action, chosen))
    return back(request, reverse("history"))


# ---- The zip ----------------------------------------------------------------------------


class _Pipe(io.RawIOBase):
    """Where zipfile writes: bytes wait here until the generator passes them on. Not
    seekable, so zipfile writes each entry's sizes after its data (a data descriptor)."""

    def __init__(self):
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def slug(text: str, length: int = 40) -> str:
    """The prompt's words for a file name, in any script ("一只狐狸在雪中", "café"):
    letters, digits and their accents, lowercased; anything else (spaces, punctuation,
    slashes, dots, control and direction marks) becomes one hyphen."""
    text = unicodedata.normalize("NFKC", text).lower()
    kept = "".join(c if unicodedata.category(c)[0] in "LNM" else "-" for c in text)
    words = re.sub(r"-+", "-", kept).strip("-")
    return words[:length].rstrip("-") or "no-prompt"


def file_stem(generation: Generation) -> str:
    """`vidu-20261121-a-fox-in-the-snow-1a2b3c4d`: when, what, and which."""
    day = generation.created_at.strftime("%Y%m%d")
    return f"vidu-{day}-{slug(generation.prompt)}-{generation.pk.hex[:8]}"


INDEX_COLUMNS = ["file", "cover", "prompt", "model", "kind", "seed", "parameters", "author"]
INDEX_COLUMNS += ["created_at", "page"]
# A cell a spreadsheet would read as a formula (`=HYPERLINK(...)`, `+1`, `@SUM(...)`)
# when the index is opened there.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value):
    """A text cell a spreadsheet takes as text: one that starts like a formula gets a
    single quote in front (OWASP's advice on CSV injection). Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def index_row(request: HttpRequest, generation: Generation, video: str, cover: str) -> list:
    seed = (
        generation.seed_used if generation.seed_used is not None else generation.params.get("seed")
    )
    row = [
        video,
        cover,
        generation.prompt,
        generation.model,
        generation.get_endpoint_display(),
        "" if seed in (None, 0) else seed,
        json.dumps(generation.params, sort_keys=True),
        generation.author.username if generation.author else "",
        generation.created_at.isoformat(),
        request.build_absolute_uri(reverse("generation", args=[generation.pk])),
    ]
    return [inert(value) for value in row]


def zip_entries(request: HttpRequest, generations):
    """(name in the zip, stored file) for each video and cover, and the index's rows."""
    entries, rows = [], []
    for generation in generations:
        creation = next(iter(generation.creations.all()), None)
        if creation is None or not creation.video:
            continue
        stem = file_stem(generation)
        video, cover = f"{stem}.mp4", f"{stem}.jpg" if creation.cover else ""
        entries.append((video, creation.video))
        if cover:
            entries.append((cover, creation.cover))
        rows.append(index_row(request, generation, video, cover))
    return entries, rows


def index_csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(INDEX_COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")  # a BOM, so spreadsheets read UTF-8


def attachment(name: str) -> str:
    """`Content-Disposition` for a download named `name` (RFC 6266): the name itself in
    `filename*` (RFC 5987, UTF-8) when it is not plain ASCII, after an ASCII fallback for
    clients that know only `filename`."""
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = re.sub(r"-+", "-", re.sub(r"[^A-Za-z0-9._-]+", "-", fallback)) or "download"
    if fallback == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def zip_name(videos: list[str]) -> str:
    """A zip of one video is named like it; of several, by the day and how many."""
    if len(videos) == 1:
        return videos[0].removesuffix(".mp4") + ".zip"
    return f"vidu-{timezone.now():%Y%m%d}-{len(videos)}-videos.zip"


def stream_zip(entries, index: bytes):
    """The zip, a piece at a time: each stored file is read and written 1 MiB at a time,
    and what zipfile wrote is passed on at once, so memory holds about one chunk."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("index.csv", index, compress_type=zipfile.ZIP_DEFLATED)
        yield pipe.take()
        for name, stored in entries:
            try:
                source = stored.open("rb")
            except OSError:
                continue  # a file gone from storage: the rest still download
            with source, archive.open(name, mode="w", force_zip64=True) as target:
                while data := source.read(CHUNK):
                    target.write(data)
                    yield pipe.take()
            yield pipe.take()
    yield pipe.take()  # the central directory


@require_GET
@login_required
def download_zip(request: HttpRequest) -> HttpResponse:
    """The chosen finished videos of the team (and their covers) in one zip, with an
    index.csv of each one's prompt, model, seed and parameters. Ids of other teams are
    left out as if they did not exist, and hidden videos unless an owner asks for them
    (`include_hidden=1`, sent by the hidden videos' list); nothing of the team's chosen:
    404."""
    membership = current_membership(request)
    ids = selected_ids(request.GET)
    chosen = Generation.objects.filter(team=membership.team, pk__in=ids)
    with_hidden = membership.role == Membership.OWNER and request.GET.get(INCLUDE_HIDDEN) == "1"
    if not with_hidden:
        chosen = chosen.filter(hidden_at__isnull=True)
    generations = list(
        chosen.select_related("author").prefetch_related("creations").order_by("-created_at", "-pk")
    )
    entries, rows = zip_entries(request, generations)
    if not entries:
        raise Http404("None of these videos is ready to download.")
    response = StreamingHttpResponse(
        stream_zip(entries, index_csv(rows)), content_type="application/zip"
    )
    response["Content-Disposition"] = attachment(zip_name([row[0] for row in rows]))
    response["Cache-Control"] = "private, no-store"
    return response
