from django.urls import path

from zhibu.orgs import views

app_name = "orgs"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("<str:code>/", views.detail, name="detail"),
    path("<str:code>/edit/", views.edit, name="edit"),
    path("<str:code>/new/", views.create_child, name="create_child"),
    path("<str:code>/posts/new/", views.post_new, name="post_new"),
    path("<str:code>/posts/<int:post_id>/end/", views.post_end, name="post_end"),
    path("<str:code>/terms/new/", views.term_new, name="term_new"),
    path("<str:code>/dissolve/", views.dissolve, name="dissolve"),
]
