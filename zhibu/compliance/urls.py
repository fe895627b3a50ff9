from django.urls import path

from zhibu.compliance import notification_views, views

app_name = "compliance"
urlpatterns = [
    path("rules/", views.rules, name="rules"),
    path("me/", views.mine, name="mine"),
    path("board/<str:code>/", views.board, name="board"),
    path("board/<str:code>/run/", views.board_run, name="board_run"),
    path("notifications/", notification_views.notifications, name="notifications"),
    path("notifications/badge/", notification_views.notifications_badge, name="notifications_badge"),
    path("notifications/read-all/", notification_views.notifications_read_all, name="notifications_read_all"),
    path(
        "notifications/<int:notification_id>/read/",
        notification_views.notification_read,
        name="notification_read",
    ),
    path("<str:code>/", views.detail, name="detail"),
    path("<str:code>/edit/", views.override_edit, name="override_edit"),
    path("<str:code>/clear/", views.override_clear, name="override_clear"),
    path("<str:code>/pack/", views.assign, name="assign"),
]
