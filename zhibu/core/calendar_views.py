"""Calendar pages: a year of working days (everyone logged in), its administration, schools' semesters."""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from zhibu.core import calendar_services as services
from zhibu.core.calendar import (
    WEEKDAY_NAMES,
    DayKind,
    DaySource,
    WorkdayCalendar,
    school_of,
    school_year_of,
    semesters_for,
)
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.views import form_add_service_errors, handles_refusals

# Years a page may show; outside them a year is a typo, not a question.
PAGE_YEARS = (1990, 2100)


class DateInput(forms.DateInput):
    """A date picker; its value must be ISO whatever the locale's date format."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class DayForm(forms.Form):
    date = forms.DateField(label="日期", widget=DateInput)
    action = forms.ChoiceField(
        label="设为",
        choices=[("holiday", "放假"), ("workday", "上班（调休）"), ("clear", "清除单日调整")],
        initial="holiday",
    )
    name = forms.CharField(label="名称", max_length=40, required=False, help_text="如 春节、调休上班；可不填")
    note = forms.CharField(label="说明", max_length=200, required=False)


class LoadForm(forms.Form):
    year = forms.IntegerField(label="年份", min_value=services.MIN_YEAR, max_value=services.MAX_YEAR)
    file = forms.FileField(label="放假安排文件", help_text="YAML 或 CSV，格式见下")


class SemestersForm(forms.Form):
    autumn_starts_on = forms.DateField(label="秋季学期开始", widget=DateInput)
    autumn_ends_on = forms.DateField(label="秋季学期结束", widget=DateInput)
    spring_starts_on = forms.DateField(label="春季学期开始", widget=DateInput)
    spring_ends_on = forms.DateField(label="春季学期结束", widget=DateInput)


# The year page -----------------------------------------------------------------------------------------


@login_required
@require_GET
def calendar_today(request: HttpRequest) -> HttpResponse:
    return _render_year(request, timezone.localdate().year)


@login_required
@require_GET
@handles_refusals
def calendar_year(request: HttpRequest, year: int) -> HttpResponse:
    return _render_year(request, year)


def _render_year(
    request: HttpRequest,
    year: int,
    *,
    day_form: DayForm | None = None,
    load_form: LoadForm | None = None,
    status: int = 200,
) -> HttpResponse:
    if not PAGE_YEARS[0] <= year <= PAGE_YEARS[1]:
        raise NotFound(f"年份应在 {PAGE_YEARS[0]} 至 {PAGE_YEARS[1]} 之间")
    scope = request.scope  # type: ignore[attr-defined]
    calendar = WorkdayCalendar.load([year])
    days = calendar.year_days(year)
    source = calendar.year_source(year)
    can_change = services.calendar_can_change(scope)
    ctx: dict[str, Any] = {
        "year": year,
        "prev_year": year - 1 if year > PAGE_YEARS[0] else None,
        "next_year": year + 1 if year < PAGE_YEARS[1] else None,
        "estimated": source is DaySource.ESTIMATE,
        "source": source,
        "note": calendar.year_note(year),
        "months": _months(year, {d.date: d for d in days}),
        "weekday_names": WEEKDAY_NAMES,
        "holidays": _holiday_runs(days),
        "makeup_days": [d for d in days if d.kind is DayKind.MAKEUP],
        "overrides": [d for d in days if d.source is DaySource.OVERRIDE],
        "workday_count": sum(d.is_workday for d in days),
        "can_change": can_change,
    }
    if can_change:
        initial_day = _date_or_none(request.GET.get("day", ""))
        ctx["day_form"] = day_form or DayForm(initial={"date": initial_day} if initial_day else None)
        ctx["load_form"] = load_form or LoadForm(initial={"year": year})
    return render(request, "core/calendar.html", ctx, status=status)


def _months(year: int, by_date: dict[dt.date, Any]) -> list[dict[str, Any]]:
    """Twelve month grids: weeks of seven cells from Monday, None outside the month."""
    grid = pycalendar.Calendar(firstweekday=0)
    months = []
    for month in range(1, 13):
        weeks = [
            [by_date[d] if d.month == month else None for d in week]
            for week in grid.monthdatescalendar(year, month)
        ]
        months.append({"month": month, "weeks": weeks})
    return months


def _holiday_runs(days: list[Any]) -> list[dict[str, Any]]:
    """Consecutive named days off, as {first, last, name, count}."""
    runs: list[dict[str, Any]] = []
    for d in days:
        if d.kind is not DayKind.HOLIDAY:
            continue
        last = runs[-1] if runs else None
        if last and last["name"] == d.name and last["last"] + dt.timedelta(days=1) == d.date:
            last["last"] = d.date
            last["count"] += 1
        else:
            runs.append({"first": d.date, "last": d.date, "name": d.name or "放假", "count": 1})
    return runs


def _date_or_none(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


@login_required
@require_POST
@handles_refusals
def calendar_day_change(request: HttpRequest) -> HttpResponse:
    scope = request.scope  # type: ignore[attr-defined]
    services.calendar_check_can_change(scope)
    form = DayForm(request.POST)
    year = timezone.localdate().year
    if form.is_valid():
        data = form.cleaned_data
        year = data["date"].year
        try:
            if data["action"] == "clear":
                services.calendar_day_clear(actor=request.user, scope=scope, date=data["date"])
                messages.success(request, f"已清除 {data['date']:%Y-%m-%d} 的单日调整")
            else:
                day = services.calendar_day_set(
                    actor=request.user,
                    scope=scope,
                    date=data["date"],
                    is_workday=data["action"] == "workday",
                    name=data["name"],
                    note=data["note"],
                )
                label = "上班" if day.is_workday else "放假"
                messages.success(request, f"已把 {day.date:%Y-%m-%d} 设为{label}（{day.name}）")
        except ServiceError as exc:
            form_add_service_errors(form, exc)
        else:
            return redirect("core:calendar_year", year=year)
    if not PAGE_YEARS[0] <= year <= PAGE_YEARS[1]:
        year = timezone.localdate().year
    return _render_year(request, year, day_form=form, status=400)


@login_required
@require_POST
@handles_refusals
def calendar_load(request: HttpRequest) -> HttpResponse:
    scope = request.scope  # type: ignore[attr-defined]
    services.calendar_check_can_change(scope)
    form = LoadForm(request.POST, request.FILES)
    year = timezone.localdate().year
    if form.is_valid():
        year = form.cleaned_data["year"]
        upload = form.cleaned_data["file"]
        if upload.size is not None and upload.size > min(
            services.MAX_FILE_BYTES, settings.ZHIBU_MAX_UPLOAD_BYTES
        ):
            form.add_error("file", f"文件过大：放假安排文件不应超过 {services.MAX_FILE_BYTES // 1024} KB")
        else:
            try:
                cy = services.calendar_year_load_file(
                    actor=request.user,
                    scope=scope,
                    content=upload.read(),
                    filename=upload.name or "",
                    year=year,
                )
            except ServiceError as exc:
                for message in exc.errors.get("file", [exc.message]):
                    form.add_error("file", message)
            else:
                messages.success(request, f"已载入 {cy.year} 年放假安排")
                return redirect("core:calendar_year", year=cy.year)
    if not PAGE_YEARS[0] <= year <= PAGE_YEARS[1]:
        year = timezone.localdate().year
    return _render_year(request, year, load_form=form, status=400)


# Semesters -------------------------------------------------------------------------------------------


@login_required
@handles_refusals
def semesters_page(request: HttpRequest, code: str) -> HttpResponse:
    from zhibu.orgs.selectors import org_get_visible

    scope = request.scope  # type: ignore[attr-defined]
    org = org_get_visible(scope, code)
    school = school_of(org)
    if school is None:
        raise NotFound(f"“{org.name}”不属于任何学校，没有学期")
    if school.pk != org.pk and scope.can_view_path(school.path):
        return redirect("core:semesters", code=school.code)
    # Otherwise (a branch's own people) the school's semesters show under the org they may see.
    current = school_year_of(timezone.localdate())
    school_year = _int_or(request.POST.get("school_year") or request.GET.get("year"), current)
    if not services.MIN_YEAR <= school_year <= services.MAX_YEAR:
        raise NotFound("学年超出范围")
    can_manage = scope.can_manage_org(school)
    form = None
    status = 200
    if request.method == "POST":
        if not can_manage:
            raise NotPermitted(f"您无权设置“{school.name}”的学期")
        form = SemestersForm(request.POST)
        if form.is_valid():
            try:
                services.semesters_set(
                    actor=request.user,
                    scope=scope,
                    school=school,
                    school_year=school_year,
                    **form.cleaned_data,
                )
            except ServiceError as exc:
                form_add_service_errors(form, exc)
            else:
                messages.success(request, f"已保存 {school_year}–{school_year + 1} 学年的学期")
                return redirect(f"{request.path}?year={school_year}")
        status = 400
    chosen = semesters_for(school, school_year)
    if can_manage and form is None:
        form = SemestersForm(
            initial={
                "autumn_starts_on": chosen.autumn.starts_on,
                "autumn_ends_on": chosen.autumn.ends_on,
                "spring_starts_on": chosen.spring.starts_on,
                "spring_ends_on": chosen.spring.ends_on,
            }
        )
    years = [semesters_for(school, y) for y in range(current - 1, current + 2)]
    return render(
        request,
        "core/semesters.html",
        {
            "school": school,
            "chosen": chosen,
            "years": years,
            "form": form,
            "can_manage": can_manage,
            "can_view_school": scope.can_view_path(school.path),
        },
        status=status,
    )


def _int_or(text: str | None, default: int) -> int:
    try:
        return int(text or "")
    except ValueError:
        return default
