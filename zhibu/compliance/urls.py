
app_name = "compliance"
urlpatterns: list = []  # type: ignore[type-arg]
