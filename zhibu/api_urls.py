"""The API under /api/v1/ (django-ninja); the routers live in each app's api.py."""

from django.urls import path, re_path

from zhibu.api import api, api_not_found

# The catch-all keeps unknown API paths in JSON (an HTML 404 page is no use to an integration).
urlpatterns = [path("", api.urls), re_path(r"^.*$", api_not_found)]
