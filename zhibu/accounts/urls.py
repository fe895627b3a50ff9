from django.contrib.auth import views as auth_views
from django.urls import path

from zhibu.accounts import views, views_users
from zhibu.accounts.views_tokens import tokens

app_name = "accounts"
urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", views_users.user_list, name="users"),
    path("accounts/new/", views_users.user_new, name="user_new"),
    path("accounts/<int:user_id>/", views_users.user_detail, name="user_detail"),
    path("accounts/<int:user_id>/action/", views_users.user_action, name="user_action"),
    path("tokens/", tokens, name="tokens"),
    path("login/", views.ZhibuLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(
            template_name="accounts/password_change.html", success_url="/password/done/"
        ),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_done.html"),
        name="password_change_done",
    ),
]
