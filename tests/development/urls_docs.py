"""The project's URLs with the development documents mounted under the "development" namespace, until
zhibu/development/urls.py includes them."""

from django.urls import include, path

from zhibu.development import views_docs
from zhibu.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("development/", include((views_docs.urlpatterns, "development"), namespace="development")),
    *[p for p in project_urlpatterns if getattr(p, "namespace", None) != "development"],
]
