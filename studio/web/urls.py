from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from studio.web.views import (
    actions,
    batches,
    callbacks,
    compare,
    gallery,
    generate,
    generations,
    health,
    inputs,
    media,
    polls,
    reuse,
    shares,
    teams,
)

urlpatterns = [
    path("", generations.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(http_method_names=["get", "post"]),
        name="login",
    ),
    path(
        "accounts/logout/", auth_views.LogoutView.as_view(http_method_names=["post"]), name="logout"
    ),
    path("generate/<str:endpoint>/", generate.generate, name="generate"),
    path("generate/staged/<uuid:staged_id>/", generate.staged_image, name="staged_image"),
    path("inputs/<str:token>/<str:filename>", inputs.signed_input, name="signed_input"),
    path("generations/", generations.history, name="history"),
    path("generations/poll/", polls.poll, name="poll"),
    # Comparing finished videos and building on one
    path("compare/", compare.compare, name="compare"),
    path("generations/settings/", reuse.recent, name="recent_settings"),
    path("generations/<uuid:generation_id>/settings", reuse.settings, name="generation_settings"),
    path(
        "generations/<uuid:generation_id>/last-frame",
        reuse.last_frame,
        name="generation_last_frame",
    ),
    # The gallery: a selection's zip and actions, stars, hiding and restoring
    path("generations/download.zip", gallery.download_zip, name="gallery_zip"),
    path("generations/selection/", gallery.selection, name="gallery_selection"),
    path("generations/<uuid:generation_id>/star", gallery.star, name="generation_star"),
    path("generations/<uuid:generation_id>/hide", gallery.hide, name="generation_hide"),
    path("generations/<uuid:generation_id>/restore", gallery.restore, name="generation_restore"),
    path("generations/<uuid:generation_id>/", generations.detail, name="generation"),
    path("batches/<uuid:batch_id>/", batches.batch, name="batch"),
    # Teams, shared links, history players and watermarked downloads
    path("generations/<uuid:generation_id>/player/", generations.player, name="generation_player"),
    path(
        "generations/<uuid:generation_id>/video-watermarked.mp4",
        media.watermarked,
        name="generation_watermarked",
    ),
    path("generations/<uuid:generation_id>/shares/", shares.create, name="share_create"),
    path(
        "generations/<uuid:generation_id>/shares/<int:share_id>/revoke/",
        shares.revoke,
        name="share_revoke",
    ),
    path("s/<str:token>/", shares.page, name="share"),
    path("s/<str:token>/embed/", shares.embed, name="share_embed"),
    path("s/<str:token>/video.mp4", media.shared_video, name="share_video"),
    path("s/<str:token>/cover.jpg", media.shared_cover, name="share_cover"),
    path("team/", teams.team, name="team"),
    path("team/switch/", teams.switch, name="team_switch"),
    path("team/budget/", teams.set_budget, name="team_budget"),
    path("team/invites/", teams.create_invite, name="invite_create"),
    path("team/invites/<int:invite_id>/revoke/", teams.revoke_invite, name="invite_revoke"),
    path("team/members/<int:membership_id>/role/", teams.change_role, name="member_role"),
    path("team/members/<int:membership_id>/remove/", teams.remove_member, name="member_remove"),
    path("team/members/<int:membership_id>/limit/", teams.set_limit, name="member_limit"),
    path("invite/<str:token>/", teams.accept_invite, name="invite"),
    path("generations/<uuid:generation_id>/video.mp4", media.video, name="generation_video"),
    path("generations/<uuid:generation_id>/cover.jpg", media.cover, name="generation_cover"),
    path(
        "generations/<uuid:generation_id>/inputs/<int:position>/",
        media.input_image,
        name="input_image",
    ),
    path("generations/<uuid:generation_id>/cancel/", actions.cancel, name="generation_cancel"),
    path(
        "generations/<uuid:generation_id>/send-again/",
        actions.send_again,
        name="generation_send_again",
    ),
    path(
        "generations/<uuid:generation_id>/retry-fetch/",
        actions.retry_fetch,
        name="generation_retry",
    ),
    path("vidu/callback/", callbacks.vidu_callback, name="vidu_callback"),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
]

handler400 = "studio.web.views.errors.bad_request"
