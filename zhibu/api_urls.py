"""The API under /api/v1/ (django-ninja); the routers live in each app's api.py."""

from django.urls import path

from zhibu.api import api

urlpatterns = [path("", api.urls)]
