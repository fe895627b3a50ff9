"""People pages: the list (htmx-filtered), a person's page, create, edit, status change, ID reveal."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from zhibu.core.crypto import mask_id_number, mask_phone
from zhibu.core.errors import NotPermitted, ServiceError
from zhibu.core.views import form_add_service_errors, handles_refusals
from zhibu.orgs import selectors as org_selectors
from zhibu.orgs.models import Organization, OrgKind
from zhibu.people import selectors, services
from zhibu.people.forms import PersonCreateForm, PersonEditForm, StatusChangeForm
from zhibu.people.models import ACTIVE_STATUSES, Status
from zhibu.people.status import allowed_next

PAGE_SIZE = 50
# Above this many organisations the filter offers a code box instead of a long drop-down.
ORG_SELECT_LIMIT = 300


def filters_from_request(request: HttpRequest) -> selectors.PersonFilters:
    """The list's filters from the query string; an org code outside the scope is simply not found."""
    scope = request.scope  # type: ignore[attr-defined]
    requested = request.GET.getlist("status")
    f = selectors.PersonFilters(
        # Without a choice the list is the current roll; "all" includes those transferred out, deceased …
        statuses=[s for s in requested if s in Status.values]
        or ([] if "all" in requested else list(ACTIVE_STATUSES)),
        flags=[f for f in request.GET.getlist("flag") if f in selectors.FLAGS],
        q=request.GET.get("q", "").strip()[:50],
    )
    code = request.GET.get("org", "").strip()
    if code:
        f.org = org_selectors.org_get_visible(scope, code)
    group = request.GET.get("group", "").strip()
    if group.isdigit():
        f.group = scope.orgs(Organization.objects.filter(pk=int(group), kind=OrgKind.GROUP)).first()
    return f


@login_required
@handles_refusals
def person_list(request: HttpRequest) -> HttpResponse:
    scope = request.scope  # type: ignore[attr-defined]
    filters = filters_from_request(request)
    qs = selectors.person_list_visible_to(scope, filters)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(p, mask_phone(p.phone)) for p in page.object_list]
    ctx: dict[str, Any] = {
        "page": page,
        "rows": rows,
        "filters": filters,
        "querystring": _qs_without_page(request),
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "people/list.html#results", ctx)
    orgs = list(
        org_selectors.org_list_visible_to(scope)
        .exclude(kind=OrgKind.GROUP)
        .values_list("code", "name", "depth")
    )
    groups = []
    if filters.org is not None and filters.org.kind == OrgKind.BRANCH:
        groups = list(filters.org.children.active().filter(kind=OrgKind.GROUP))
    ctx.update(
        {
            "orgs": orgs if len(orgs) <= ORG_SELECT_LIMIT else None,
            "groups": groups,
            "statuses": Status.choices,
            "status_selected": request.GET.get("status", ""),
            "flags": [(k, v[0]) for k, v in selectors.FLAGS.items()],
            "can_create": scope.manages_anything,
        }
    )
    return render(request, "people/list.html", ctx)


def _qs_without_page(request: HttpRequest) -> str:
    q = request.GET.copy()
    q.pop("page", None)
    return q.urlencode()


@login_required
@handles_refusals
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope = request.scope  # type: ignore[attr-defined]
    person = selectors.person_get_visible(scope, pk)
    can_manage = scope.can_manage_person(person)
    return render(
        request,
        "people/detail.html",
        {
            "p": person,
            "can_manage": can_manage,
            "account": _account_of(person) if can_manage else None,
            "masked_id": mask_id_number(person.id_number),
            "masked_phone": mask_phone(person.phone),
            "can_reveal": can_manage and scope.can_reveal_id and bool(person.id_number),
            "timeline": selectors.person_timeline(person),
            "posts": list(person.posts.select_related("org").order_by("-started_on")),
            "status_form": StatusChangeForm(allowed=allowed_next(person.status)) if can_manage else None,
        },
    )


def _person_form_options(scope: Any) -> dict[str, Any]:
    return {
        "branches": list(org_selectors.branches_visible_to(scope, managed=True)),
        "groups": list(org_selectors.groups_visible_to(scope, managed=True)),
    }


def _account_of(person: Any) -> Any:
    from zhibu.accounts.models import User

    return User.objects.filter(person=person).only("pk", "username").first()


@login_required
@handles_refusals
def person_new(request: HttpRequest) -> HttpResponse:
    scope = request.scope  # type: ignore[attr-defined]
    if not scope.manages_anything:
        raise NotPermitted("您无权新建人员")
    initial = {"org": request.GET.get("org_id", "")}
    form = PersonCreateForm(request.POST or None, initial=initial, **_person_form_options(scope))
    if request.method == "POST" and form.is_valid():
        data = form.typed()
        status = data.pop("status")
        try:
            person = services.person_create(actor=request.user, scope=scope, data=data, status=status)
        except ServiceError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, f"已建立 {person.name} 的档案")
            return redirect("people:detail", pk=person.pk)
    return render(request, "people/form.html", {"form": form, "title": "新建人员"})


@login_required
@handles_refusals
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    scope = request.scope  # type: ignore[attr-defined]
    person = selectors.person_get_visible(scope, pk)
    if not scope.can_manage_person(person):
        raise NotPermitted("您无权修改此人员的信息")
    initial = {
        f: getattr(person, f)
        for f in services.EDITABLE_FIELDS
        if f not in ("org", "group", *PersonEditForm.SECRET_FIELDS)
    }
    initial.update({"org": str(person.org_id), "group": str(person.group_id or "")})
    masked = {"id_number": mask_id_number(person.id_number), "phone": mask_phone(person.phone)}
    form = PersonEditForm(request.POST or None, initial=initial, masked=masked, **_person_form_options(scope))
    if request.method == "POST" and form.is_valid():
        try:
            services.person_update(actor=request.user, scope=scope, person=person, data=form.typed())
        except ServiceError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, "已保存")
            return redirect("people:detail", pk=person.pk)
    return render(
        request, "people/form.html", {"form": form, "title": f"编辑 {person.name}", "person": person}
    )


@login_required
@require_POST
@handles_refusals
def person_status(request: HttpRequest, pk: int) -> HttpResponse:
    scope = request.scope  # type: ignore[attr-defined]
    person = selectors.person_get_visible(scope, pk)
    form = StatusChangeForm(request.POST, allowed=allowed_next(person.status))
    if not form.is_valid():
        messages.error(
            request,
            "身份变更未保存："
            + "；".join(
                f"{form.fields[k].label}：{'；'.join(str(m) for m in v)}"
                if k in form.fields
                else "；".join(map(str, v))
                for k, v in form.errors.items()
            ),
        )
    else:
        try:
            services.person_change_status(actor=request.user, scope=scope, person=person, **form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, "身份变更未保存：" + exc.message)
        else:
            messages.success(request, f"已变更为“{Status(form.cleaned_data['to_status']).label}”")
    return redirect("people:detail", pk=person.pk)


@login_required
@require_POST
@handles_refusals
def person_reveal_id(request: HttpRequest, pk: int) -> HttpResponse:
    scope = request.scope  # type: ignore[attr-defined]
    person = selectors.person_get_visible(scope, pk)
    full = services.person_reveal_id(actor=request.user, scope=scope, person=person)
    return render(request, "people/detail.html#id-number", {"p": person, "revealed": full})
