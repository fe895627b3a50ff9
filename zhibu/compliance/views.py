"""Policy pages: the rule catalogue, an org's effective policy, and a school's own values. Thin."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from zhibu.compliance import catalogue, packs, selectors, services
from zhibu.compliance.forms import AssignForm, OverrideForm
from zhibu.compliance.kinds import KINDS, STATES
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.views import form_add_service_errors, handles_refusals
from zhibu.orgs.selectors import org_get_visible


@login_required
def rules(request: HttpRequest) -> HttpResponse:
    lib = packs.library()
    national = lib.national
    overlays = [lib.get(n) for n in lib.names() if n != national.name]
    return render(
        request,
        "compliance/catalogue.html",
        {
            "national": national,
            "rules": [(r, catalogue.rule_text(r, national)) for r in national.rules.values()],
            "overlays": [
                (
                    p,
                    [
                        (p.parameters[k], lib.get(p.extends or packs.NATIONAL).parameters.get(k))
                        for k in p.own_parameters
                    ],
                    [(p.rules[i], catalogue.rule_text(p.rules[i], p)) for i in p.own_rules],
                )
                for p in overlays
            ],
            "kinds": KINDS.values(),
        },
    )


@login_required
@handles_refusals
def detail(request: HttpRequest, code: str) -> HttpResponse:
    scope = request.scope  # type: ignore[attr-defined]
    page = selectors.policy_page(scope, code)
    form = AssignForm(
        initial={"pack_name": page.pack_assigned_here},
        choices=[(p.name, f"{p.title}（{p.name}）") for p in page.packs if p.name != packs.NATIONAL],
    )
    return render(request, "compliance/policy.html", {"page": page, "org": page.org, "assign_form": form})


def _editable(request: HttpRequest, code: str):  # type: ignore[no-untyped-def]
    scope = request.scope  # type: ignore[attr-defined]
    org = org_get_visible(scope, code)
    if not scope.can_manage_org(org):
        raise NotPermitted("您无权修改此党组织的制度设置")
    if not services.policy_editable(org):
        raise NotPermitted("党支部沿用学校的制度设置，请在学校党组织的制度页面修改")
    return scope, org


@login_required
@handles_refusals
def override_edit(request: HttpRequest, code: str) -> HttpResponse:
    scope, org = _editable(request, code)
    key = request.POST.get("key") if request.method == "POST" else request.GET.get("key")
    policy = packs.effective_policy(org)
    if not key or key not in policy.pack.parameters:
        raise NotFound("参数不存在")
    param = policy.parameter(key)
    form = OverrideForm(request.POST or None, param=param)
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_override_set(
                actor=request.user,
                scope=scope,
                org=org,
                key=key,
                value=form.plain_value(),
                note=form.cleaned_data["note"],
            )
        except NotPermitted:
            raise
        except ServiceError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, f"已设置：{param.title}")
            return redirect("compliance:detail", code=org.code)
    return render(
        request,
        "compliance/override_form.html",
        {"form": form, "org": org, "param": param, "origin": policy.origin(key)},
    )


@require_POST
@login_required
@handles_refusals
def override_clear(request: HttpRequest, code: str) -> HttpResponse:
    scope, org = _editable(request, code)
    try:
        services.policy_override_clear(
            actor=request.user, scope=scope, org=org, key=request.POST.get("key", "")
        )
    except NotPermitted:
        raise
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已恢复为上级或制度包的取值")
    return redirect("compliance:detail", code=org.code)


@require_POST
@login_required
@handles_refusals
def assign(request: HttpRequest, code: str) -> HttpResponse:
    scope, org = _editable(request, code)
    try:
        services.policy_assign(
            actor=request.user,
            scope=scope,
            org=org,
            pack_name=request.POST.get("pack_name", ""),
            note=request.POST.get("note", ""),
        )
    except NotPermitted:
        raise
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已更改使用的制度包")
    return redirect("compliance:detail", code=org.code)


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year") or request.POST.get("year") or ""
    if raw.isdigit() and 1900 <= int(raw) <= 2200:
        return int(raw)
    return timezone.localdate().year


@login_required
@handles_refusals
def board(request: HttpRequest, code: str) -> HttpResponse:
    scope = request.scope  # type: ignore[attr-defined]
    states = tuple(s for s in request.GET.getlist("state") if s in STATES)
    filters = selectors.FindingFilters(states=states, rule=request.GET.get("rule", "").strip()[:100])
    page = selectors.board_page(scope, code, year=_year(request), filters=filters)
    return render(
        request,
        "compliance/board.html",
        {"page": page, "org": page.org, "states": STATES, "state_order": selectors.STATE_ORDER},
    )


@require_POST
@login_required
@handles_refusals
def board_run(request: HttpRequest, code: str) -> HttpResponse:
    scope = request.scope  # type: ignore[attr-defined]
    org = org_get_visible(scope, code)
    if not scope.can_manage_org(org):
        raise NotPermitted("您无权对此党组织运行检查")
    year = _year(request)
    try:
        run = services.evaluation_run(actor=request.user, scope=scope, org=org, year=year)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已完成检查：{sum(run.counts.values())} 条结果")
    return redirect(f"{reverse('compliance:board', args=[org.code])}?year={year}")


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    scope = request.scope  # type: ignore[attr-defined]
    page = selectors.obligations_of(scope, year=_year(request))
    return render(request, "compliance/mine.html", {"page": page, "states": STATES})
