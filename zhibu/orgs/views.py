"""Org pages: the tree, an org's page, editing, posts and terms. Thin: parse, call, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from zhibu.core.audit import audit_history
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.views import form_add_service_errors, handles_refusals
from zhibu.orgs import selectors, services
from zhibu.orgs.forms import OrgCreateForm, OrgEditForm, PostAssignForm, PostEndForm, TermForm
from zhibu.orgs.models import ALLOWED_CHILDREN, Organization, OrgKind, Post


@login_required
def tree(request: HttpRequest) -> HttpResponse:
    orgs = list(selectors.org_list_visible_to(request.scope))  # type: ignore[attr-defined]
    by_parent: dict[int | None, list] = {}
    ids = {o.pk for o in orgs}
    for o in orgs:
        by_parent.setdefault(o.parent_id if o.parent_id in ids else None, []).append(o)
    return render(request, "orgs/tree.html", {"roots": by_parent.get(None, []), "by_parent": by_parent})


@login_required
@handles_refusals
def detail(request: HttpRequest, code: str) -> HttpResponse:
    scope = request.scope  # type: ignore[attr-defined]
    org = selectors.org_get_visible(scope, code)
    from zhibu.people.models import Status

    data = selectors.org_detail(scope, org)
    return render(
        request,
        "orgs/detail.html",
        {
            "d": data,
            "org": org,
            "can_manage": scope.can_manage_org(org),
            "can_dissolve": org.parent is not None
            and scope.can_manage_org(org.parent)
            and not org.dissolved_on,
            "statuses": [
                (s, Status(s).label, data.counts.get(s, 0)) for s in Status.values if data.counts.get(s)
            ],
            "history": audit_history(org, limit=20),
            "child_kinds": ALLOWED_CHILDREN[org.kind],
            "end_form": PostEndForm(),
        },
    )


def _managed(request: HttpRequest, code: str):  # type: ignore[no-untyped-def]
    scope = request.scope  # type: ignore[attr-defined]
    org = selectors.org_get_visible(scope, code)
    if not scope.can_manage_org(org):
        raise NotPermitted("您无权修改此党组织")
    return scope, org


@login_required
@handles_refusals
def edit(request: HttpRequest, code: str) -> HttpResponse:
    scope, org = _managed(request, code)
    initial = {f: getattr(org, f) for f in ("name", "short_name", "established_on", "sort_order", "note")}
    form = OrgEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items()}
        data["sort_order"] = data.get("sort_order") or 0
        try:
            services.org_update(actor=request.user, scope=scope, org=org, data=data)
        except ServiceError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, "已保存")
            return redirect("orgs:detail", code=org.code)
    return render(request, "orgs/form.html", {"form": form, "org": org, "title": f"编辑 {org.name}"})


@login_required
@handles_refusals
def create_child(request: HttpRequest, code: str) -> HttpResponse:
    scope, parent = _managed(request, code)
    kinds = ALLOWED_CHILDREN[parent.kind]
    if not kinds:
        raise NotFound(f"{OrgKind(parent.kind).label}下不能再设组织")
    form = OrgCreateForm(request.POST or None, allowed_kinds=kinds, initial={"kind": kinds[-1]})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["sort_order"] = data.get("sort_order") or 0
        try:
            org = services.org_create(
                actor=request.user,
                scope=scope,
                parent=parent,
                code=data.pop("code"),
                name=data.pop("name"),
                kind=data.pop("kind"),
                **data,
            )
        except ServiceError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, f"已建立 {org.name}")
            return redirect("orgs:detail", code=org.code)
    return render(
        request, "orgs/form.html", {"form": form, "org": parent, "title": f"在 {parent.name} 下新建组织"}
    )


@login_required
@handles_refusals
def post_new(request: HttpRequest, code: str) -> HttpResponse:
    from zhibu.people.models import MEMBER_STATUSES, Person

    scope, org = _managed(request, code)
    home = org.parent if org.kind == OrgKind.GROUP and org.parent else org
    candidates = Person.objects.filter(org__path__startswith=home.path, status__in=MEMBER_STATUSES).order_by(
        "name_pinyin"
    )
    form = PostAssignForm(request.POST or None)
    form.fields["person"].choices = [(p.pk, f"{p.name}（{p.get_status_display()}）") for p in candidates]  # type: ignore[attr-defined]
    allowed = services.ROLES_FOR_KIND.get(org.kind)
    if allowed:
        form.fields["role"].choices = [(r, dict(form.fields["role"].choices)[r]) for r in allowed]  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        person = candidates.filter(pk=form.cleaned_data["person"]).select_related("org").first()
        try:
            if person is None:
                raise ServiceError("任职人不在此党组织", field="person")
            services.post_assign(
                actor=request.user,
                scope=scope,
                org=org,
                person=person,
                role=form.cleaned_data["role"],
                started_on=form.cleaned_data["started_on"],
                term=org.terms.filter(ended_on__isnull=True).first(),
                note=form.cleaned_data["note"],
            )
        except ServiceError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, "已任职")
            return redirect("orgs:detail", code=org.code)
    return render(request, "orgs/form.html", {"form": form, "org": org, "title": f"{org.name} · 任职"})


@login_required
@require_POST
@handles_refusals
def post_end(request: HttpRequest, code: str, post_id: int) -> HttpResponse:
    scope, org = _managed(request, code)
    post = Post.objects.filter(pk=post_id, org=org).select_related("org").first()
    if post is None:
        raise NotFound("职务不存在")
    form = PostEndForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写有效的离任日期")
    else:
        try:
            services.post_end(
                actor=request.user, scope=scope, post=post, ended_on=form.cleaned_data["ended_on"]
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已办理离任")
    return redirect("orgs:detail", code=org.code)


@login_required
@require_POST
@handles_refusals
def dissolve(request: HttpRequest, code: str) -> HttpResponse:
    scope = request.scope  # type: ignore[attr-defined]
    org = selectors.org_get_visible(scope, code)
    form = PostEndForm({"ended_on": request.POST.get("dissolved_on", "")})
    if not form.is_valid():
        messages.error(request, "请填写有效的撤销日期")
        return redirect("orgs:detail", code=org.code)
    try:
        services.org_dissolve(
            actor=request.user, scope=scope, org=org, dissolved_on=form.cleaned_data["ended_on"]
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("orgs:detail", code=org.code)
    messages.success(request, f"已撤销 {org.name}")
    return redirect("orgs:detail", code=org.parent.code if org.parent else org.code)


def _usual_term(org: Organization) -> tuple[int | None, str]:
    """The term length the org's policy sets (e.g. term.branch_years), and a hint saying where from."""
    from zhibu.compliance.packs import effective_policy

    policy = effective_policy(org)
    key = f"term.{org.kind}_years"
    try:
        years = policy.value(key)
    except KeyError:
        return None, ""
    if not years:
        return None, ""
    return (
        years,
        f"按适用制度（{policy.origin(key)}），{OrgKind(org.kind).label}任期 {years} 年；以上级批复为准",
    )


@login_required
@handles_refusals
def term_new(request: HttpRequest, code: str) -> HttpResponse:
    scope, org = _managed(request, code)
    years, hint = _usual_term(org)
    form = TermForm(request.POST or None, initial={"length_years": years} if years else {})
    form.fields["length_years"].help_text = hint
    if request.method == "POST" and form.is_valid():
        try:
            services.term_create(actor=request.user, scope=scope, org=org, **form.cleaned_data)
        except ServiceError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, "已记录换届")
            return redirect("orgs:detail", code=org.code)
    return render(request, "orgs/form.html", {"form": form, "org": org, "title": f"{org.name} · 记录换届"})
