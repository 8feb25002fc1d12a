from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from studio.views import actions, callbacks, generate, generations, media

urlpatterns = [
    path("", generations.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("generate/<str:endpoint>/", generate.generate, name="generate"),
    path("generations/", generations.history, name="history"),
    path("generations/poll/", generations.poll, name="poll"),
    path("generations/<uuid:generation_id>/", generations.detail, name="generation"),
    path("generations/<uuid:generation_id>/video.mp4", media.video, name="generation_video"),
    path("generations/<uuid:generation_id>/cover.jpg", media.cover, name="generation_cover"),
    path(
        "generations/<uuid:generation_id>/inputs/<int:position>/",
        media.input_image,
        name="input_image",
    ),
    path(
        "generations/<uuid:generation_id>/cancel/", actions.cancel, name="generation_cancel"
    ),
    path(
        "generations/<uuid:generation_id>/retry-fetch/",
        actions.retry_fetch,
        name="generation_retry",
    ),
    path("vidu/callback/", callbacks.vidu_callback, name="vidu_callback"),
    path("admin/", admin.site.urls),
]
