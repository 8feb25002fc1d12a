from django.contrib import admin

from studio.models import Creation, Generation, GenerationEvent, InputImage, Membership, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role"]
    list_filter = ["role", "team"]


class EventInline(admin.TabularInline):
    model = GenerationEvent
    extra = 0
    readonly_fields = ["state", "source", "detail", "at"]


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = ["id", "team", "author", "kind", "model", "state", "credits", "created_at"]
    list_filter = ["state", "kind", "model", "team"]
    search_fields = ["prompt", "provider_task_id"]
    readonly_fields = ["id", "created_at", "updated_at"]
    inlines = [EventInline]


admin.site.register(InputImage)
admin.site.register(Creation)
