from django.urls import URLPattern, URLResolver

from zhibu.life import views, views_ical, views_ledger, views_member, views_talks

app_name = "life"
urlpatterns: list[URLPattern | URLResolver] = [
    *views.urlpatterns,
    *views_member.urlpatterns,
    *views_talks.urlpatterns,
    *views_ledger.urlpatterns,
    *views_ical.urlpatterns,
]
