"""The Django admin for superusers: teams and their people, invites, generations and
shared links. The same rules as the studio's pages hold: a team keeps an owner."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from studio import teams
from studio.models import (
    Creation,
    Generation,
    GenerationEvent,
    InputImage,
    Invite,
    Membership,
    ShareLink,
    StagedImage,
    Team,
)


class MembershipInlineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors) or self.instance.pk is None:
            return
        owners = 0
        had_owner = False
        for form in self.forms:
            if not form.cleaned_data:
                continue
            if form.instance.pk and form.initial.get("role") == Membership.OWNER:
                had_owner = True
            deleted = form.cleaned_data.get("DELETE")
            if not deleted and form.cleaned_data.get("role") == Membership.OWNER:
                owners += 1
        if had_owner and owners == 0:
            raise forms.ValidationError("A team needs at least one owner.")


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = MembershipInlineFormSet
    extra = 0
    autocomplete_fields = ["user"]


class InviteInline(admin.TabularInline):
    model = Invite
    extra = 0
    fields = ["role", "expires_at", "used_at", "used_by", "created_by"]
    readonly_fields = ["used_at", "used_by", "created_by"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "monthly_budget", "people", "created_at"]
    search_fields = ["name"]
    fields = ["name", "monthly_budget", "created_at"]
    inlines = [MembershipInline, InviteInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(people_count=Count("memberships"))

    @admin.display(ordering="people_count")
    def people(self, team):
        return team.people_count

    def save_formset(self, request, form, formset, change):
        for obj in formset.save(commit=False):
            if isinstance(obj, Invite) and obj.created_by_id is None:
                obj.created_by = request.user
            obj.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["user", "team", "role"]

    def clean(self):
        cleaned = super().clean()
        old = self.instance
        if old.pk and old.role == Membership.OWNER:
            moved = cleaned.get("team") and cleaned["team"].pk != old.team_id
            if moved or cleaned.get("role") != Membership.OWNER:
                try:
                    teams.check_owner_remains(old, None)
                except teams.LastOwner as exc:
                    raise forms.ValidationError(str(exc)) from None
        return cleaned


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipForm
    list_display = ["user", "team", "role", "created_at"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "team__name"]
    autocomplete_fields = ["user", "team"]

    def delete_model(self, request, obj):
        self.delete_queryset(request, [obj])

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            try:
                teams.remove(membership)
            except teams.LastOwner as exc:
                self.message_user(request, str(exc), messages.ERROR)


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ["team", "role", "created_by", "expires_at", "used_at", "used_by"]
    list_filter = ["role", "team"]
    fields = ["team", "role", "expires_at", "link", "created_by", "used_at", "used_by"]
    readonly_fields = ["link", "created_by", "used_at", "used_by"]

    def get_changeform_initial_data(self, request):
        return {
            "expires_at": timezone.now() + timedelta(days=7),
            **super().get_changeform_initial_data(request),
        }

    def save_model(self, request, obj, form, change):
        if not obj.created_by_id:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="Invite link")
    def link(self, invite):
        if not invite.pk:
            return "Shown after saving."
        return reverse("invite", args=[invite.token])


class EventInline(admin.TabularInline):
    model = GenerationEvent
    extra = 0
    readonly_fields = ["state", "source", "detail", "at"]


class ShareLinkInline(admin.TabularInline):
    model = ShareLink
    extra = 0
    fields = ["show_prompt", "created_by", "created_at", "revoked_at"]
    readonly_fields = ["created_by", "created_at"]


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "team",
        "author",
        "endpoint",
        "model",
        "state",
        "estimated_credits",
        "credits",
        "created_at",
    ]
    list_filter = ["state", "endpoint", "model", "team"]
    search_fields = ["prompt", "provider_task_id"]
    readonly_fields = ["id", "created_at", "updated_at"]
    list_select_related = ["team", "author"]
    inlines = [EventInline, ShareLinkInline]


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ["generation", "team", "show_prompt", "created_by", "created_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["generation__team", "created_by"]
    fields = ["generation", "show_prompt", "link", "created_by", "created_at", "revoked_at"]
    readonly_fields = ["link", "created_by", "created_at"]
    raw_id_fields = ["generation"]
    actions = ["revoke"]

    @admin.display(ordering="generation__team__name")
    def team(self, share):
        return share.generation.team

    @admin.display(description="Link")
    def link(self, share):
        if not share.pk:
            return "Shown after saving."
        url = reverse("share", args=[share.token])
        return format_html('<a href="{}">{}</a>', url, url)

    def save_model(self, request, obj, form, change):
        if not obj.created_by_id:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Revoke the selected links")
    def revoke(self, request, queryset):
        count = queryset.filter(Q(revoked_at__isnull=True)).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} link(s).")


admin.site.register(InputImage)
admin.site.register(Creation)
admin.site.register(StagedImage)
