from django.urls import path

from zhibu.compliance import views

app_name = "compliance"
urlpatterns = [
    path("rules/", views.rules, name="rules"),
    path("me/", views.mine, name="mine"),
    path("board/<str:code>/", views.board, name="board"),
    path("board/<str:code>/run/", views.board_run, name="board_run"),
    path("<str:code>/", views.detail, name="detail"),
    path("<str:code>/edit/", views.override_edit, name="override_edit"),
    path("<str:code>/clear/", views.override_clear, name="override_clear"),
    path("<str:code>/pack/", views.assign, name="assign"),
]
