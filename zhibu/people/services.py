"""Every write to Person and StatusChange goes through here: validated, atomic, audited."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from zhibu.core import idcard
from zhibu.core.audit import audit_record, diff, snapshot
from zhibu.core.crypto import digest
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.scoping import Scope
from zhibu.orgs.models import Organization, OrgKind
from zhibu.people import pinyin
from zhibu.people.models import Education, Employment, Gender, Person, Status, StatusChange
from zhibu.people.status import DATE_FIELD_FOR, INITIAL_STATUSES, is_allowed

# The fields a registry keeps and a person's page edits (status changes go through person_change_status).
EDITABLE_FIELDS: tuple[str, ...] = (
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "education",
    "id_number",
    "phone",
    "position",
    "backbone_teacher",
    "employment",
    "org",
    "group",
    "relationship_transferred_in",
    "in_need",
    "in_need_note",
    "volunteer",
    "volunteer_skills",
    "applied_on",
    "activist_on",
    "candidate_on",
    "joined_on",
    "confirmed_on",
    "note",
)
DATE_FIELDS = ("birth_date", "applied_on", "activist_on", "candidate_on", "joined_on", "confirmed_on")
BOOL_FIELDS = ("backbone_teacher", "relationship_transferred_in", "in_need", "volunteer")
# Key dates in the order they happen.
STAGE_DATES = ("applied_on", "activist_on", "candidate_on", "joined_on", "confirmed_on")
_PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")
_MAX_LEN = {"name": 50, "ethnicity": 20, "position": 100, "in_need_note": 300, "volunteer_skills": 200}


def label(field: str) -> str:
    """The Chinese label of a Person field."""
    return str(getattr(Person._meta.get_field(field), "verbose_name", field))


def validate_person_data(
    data: Mapping[str, Any], *, scope: Scope, today: dt.date, instance: Person | None = None
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Check and normalise a person's fields; returns (clean values, errors by field).

    `data` holds typed values (dates as date, booleans as bool, org and group as Organization).
    Duplicates against the database are checked by the ID number's digest.
    """
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}

    def err(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for key in data:
        if key not in EDITABLE_FIELDS:
            err(key, f"未知字段：{key}")
    merged: dict[str, Any] = {f: getattr(instance, f) for f in EDITABLE_FIELDS} if instance else {}
    merged.update({k: v for k, v in data.items() if k in EDITABLE_FIELDS})

    name = str(merged.get("name") or "").strip()
    if not name:
        err("name", "姓名不能为空")
    clean["name"] = name
    for field, limit in _MAX_LEN.items():
        value = str(merged.get(field) or "").strip()
        if len(value) > limit:
            err(field, f"{label(field)}不能超过 {limit} 个字")
        if field != "name":
            clean[field] = value
    clean["ethnicity"] = clean["ethnicity"] or "汉族"
    clean["note"] = str(merged.get("note") or "").strip()

    for field, choices in (("gender", Gender), ("education", Education), ("employment", Employment)):
        choice = merged.get(field) or ""
        if choice and choice not in choices.values:
            err(field, f"{label(field)}“{choice}”不是可选值（{'、'.join(str(c) for c in choices.labels)}）")
        clean[field] = choice
    clean["employment"] = clean["employment"] or Employment.IN_SERVICE

    for field in BOOL_FIELDS:
        flag = merged.get(field)
        clean[field] = bool(flag) if flag is not None else field == "relationship_transferred_in"

    for field in DATE_FIELDS:
        when = merged.get(field)
        if when in (None, ""):
            clean[field] = None
            continue
        if not isinstance(when, dt.date):
            err(field, f"{label(field)}不是有效日期")
            continue
        if when > today:
            err(field, f"{label(field)} {when:%Y-%m-%d} 晚于今天")
        elif when.year < 1900:
            err(field, f"{label(field)} {when:%Y-%m-%d} 早于1900年")
        clean[field] = when

    id_number = idcard.normalise(str(merged.get("id_number") or ""))
    clean["id_number"] = id_number
    clean["id_number_digest"] = None
    if id_number:
        problem = idcard.validate(id_number)
        if problem:
            err("id_number", problem)
        else:
            clean["id_number_digest"] = digest(id_number)
            born = idcard.birth_date(id_number)
            if clean.get("birth_date") and clean["birth_date"] != born:
                err("birth_date", f"出生日期与身份证号不符（身份证号为 {born:%Y-%m-%d}）")
            clean["birth_date"] = clean.get("birth_date") or born
            if clean["gender"] and clean["gender"] != idcard.gender(id_number):
                err("gender", "性别与身份证号不符")
            clean["gender"] = clean["gender"] or idcard.gender(id_number)
            clash = Person.objects.filter(id_number_digest=clean["id_number_digest"])
            if instance is not None:
                clash = clash.exclude(pk=instance.pk)
            if clash.exists():
                err("id_number", "该身份证号已登记在系统中（可能是另一支部的人员，请核对）")
    if not clean["gender"] and "gender" not in errors:
        err("gender", "请填写性别（或填写身份证号）")

    phone = re.sub(r"\s", "", str(merged.get("phone") or ""))
    if phone and not _PHONE.match(phone):
        err("phone", "手机号应为11位数字（座机可写作 010-12345678）")
    clean["phone"] = phone

    last: tuple[str, dt.date] | None = None
    for field in STAGE_DATES:
        stage_date = clean.get(field)
        if stage_date is None:
            continue
        if last and stage_date < last[1]:
            err(field, f"{label(field)}不能早于{label(last[0])}（{last[1]:%Y-%m-%d}）")
        last = (field, stage_date)
    if clean.get("birth_date") and clean.get("applied_on") and clean["applied_on"] < clean["birth_date"]:
        err("applied_on", "递交入党申请日期早于出生日期")

    org = merged.get("org")
    group = merged.get("group")
    if not isinstance(org, Organization):
        err("org", "请选择所在支部")
    elif org.kind != OrgKind.BRANCH:
        err("org", f"“{org.name}”不是党支部，人员须编入党支部")
    elif org.dissolved_on is not None:
        err("org", f"“{org.name}”已撤销")
    elif not scope.can_manage_org(org):
        err("org", f"您无权管理“{org.name}”的人员")
    clean["org"] = org
    if group is not None and group != "":
        if not isinstance(group, Organization) or group.kind != OrgKind.GROUP:
            err("group", "所在党小组无效")
        elif isinstance(org, Organization) and group.parent_id != org.pk:
            err("group", f"党小组“{group.name}”不属于“{org.name if isinstance(org, Organization) else ''}”")
        clean["group"] = group
    else:
        clean["group"] = None
    return clean, errors


def _apply(person: Person, clean: Mapping[str, Any]) -> None:
    for field, value in clean.items():
        setattr(person, field, value)
    person.name_pinyin = pinyin.full_pinyin(person.name)
    person.name_initials = pinyin.initials(person.name)


def person_build(clean: Mapping[str, Any], *, status: str) -> Person:
    """An unsaved Person from validated values (for bulk writers such as the import and the demo)."""
    person = Person(status=status)
    _apply(person, clean)
    return person


@transaction.atomic
def person_create(
    *,
    actor: Any,
    scope: Scope,
    data: Mapping[str, Any],
    status: str,
    reason: str = "建立档案",
    today: dt.date | None = None,
) -> Person:
    """Register a person in a branch, in an initial status, with the first StatusChange."""
    today = today or dt.date.today()
    clean, errors = validate_person_data(data, scope=scope, today=today)
    if status not in INITIAL_STATUSES:
        errors.setdefault("status", []).append(
            f"新建人员的身份只能是：{'、'.join(str(Status(s).label) for s in INITIAL_STATUSES)}"
        )
    if errors:
        raise ServiceError(_summary(errors), errors=errors)
    person = person_build(clean, status=status)
    person.save()
    StatusChange.objects.create(
        person=person,
        from_status="",
        to_status=status,
        reason=reason,
        effective_on=_initial_effective_on(person, today),
        recorded_by=_user(actor),
    )
    audit_record(
        actor=actor,
        action="create",
        obj=person,
        org_path=person.org.path,
        changes={k: [None, v] for k, v in snapshot(person).items() if v not in (None, "", False)},
    )
    return person


@transaction.atomic
def person_update(
    *, actor: Any, scope: Scope, person: Person, data: Mapping[str, Any], today: dt.date | None = None
) -> Person:
    """Change registry fields; the status is changed only by person_change_status."""
    if not scope.can_manage_person(person):
        raise NotPermitted("您无权修改此人员的信息")
    person = Person.objects.select_for_update().select_related("org").get(pk=person.pk)
    before = snapshot(person)
    clean, errors = validate_person_data(data, scope=scope, today=today or dt.date.today(), instance=person)
    if errors:
        raise ServiceError(_summary(errors), errors=errors)
    _apply(person, clean)
    changes = diff(before, snapshot(person))
    if changes:
        person.save()
        audit_record(actor=actor, action="update", obj=person, org_path=person.org.path, changes=changes)
    return person


@transaction.atomic
def person_change_status(
    *,
    actor: Any,
    scope: Scope,
    person: Person,
    to_status: str,
    effective_on: dt.date,
    reason: str,
    today: dt.date | None = None,
) -> StatusChange:
    """Move a person to a new status if the transition table allows it, and write the dated change."""
    today = today or dt.date.today()
    if not scope.can_manage_person(person):
        raise NotPermitted("您无权变更此人员的身份")
    person = Person.objects.select_for_update().select_related("org").get(pk=person.pk)
    if to_status not in Status.values:
        raise ServiceError(f"未知身份：{to_status}", field="to_status")
    current, target = Status(person.status), Status(to_status)
    if not is_allowed(current, target):
        raise ServiceError(f"不能从“{current.label}”直接变更为“{target.label}”", field="to_status")
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("请填写变更原因或依据（如会议决议、批复文号）", field="reason")
    if len(reason) > 300:
        raise ServiceError("变更原因不能超过300字", field="reason")
    if effective_on > today:
        raise ServiceError(f"生效日期 {effective_on:%Y-%m-%d} 晚于今天", field="effective_on")
    previous = person.status_changes.order_by("-effective_on", "-id").first()
    if previous and effective_on < previous.effective_on:
        raise ServiceError(
            f"生效日期不能早于上一次身份变更（{previous.effective_on:%Y-%m-%d}）", field="effective_on"
        )
    before = snapshot(person)
    person.status = target
    date_field = DATE_FIELD_FOR.get(target)
    if date_field and getattr(person, date_field) is None:
        setattr(person, date_field, effective_on)
    person.save()
    change = StatusChange.objects.create(
        person=person,
        from_status=current,
        to_status=target,
        effective_on=effective_on,
        reason=reason,
        recorded_by=_user(actor),
    )
    audit_record(
        actor=actor,
        action="status",
        obj=person,
        org_path=person.org.path,
        changes=diff(before, snapshot(person)),
        note=reason,
    )
    return change


def person_reveal_id(*, actor: Any, scope: Scope, person: Person) -> str:
    """The full ID number, for those who hold the permission; every reveal is audited."""
    if not scope.can_view_person(person):
        raise NotFound("人员不存在")
    if not (scope.can_reveal_id and scope.can_manage_person(person)):
        raise NotPermitted("您没有查看完整身份证号的权限")
    audit_record(actor=actor, action="reveal", obj=person, org_path=person.org.path, note="查看完整身份证号")
    return person.id_number


def _initial_effective_on(person: Person, today: dt.date) -> dt.date:
    date_field = DATE_FIELD_FOR.get(person.status)
    value = getattr(person, date_field) if date_field else None
    return value or today


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _summary(errors: Mapping[str, list[str]]) -> str:
    parts = []
    for field, messages in errors.items():
        try:
            name = label(field)
        except Exception:
            name = {"status": "身份"}.get(field, field)
        parts.append(f"{name}：{'；'.join(messages)}")
    return "；".join(parts)
