
app_name = "core"
urlpatterns: list = []  # type: ignore[type-arg]
