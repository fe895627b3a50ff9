"""The OpenAPI document and the docs page, whose assets come from the installed package, not a CDN."""

from __future__ import annotations

from django.contrib.staticfiles import finders

ROUTES = {
    "/api/v1/orgs/": {"get", "post"},
    "/api/v1/orgs/{code}/": {"get", "patch"},
    "/api/v1/people/": {"get", "post"},
    "/api/v1/people/{person_id}/": {"get", "patch"},
    "/api/v1/people/{person_id}/status/": {"post"},
    "/api/v1/me/": {"get"},
}


def test_openapi_document_lists_the_routes_and_both_kinds_of_auth(db, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    for path, methods in ROUTES.items():
        assert methods <= set(doc["paths"][path]), path
    schemes = doc["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
    person = doc["components"]["schemas"]["PersonOut"]["properties"]
    assert {"status", "status_label", "id_number", "org", "group"} <= set(person)
    errors = doc["paths"]["/api/v1/people/"]["post"]["responses"]
    assert {"201", "400", "401", "403", "404", "422"} <= set(errors)


def test_docs_page_never_loads_assets_from_a_cdn(db, client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "cdn" not in page.lower()
    assert "https://" not in page


def test_docs_page_uses_the_swagger_ui_shipped_with_ninja(db, client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "/static/ninja/swagger-ui.css" in page
    assert "cdn" not in page.lower()
    for asset in ("ninja/swagger-ui-bundle.js", "ninja/swagger-ui.css", "ninja/swagger-ui-init.js"):
        assert finders.find(asset), asset
