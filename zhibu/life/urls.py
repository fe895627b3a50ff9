from django.urls import URLPattern, URLResolver

from zhibu.life import views_ical

app_name = "life"
urlpatterns: list[URLPattern | URLResolver] = [
    *views_ical.urlpatterns,
]
