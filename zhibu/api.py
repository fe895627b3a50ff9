"""The NinjaAPI instance: session auth for the browser, bearer tokens for integrations."""

from ninja import NinjaAPI

api = NinjaAPI(title="zhibu API", version="1", urls_namespace="api", docs_url="/docs")
