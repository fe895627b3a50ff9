from django.urls import URLPattern, path

from zhibu.core import calendar_views

app_name = "core"
urlpatterns: list[URLPattern] = [
    path("", calendar_views.calendar_today, name="calendar"),
    path("<int:year>/", calendar_views.calendar_year, name="calendar_year"),
    path("day/", calendar_views.calendar_day_change, name="calendar_day"),
    path("load/", calendar_views.calendar_load, name="calendar_load"),
    path("semesters/<str:code>/", calendar_views.semesters_page, name="semesters"),
]
