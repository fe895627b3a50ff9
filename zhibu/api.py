"""The NinjaAPI instance: session auth for the browser, bearer tokens for integrations.

Also what every app's `api.py` shares: the input schema bases (which refuse what the database would choke
on), pagination, and the error format. Every error is JSON `{"detail": "...", "errors": {field: [msg]}}`
with a Chinese message; no request is meant to end in a 500.

Routers are named in ROUTERS and mounted when the URLs or the OpenAPI document are first built, so an
app's `api.py` may import from here without an import cycle.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Annotated, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, RawPostDataException
from django.utils.functional import SimpleLazyObject
from django.utils.html import escape
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf
from pydantic import BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.scoping import Scope, request_scope

logger = logging.getLogger(__name__)

# (prefix, router) for every app that serves API routes; mounted in this order.
ROUTERS: tuple[tuple[str, str], ...] = (
    ("", "zhibu.accounts.api.router"),
    ("/orgs", "zhibu.orgs.api.router"),
    ("/people", "zhibu.people.api.router"),
    ("/findings", "zhibu.compliance.api.router"),
    ("/development", "zhibu.development.api.router"),
    ("/life", "zhibu.life.api.router"),
)

UNAUTHENTICATED = "请先登录或提供有效的 API 令牌"
BAD_TOKEN = "API 令牌无效、已吊销或其用户已停用"  # noqa: S105 - a message, not a secret
CSRF_FAILED = "CSRF 校验失败：浏览器会话的写请求须带 X-CSRFToken 请求头（集成系统请用 API 令牌）"
SERVER_ERROR = "系统出错，请稍后再试或联系管理员"
MAX_PAGE = 100_000
MAX_PAGE_SIZE = 200
# The largest integer every supported database stores in a plain integer column.
MAX_INT = 2_147_483_647


# Auth -------------------------------------------------------------------------------------------------
class BearerTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`: an integration acts as the token's user, with that user's scope."""

    def __call__(self, request: HttpRequest) -> Any:
        scheme, _, raw = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer":
            return None  # no token: the session may still authenticate
        return self.authenticate(request, raw)

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from zhibu.accounts.services import api_token_authenticate

        user = api_token_authenticate(token)
        if user is None:
            # A bad token is refused outright, even beside a valid session: the caller meant the token.
            raise AuthenticationError(401, BAD_TOKEN)
        request.user = user
        # The scope is lazy and keyed on request.user; give the request a fresh one for the token's user.
        request.scope = SimpleLazyObject(lambda: request_scope(request))  # type: ignore[attr-defined]
        return user


class BrowserSessionAuth(APIKeyCookie):
    """The logged-in browser session; unsafe methods must carry the CSRF token."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None  # not logged in: 401, not a CSRF complaint
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, CSRF_FAILED)
        return user

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:  # pragma: no cover - unused
        return self(request)


# Docs -------------------------------------------------------------------------------------------------
class LocalSwagger(Swagger):
    """Swagger UI from the files django-ninja ships (`ninja` in INSTALLED_APPS); never from a CDN."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        if "ninja" in settings.INSTALLED_APPS:
            return super().render_page(request, api, **kwargs)
        # Without the app its templates and static files are not found, and ninja would fall back to a CDN.
        url = escape(self.get_openapi_url(api, kwargs))
        return HttpResponse(
            '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>接口文档</title>'
            f"<p>接口文档页面未启用（需在 INSTALLED_APPS 中加入 “ninja”）。"
            f'OpenAPI 文档：<a href="{url}">{url}</a></p></html>'
        )


# The API ----------------------------------------------------------------------------------------------
class ZhibuAPI(NinjaAPI):
    """Mounts ROUTERS on first use, so that routers can import the schema bases from this module."""

    _mounted = False
    _mount_lock = threading.Lock()

    def _mount_routers(self) -> None:
        with self._mount_lock:  # two threads building the URLs at once must not mount twice
            if not self._mounted:
                for prefix, router in ROUTERS:
                    self.add_router(prefix, router)
                self._mounted = True

    @property
    def urls(self) -> Any:
        self._mount_routers()
        return super().urls

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        self._mount_routers()
        return super().get_openapi_schema(**kwargs)


api = ZhibuAPI(
    title="支部 API",
    version="1",
    description=(
        "学校党建工作系统的接口。浏览器使用登录会话（写请求须带 X-CSRFToken 请求头）；"
        "集成系统使用 API 令牌：`Authorization: Bearer <令牌>`（在“API 令牌”页面签发）。"
        "所有数据按当前用户的权限范围过滤；身份证号和手机号一律脱敏。"
        '错误统一为 JSON：{"detail": "说明", "errors": {"字段": ["说明"]}}。'
    ),
    urls_namespace="api",
    docs=LocalSwagger(),
    docs_url="/docs",
    auth=[BearerTokenAuth(), BrowserSessionAuth()],
)


def request_scope_of(request: HttpRequest) -> Scope:
    """The authenticated request's scope (set by ScopeMiddleware, refreshed by token auth)."""
    scope = getattr(request, "scope", None)
    return scope if scope is not None else request_scope(request)  # type: ignore[return-value]


# Errors -----------------------------------------------------------------------------------------------
def error_response(
    request: HttpRequest, status: int, detail: str, errors: dict[str, list[str]] | None = None
) -> HttpResponse:
    response = api.create_response(request, {"detail": detail, "errors": errors or {}}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="zhibu"'
    return response


def _service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    return error_response(request, 400, exc.message, exc.errors)


def _not_permitted(request: HttpRequest, exc: NotPermitted) -> HttpResponse:
    return error_response(request, 403, exc.message, exc.errors)


def _not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return error_response(request, 404, exc.message, exc.errors)


def _http404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "资源不存在或不在您的权限范围内")


# ninja's own English messages, as a person reads them.
_HTTP_MESSAGES = {
    "Unauthorized": UNAUTHENTICATED,
    "Forbidden": "您无权执行此操作",
    "CSRF check Failed": CSRF_FAILED,
    "Cannot parse request body": "请求体不是有效的 JSON（须为 Content-Type: application/json 的 JSON 对象）",
    "Too many requests.": "请求过于频繁，请稍后再试",
}


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = exc.message
    if message.startswith("Cannot parse request body") and not _sent_json(request):
        return _not_json(request, exc)
    for english, chinese in _HTTP_MESSAGES.items():
        if message.startswith(english):
            message = chinese
            break
    return error_response(request, exc.status_code, message)


def _sent_json(request: HttpRequest) -> bool:
    content_type = request.content_type or ""
    return content_type in ("", "application/json") or content_type.endswith("+json")


def _not_json(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A form post: the body was read as form fields (or is not JSON at all). 400 like any body ninja
    # cannot parse (415 would be as right, but one status for "unreadable body" is simpler to handle).
    received = (request.content_type or "")[:100]
    return error_response(
        request, 400, f"请求体须为 JSON 对象（Content-Type: application/json），收到的是 {received}"
    )


def _suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    if isinstance(exc, RequestDataTooBig):
        return error_response(request, 413, "请求体过大")
    return error_response(request, 400, "请求无效")


def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    detail, errors = translate_validation_errors(exc.errors)
    return error_response(request, 422, detail, errors)


def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # The last resort: every failure a caller can cause should have been answered before this.
    logger.exception("API %s %s failed", request.method, request.path, exc_info=exc)
    return error_response(request, 500, SERVER_ERROR)


# ninja uses the handler registered for the nearest class in the exception's MRO.
_HANDLERS: list[tuple[type[Exception], Callable[[HttpRequest, Any], HttpResponse]]] = [
    (ServiceError, _service_error),
    (NotPermitted, _not_permitted),
    (NotFound, _not_found),
    (Http404, _http404),
    (HttpError, _http_error),
    (SuspiciousOperation, _suspicious),
    (RawPostDataException, _not_json),
    (ValidationError, _validation_error),
    (Exception, _unexpected),
]
for _exc_class, _handler in _HANDLERS:
    api.add_exception_handler(_exc_class, _handler)


_SOURCES = {"body": "请求体", "query": "查询参数", "path": "路径参数", "header": "请求头", "cookie": "Cookie"}
# Routes name their body `payload` and their query schema `query`.
_PARAM_NAMES = {"body": ("payload",), "query": ("query",)}
_DATE_MESSAGE = "日期格式应为 YYYY-MM-DD（且须是存在的日期）"
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _message(error: dict[str, Any]) -> str:
    kind: str = error.get("type", "")
    ctx: dict[str, Any] = error.get("ctx") or {}
    simple = {
        "missing": "必填",
        "extra_forbidden": "不是可接受的字段",
        "int_parsing": "应为整数",
        "int_type": "应为整数",
        "int_from_float": "应为整数",
        "float_parsing": "应为数字",
        "float_type": "应为数字",
        "finite_number": "应为有限的数字",
        "string_type": "应为字符串",
        "string_pattern_mismatch": "格式不正确",
        "bool_parsing": "应为 true 或 false",
        "bool_type": "应为 true 或 false",
        "model_type": "应为 JSON 对象",
        "model_attributes_type": "应为 JSON 对象",
        "dict_type": "应为 JSON 对象",
        "list_type": "应为列表",
        "json_invalid": "不是有效的 JSON",
    }
    if kind in simple:
        return simple[kind]
    if kind.startswith(("date", "datetime")):
        return _DATE_MESSAGE
    if kind == "greater_than_equal":
        return f"不能小于 {ctx.get('ge')}"
    if kind == "greater_than":
        return f"应大于 {ctx.get('gt')}"
    if kind == "less_than_equal":
        return f"不能大于 {ctx.get('le')}"
    if kind == "less_than":
        return f"应小于 {ctx.get('lt')}"
    if kind == "string_too_long":
        return f"不能超过 {ctx.get('max_length')} 个字符"
    if kind == "string_too_short":
        return "不能为空" if ctx.get("min_length") == 1 else f"至少 {ctx.get('min_length')} 个字符"
    if kind == "too_long":
        return f"最多 {ctx.get('max_length')} 项"
    if kind in ("enum", "literal_error"):
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", "、").replace(", ", "、")
        return f"可选值：{expected}"
    message = str(error.get("msg", ""))
    if kind == "value_error":
        message = str(ctx.get("error", message)).removeprefix("Value error, ")
    # Our own validators speak Chinese; pydantic's other messages do not.
    return message if _CJK.search(message) else "取值无效"


def translate_validation_errors(items: Sequence[dict[str, Any]]) -> tuple[str, dict[str, list[str]]]:
    """ninja's error list (loc + type) → a Chinese summary and messages by field name."""
    errors: dict[str, list[str]] = {}
    for item in items:
        loc = [str(part) for part in item.get("loc", ())]
        source, rest = (loc[0], loc[1:]) if loc else ("body", [])
        if rest and rest[0] in _PARAM_NAMES.get(source, ()):
            rest = rest[1:]  # the route's parameter name, not a field the caller sent
        while len(rest) > 1 and rest[-1].isdigit():
            rest = rest[:-1]  # status.0 → status
        field = ".".join(rest) or source
        message = _message(item)
        if field == "body" and item.get("type") == "missing":
            message = "不能为空，应为 JSON 对象"
        errors.setdefault(field, [])
        if message not in errors[field]:
            errors[field].append(message)
    detail = "；".join(f"{_SOURCES.get(f, f)}：{'、'.join(m)}" for f, m in errors.items())
    return detail or "请求数据有误", errors


# Schema bases -----------------------------------------------------------------------------------------
def _clean_text(value: Any) -> Any:
    if isinstance(value, str):
        # NUL is refused by PostgreSQL and lone surrogates by every encoder: refuse them here, by field.
        if "\x00" in value:
            raise PydanticCustomError("null_character", "不能包含空字符（\\u0000）")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise PydanticCustomError("invalid_unicode", "包含无效的字符") from None
    return value


class InputSchema(Schema):
    """A request body: unknown fields are refused, text is checked for characters no database stores."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _text_is_storable(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [_clean_text(v) for v in value]
        return _clean_text(value)


class QuerySchema(Schema):
    """Query parameters: unknown ones are ignored (caches add their own), text is checked like a body."""

    @field_validator("*", mode="before")
    @classmethod
    def _text_is_storable(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [_clean_text(v) for v in value]
        return _clean_text(value)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date_only(value: Any) -> Any:
    # pydantic would also take numbers (seconds since 1970) and datetimes; a date is written YYYY-MM-DD.
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        return value
    raise PydanticCustomError("date_format", _DATE_MESSAGE)


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]
Count = Annotated[int, Field(ge=0, le=MAX_INT)]


class PageQuery(QuerySchema):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="页码，从 1 开始")
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE, description=f"每页条数，最多 {MAX_PAGE_SIZE}")


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}


# Error responses every route may give, for the OpenAPI document.
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def paginate(qs: QuerySet[Any], page: int, page_size: int) -> tuple[int, list[Any]]:
    """(total, rows of the page) in two queries; a page past the end is empty, not an error."""
    total = qs.count()
    start = (page - 1) * page_size
    rows = list(qs[start : start + page_size]) if start < total else []
    return total, rows


def plain(data: dict[str, Any]) -> dict[str, Any]:
    """Enum members as their values, for services that compare with model choices."""
    return {k: (v.value if isinstance(v, Enum) else v) for k, v in data.items()}


def label_of(choices: Callable[[str], Any], value: str) -> str:
    """The Chinese label of a choice value ("" for blank or unknown values)."""
    try:
        return str(choices(value).label) if value else ""
    except ValueError:
        return ""


def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """For a catch-all at the end of api_urls: an unknown API path answers in JSON, not an HTML page."""
    hint = ""
    if not request.path.endswith("/"):
        hint = "（接口路径以 / 结尾）"
    return error_response(request, 404, f"接口不存在：{request.path}{hint}")


__all__ = [
    "ERRORS",
    "MAX_INT",
    "Count",
    "ErrorOut",
    "InputSchema",
    "IsoDate",
    "PageQuery",
    "QuerySchema",
    "api",
    "api_not_found",
    "error_response",
    "label_of",
    "paginate",
    "plain",
    "request_scope_of",
    "translate_validation_errors",
]
