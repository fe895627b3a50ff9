from django.urls import include, path

from zhibu.core import views as core_views

urlpatterns = [
    path("", include("zhibu.accounts.urls")),
    path("orgs/", include("zhibu.orgs.urls")),
    path("people/", include("zhibu.people.urls")),
    path("policy/", include("zhibu.compliance.urls")),
    path("development/", include("zhibu.development.urls")),
    path("calendar/", include("zhibu.core.urls")),
    path("life/", include("zhibu.life.urls")),
    path("api/v1/", include("zhibu.api_urls")),
    path("healthz", core_views.healthz, name="healthz"),
]

handler400 = "zhibu.core.views.bad_request"
handler403 = "zhibu.core.views.permission_denied"
handler404 = "zhibu.core.views.page_not_found"
handler500 = "zhibu.core.views.server_error"
