"""Every write of the development pipeline: open a case, record a step, correct it, attach documents, vote.

Each service checks the rules before it writes and refuses with the reason (ServiceError, in Chinese):
the step's prerequisites (`requires`), the order of dates, the minimum intervals (`not_before`), the hard
deadlines (`due.max`), and what each step asks (age, mentors, sponsors, training, publicity, the vote).
The numbers come from the org's effective policy. A refusal writes nothing (one transaction). A deadline
passed without a hard limit is not refused — the step happened and is recorded; the findings say it was
late. Every write is audited; nothing is deleted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from zhibu.compliance.packs import EffectivePolicy, effective_policy
from zhibu.compliance.values import Duration, Fraction, Range, add_months
from zhibu.core.audit import audit_record, diff, snapshot
from zhibu.core.calendar import WorkdayCalendar
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.scoping import Scope
from zhibu.core.uploads import DOCX, JPEG, PDF, PNG, check_upload
from zhibu.development import timeline as tl
from zhibu.development.models import (
    BranchVote,
    CaseRole,
    CaseRoleKind,
    CaseState,
    DevelopmentCase,
    DevelopmentPlan,
    DevelopmentStep,
    Stage,
    StepDocument,
    VotePurpose,
)
from zhibu.development.steps import Development, StepDef
from zhibu.orgs.models import Organization, OrgKind
from zhibu.people.models import Person, Status
from zhibu.people.services import person_change_status

RECOMMENDATION_METHODS = {"party": "党员推荐", "league": "团组织推优", "union": "工会推荐"}
CONFIRMATION_DECISIONS = {"confirm": "按期转正", "extend": "延长预备期", "cancel": "取消预备党员资格"}
# Documents accepted as evidence: PDF, images and Word files, recognised by their content.
_ACCEPTED = (PDF, JPEG, PNG, DOCX)
# Steps that change a person's status or the case's dates: their date and content are fixed once recorded
# (a wrong one is corrected by the upper committee's procedure, not by editing); notes and documents may
# still be added.
_FIXED_STEPS = (
    "application",
    "activist_designation",
    "candidate_designation",
    "reception_vote",
    "approval",
    "confirmation_vote",
    "confirmation_approval",
)


@dataclass(frozen=True)
class Upload:
    """A document to keep with a step: its category (a code of the step's documents) and the file."""

    kind: str
    file: UploadedFile


@dataclass(frozen=True)
class VoteInput:
    """The assembly's tally. `in_favour` includes the written opinions in favour of absent voters."""

    present: int
    in_favour: int
    against: int = 0
    abstain: int = 0
    written_opinions: int = 0
    secret_ballot: bool = True
    excluded: Mapping[int, str] | None = None  # person id → why not counted as 应到会


# Helpers ----------------------------------------------------------------------------------------------


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _d(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def full_years(born: dt.date, on: dt.date) -> int:
    """Age in full years (周岁) on a date."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _policy(case: DevelopmentCase) -> EffectivePolicy:
    return effective_policy(case.person.org)


def _steps(policy: EffectivePolicy) -> Development:
    try:
        return policy.development
    except LookupError as exc:
        raise ServiceError("制度包没有定义发展党员的步骤，无法记录") from exc


def _calendar_for(*days: dt.date) -> WorkdayCalendar:
    return WorkdayCalendar.load({d.year for d in days} | {d.year + 1 for d in days})


def _check_manage(scope: Scope, person: Person) -> None:
    if not scope.can_view_person(person):
        raise NotFound("发展党员流程不存在或不在您的权限范围内")
    if not scope.can_manage_person(person):
        raise NotPermitted("您无权办理此人的发展党员工作")


def _check_date(day: dt.date, today: dt.date, field: str = "done_on") -> None:
    if day > today:
        raise ServiceError(f"日期 {day:%Y-%m-%d} 晚于今天，不能预先记录", field=field)
    if day.year < 1949:
        raise ServiceError(f"日期 {day:%Y-%m-%d} 不合理", field=field)


def _text(data: Mapping[str, Any], key: str, label: str, *, required: bool, limit: int = 300) -> str:
    value = str(data.get(key) or "").strip()
    if required and not value:
        raise ServiceError(f"请填写{label}", field=key)
    if len(value) > limit:
        raise ServiceError(f"{label}不能超过{limit}字", field=key)
    return value


def _int(
    data: Mapping[str, Any], key: str, label: str, *, minimum: int = 0, default: int | None = None
) -> int:
    raw = data.get(key)
    if raw in (None, "") and default is not None:
        return default
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise ServiceError(f"{label}应为整数", field=key) from None
    if value < minimum:
        raise ServiceError(f"{label}不能小于 {minimum}", field=key)
    if value > 100000:
        raise ServiceError(f"{label}过大", field=key)
    return value


def _date(data: Mapping[str, Any], key: str, label: str) -> dt.date:
    raw = data.get(key)
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw or "").strip())
    except ValueError:
        raise ServiceError(f"请填写{label}（如 2026-09-01）", field=key) from None


# Reading a case ---------------------------------------------------------------------------------------


def case_timeline(case: DevelopmentCase, *, records: Sequence[DevelopmentStep] | None = None) -> tl.Timeline:
    """The case's timeline with its org's numbers (one policy read, and the steps if not given)."""
    dev = _steps(_policy(case))
    if records is None:
        records = list(case.steps.all())
    days = [r.done_on for r in records] or [case.opened_on]
    cal = _calendar_for(*days)
    return tl.build(
        dev,
        records,
        probation_ends_on=case.probation_ends_on,
        add_workdays=lambda d, n: cal.add_workdays(d, n).date,
    )


# Opening a case ---------------------------------------------------------------------------------------


@transaction.atomic
def case_open(
    *,
    actor: Any,
    scope: Scope,
    person: Person,
    applied_on: dt.date,
    league_member: bool = False,
    note: str = "",
    documents: Sequence[Upload] = (),
    today: dt.date | None = None,
) -> DevelopmentCase:
    """Step 1: the written application (递交入党申请书) opens the person's case."""
    today = today or timezone.localdate()
    person = Person.objects.select_for_update().select_related("org").get(pk=person.pk)
    _check_manage(scope, person)
    _check_date(applied_on, today, "applied_on")
    if DevelopmentCase.objects.filter(person=person, state=CaseState.OPEN).exists():
        raise ServiceError(f"{person.name} 已有进行中的发展党员流程", field="person")
    if person.status in (Status.PROBATIONARY, Status.FULL_MEMBER, Status.SUSPENDED):
        raise ServiceError(
            f"{person.name} 已是党员（{person.get_status_display()}），不能再申请入党", field="person"
        )
    if person.status == Status.DECEASED:
        raise ServiceError(f"{person.name} 已去世", field="person")
    policy = _policy(person_case_stub(person, applied_on))
    dev = _steps(policy)
    min_age = policy.value("applicant.min_age")
    if person.birth_date is None:
        raise ServiceError(
            f"请先在人员信息中填写 {person.name} 的出生日期，才能核对申请入党的年龄", field="applied_on"
        )
    age = full_years(person.birth_date, applied_on)
    if min_age is not None and age < min_age:
        raise ServiceError(
            f"{person.name} 递交申请书时（{_d(applied_on)}）为 {age} 周岁，未满 {min_age} 周岁，不能申请入党"
            f"（{dev.step('application').source}）",
            field="applied_on",
        )
    case = DevelopmentCase.objects.create(
        person=person, league_member=league_member, opened_on=applied_on, stage=dev.step("application").stage
    )
    step = DevelopmentStep.objects.create(
        case=case, code="application", done_on=applied_on, note=note.strip(), recorded_by=_user(actor)
    )
    _attach(actor, step, dev.step("application"), documents)
    # Someone imported mid-way (an activist, a candidate) keeps their status while their history is
    # back-filled; anyone else (a new person, one who may apply again) becomes an applicant.
    if person.status not in (Status.APPLICANT, Status.ACTIVIST, Status.CANDIDATE):
        person_change_status(
            actor=actor,
            scope=scope,
            person=person,
            to_status=Status.APPLICANT,
            effective_on=applied_on,
            reason="递交入党申请书",
            today=today,
        )
    audit_record(
        actor=actor,
        action="create",
        obj=case,
        org_path=person.org.path,
        changes={"opened_on": [None, applied_on.isoformat()], "league_member": [None, league_member]},
        note="递交入党申请书",
    )
    return case


def person_case_stub(person: Person, opened_on: dt.date) -> DevelopmentCase:
    """An unsaved case of a person, to read their org's policy before the case exists."""
    return DevelopmentCase(person=person, opened_on=opened_on)


# Recording a step -------------------------------------------------------------------------------------


@transaction.atomic
def step_record(
    *,
    actor: Any,
    scope: Scope,
    case: DevelopmentCase,
    code: str,
    done_on: dt.date,
    data: Mapping[str, Any] | None = None,
    vote: VoteInput | None = None,
    note: str = "",
    documents: Sequence[Upload] = (),
    today: dt.date | None = None,
    meeting_vote: Any = None,
) -> DevelopmentStep:
    """Record one step of a case after checking every rule that applies to it; refuse with the reason.

    `meeting_vote`: the meeting's Vote (zhibu.life) a vote step's tally comes from, kept with the result."""
    today = today or timezone.localdate()
    data = dict(data or {})
    case = DevelopmentCase.objects.select_for_update().select_related("person__org").get(pk=case.pk)
    person = case.person
    _check_manage(scope, person)
    policy = _policy(case)
    dev = _steps(policy)
    if code == "application":
        raise ServiceError("递交入党申请书在新建发展党员流程时记录", field="code")
    if code not in dev.by_code:
        raise ServiceError(f"未知的步骤 {code}", field="code")
    step = dev.step(code)
    if case.state != CaseState.OPEN and not (code == "archiving" and case.state == CaseState.COMPLETED):
        raise ServiceError(f"{person.name} 的发展党员流程已{case.get_state_display()}，不能再记录步骤")
    _check_date(done_on, today)
    if done_on < case.opened_on:
        raise ServiceError(f"日期早于递交入党申请书的日期（{_d(case.opened_on)}）", field="done_on")
    if len(note) > 2000:
        raise ServiceError("备注不能超过2000字", field="note")

    records = list(case.steps.all())
    cal = _calendar_for(done_on, *(r.done_on for r in records))
    timeline = tl.build(
        dev,
        records,
        probation_ends_on=case.probation_ends_on,
        add_workdays=lambda d, n: cal.add_workdays(d, n).date,
    )
    row = timeline.row(code)
    if row.missing:
        names = "、".join(s.label for s in row.missing)
        raise ServiceError(f"须先完成 {names}，才能记录“{step.title}”", field="code")
    if row.done and not step.repeatable:
        raise ServiceError(
            f"“{step.title}”已于{_d(row.records[-1].done_on)}记录；如有错误请更正原记录", field="code"
        )
    _check_order(step, done_on, timeline, dev)
    _check_window(step, done_on, row.window, data)

    outcome, details, effects = _validate(
        step=step,
        case=case,
        person=person,
        policy=policy,
        dev=dev,
        done_on=done_on,
        data=data,
        vote=vote,
        timeline=timeline,
        calendar=cal,
        scope=scope,
    )
    record = DevelopmentStep.objects.create(
        case=case,
        code=code,
        done_on=done_on,
        outcome=outcome,
        details=details,
        note=note.strip(),
        recorded_by=_user(actor),
    )
    for role, people_ in effects.get("roles", {}).items():
        CaseRole.objects.filter(case=case, role=role, ended_on__isnull=True).update(ended_on=done_on)
        CaseRole.objects.bulk_create(
            CaseRole(case=case, role=role, person=p, step=record, assigned_on=done_on) for p in people_
        )
    if "vote" in effects:
        effects["vote"].step = record
        effects["vote"].meeting_vote = meeting_vote
        effects["vote"].save()
    _attach(actor, record, step, documents)

    before = snapshot(case, ["stage", "state", "probation_ends_on", "closed_on", "close_reason"])
    _apply_effects(
        actor=actor,
        scope=scope,
        case=case,
        person=person,
        step=step,
        record=record,
        effects=effects,
        today=today,
    )
    records.append(record)
    case.stage = tl.stage_of(dev, records, case.stage)
    case.save()
    audit_record(
        actor=actor,
        action="create",
        obj=record,
        org_path=person.org.path,
        changes={
            "done_on": [None, done_on.isoformat()],
            "outcome": [None, outcome],
            "details": [None, details],
        },
        note=f"{person.name}：{step.label}",
    )
    after = snapshot(case, ["stage", "state", "probation_ends_on", "closed_on", "close_reason"])
    if after != before:
        audit_record(
            actor=actor, action="update", obj=case, org_path=person.org.path, changes=diff(before, after)
        )
    return record


def _check_order(step: StepDef, done_on: dt.date, timeline: tl.Timeline, dev: Development) -> None:
    """A step is not dated before the steps it requires."""
    for code in step.requires:
        day = timeline.events.get(code)
        if day is not None and done_on < day:
            raise ServiceError(
                f"“{step.title}”的日期（{_d(done_on)}）早于前一步“{dev.step(code).title}”（{_d(day)}），顺序不对",
                field="done_on",
            )


def _check_window(step: StepDef, done_on: dt.date, window: tl.Window, data: Mapping[str, Any]) -> None:
    if window.earliest is not None and done_on < window.earliest:
        raise ServiceError(
            f"“{step.title}”最早只能在{_d(window.earliest)}（{window.earliest_reason}），"
            f"{_d(done_on)}过早（{step.source}）",
            field="done_on",
        )
    if window.hard_latest is not None and done_on > window.hard_latest:
        raise ServiceError(
            f"“{step.title}”最迟应在{_d(window.hard_latest)}前完成（特殊情况的最长期限），"
            f"{_d(done_on)}已超过，应重新履行程序（{step.source}）",
            field="done_on",
        )


def _full_members(ids: Sequence[Any], *, label: str, subject: Person, scope: Scope) -> list[Person]:
    try:
        wanted = [int(i) for i in ids if str(i).strip()]
    except (TypeError, ValueError):
        raise ServiceError(f"{label}应从名单中选择", field=label) from None
    if len(set(wanted)) != len(wanted):
        raise ServiceError(f"{label}不能重复", field=label)
    found = {p.pk: p for p in Person.objects.select_related("org").filter(pk__in=wanted)}
    out = []
    for pk in wanted:
        p = found.get(pk)
        if p is None or not scope.can_view_person(p):
            raise ServiceError(f"{label}中有人员不存在或不在您的权限范围内", field=label)
        if p.pk == subject.pk:
            raise ServiceError(f"{label}不能是本人", field=label)
        if p.status != Status.FULL_MEMBER:
            raise ServiceError(
                f"{p.name} 是{p.get_status_display()}，{label}须为正式党员"
                + ("（预备党员不能作入党介绍人，党章第五条）" if p.status == Status.PROBATIONARY else ""),
                field=label,
            )
        out.append(p)
    return out


def _validate(
    *,
    step: StepDef,
    case: DevelopmentCase,
    person: Person,
    policy: EffectivePolicy,
    dev: Development,
    done_on: dt.date,
    data: dict[str, Any],
    vote: VoteInput | None,
    timeline: tl.Timeline,
    calendar: WorkdayCalendar,
    scope: Scope,
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The step's own rules: returns (outcome, details, effects) or refuses."""
    code = step.code
    outcome = ""
    details: dict[str, Any] = {}
    effects: dict[str, Any] = {}
    value = policy.value

    if code in ("application_talk", "upper_talk"):
        details["talker"] = _text(data, "talker", "谈话人", required=True, limit=100)
    elif code == "activist_designation":
        method = str(data.get("method") or "")
        if method not in RECOMMENDATION_METHODS:
            raise ServiceError("请选择推荐方式（党员推荐、团组织推优或工会推荐）", field="method")
        max_age = value("league_recommendation.max_age")
        if case.league_member and max_age is not None and person.birth_date is not None:
            age = full_years(person.birth_date, done_on)
            if age <= max_age and method != "league":
                raise ServiceError(
                    f"{person.name} 是共青团员，{_d(done_on)}时 {age} 周岁（不超过 {max_age} 周岁），"
                    "应经团组织推优后确定为入党积极分子",
                    field="method",
                )
        details["method"] = method
        effects["status"] = (Status.APPLICANT, Status.ACTIVIST, done_on, "确定为入党积极分子")
    elif code == "mentor_assignment":
        mentors = _full_members(_list(data.get("mentors")), label="培养联系人", subject=person, scope=scope)
        span: Range = value("activist.mentors")
        if (span.min is not None and len(mentors) < span.min) or (
            span.max is not None and len(mentors) > span.max
        ):
            raise ServiceError(
                f"培养联系人应为 {span.min}—{span.max} 名正式党员，实际 {len(mentors)} 名（{step.source}）",
                field="mentors",
            )
        details["mentors"] = [{"id": p.pk, "name": p.name} for p in mentors]
        effects["roles"] = {CaseRoleKind.MENTOR: mentors}
    elif code in ("activist_review", "probation_review"):
        details["conclusion"] = _text(data, "conclusion", "考察意见", required=True, limit=1000)
    elif code == "candidate_designation":
        effects["status"] = (Status.ACTIVIST, Status.CANDIDATE, done_on, "确定为发展对象")
    elif code == "sponsor_assignment":
        sponsors = _full_members(_list(data.get("sponsors")), label="入党介绍人", subject=person, scope=scope)
        need = value("candidate.sponsors")
        if len(sponsors) != need:
            raise ServiceError(
                f"入党介绍人应为 {need} 名正式党员，实际 {len(sponsors)} 名（{step.source}）",
                field="sponsors",
            )
        details["sponsors"] = [{"id": p.pk, "name": p.name} for p in sponsors]
        effects["roles"] = {CaseRoleKind.SPONSOR: sponsors}
    elif code == "political_review":
        outcome = str(data.get("conclusion") or "")
        if outcome not in ("passed", "failed"):
            raise ServiceError("请选择政治审查结论（合格或不合格）", field="conclusion")
        details["summary"] = _text(data, "summary", "审查情况", required=False, limit=1000)
    elif code == "training":
        started = _date(data, "started_on", "培训开始日期")
        if started > done_on:
            raise ServiceError("培训开始日期晚于结束日期", field="started_on")
        days = _int(data, "days", "培训天数", default=0)
        hours = _int(data, "hours", "培训学时", default=0)
        min_days, min_hours = value("candidate.training_min.days"), value("candidate.training_min.hours")
        if (min_days is None or days < min_days) and (min_hours is None or hours < min_hours):
            raise ServiceError(
                f"集中培训 {days} 天、{hours} 学时，不足 {min_days} 天或 {min_hours} 学时"
                f"（二者满足其一即可，{step.source}）",
                field="days",
            )
        details.update(
            started_on=started.isoformat(),
            days=days,
            hours=hours,
            provider=_text(data, "provider", "培训单位", required=False, limit=100),
        )
    elif code == "committee_review":
        _check_political_review(timeline, policy, done_on)
    elif code == "publicity":
        details = _publicity(data, done_on, timeline, policy, calendar)
    elif code == "pre_review":
        if data.get("leaving_soon"):
            window: Duration = value("pre_review.leaving_window")
            raise ServiceError(
                f"发展对象将在 {window}内离开本单位的，不能接收为预备党员（{step.source}）",
                field="leaving_soon",
            )
        outcome = "passed"
    elif code == "reception_vote":
        _check_political_review(timeline, policy, done_on)
        effects["vote"], passed = _vote(
            case=case, person=person, policy=policy, purpose=VotePurpose.RECEPTION, held_on=done_on, vote=vote
        )
        outcome = "passed" if passed else "not_passed"
    elif code == "approval":
        due = timeline.row(code).window.latest
        reason = _text(data, "late_reason", "超过审批期限的原因", required=False, limit=300)
        if due is not None and done_on > due:
            if not reason:
                raise ServiceError(
                    f"审批日期（{_d(done_on)}）超过了支部大会后 {value('approval.within')}"
                    f"的期限（{_d(due)}），"
                    "特殊情况须写明原因",
                    field="late_reason",
                )
            details["late_reason"] = reason
        outcome = "approved"
        held_on = timeline.events["reception_vote"]
        length: Duration = value("probation.length")
        effects["probation_ends_on"] = length.shift(held_on)
        effects["status"] = (Status.CANDIDATE, Status.PROBATIONARY, held_on, "上级党委批准接收为预备党员")
    elif code == "branch_assignment":
        group_id = data.get("group_id") or None
        if group_id:
            group = Organization.objects.filter(
                pk=group_id, kind=OrgKind.GROUP, parent_id=person.org_id
            ).first()
            if group is None:
                raise ServiceError("党小组应是本支部的党小组", field="group_id")
            details["group_id"] = group.pk
            details["group_name"] = group.name
    elif code == "confirmation_vote":
        decision = str(data.get("decision") or "")
        if decision not in CONFIRMATION_DECISIONS:
            raise ServiceError("请选择表决事项：按期转正、延长预备期或取消预备党员资格", field="decision")
        if decision == "extend":
            months = _int(data, "extension_months", "延长的月数", minimum=1)
            low, high = value("probation_extension.min"), value("probation_extension.max")
            end = case.probation_ends_on or done_on
            if add_months(end, months) < low.shift(end) or add_months(end, months) > high.shift(end):
                raise ServiceError(
                    f"延长预备期应不少于 {low}、不超过 {high}，填写的是 {months} 个月（{step.source}）",
                    field="extension_months",
                )
            times = value("probation_extension.times")
            done_before = sum(
                1
                for r in case.steps.all()
                if r.code == "confirmation_approval" and (r.details or {}).get("decision") == "extend"
            )
            if times is not None and done_before >= times:
                raise ServiceError(
                    f"预备期只能延长 {times} 次，已经延长过（{step.source}）", field="decision"
                )
            details["extension_months"] = months
        details["decision"] = decision
        effects["vote"], passed = _vote(
            case=case,
            person=person,
            policy=policy,
            purpose=VotePurpose.CONFIRMATION,
            held_on=done_on,
            vote=vote,
        )
        outcome = decision if passed else "not_passed"
    elif code == "confirmation_approval":
        counted = timeline.counted["confirmation_vote"]
        decision = counted[-1].outcome
        details["decision"] = decision
        outcome = "approved"
        if decision == "confirm":
            ends = case.probation_ends_on
            if ends is None:
                raise ServiceError("预备期满日期未知，不能批准转正")
            effects["status"] = (
                Status.PROBATIONARY,
                Status.FULL_MEMBER,
                ends,
                "预备期满，上级党委批准按期转正",
            )
            effects["close"] = (CaseState.COMPLETED, "转正")
        elif decision == "extend":
            months = int(counted[-1].details.get("extension_months") or 0)
            effects["probation_ends_on"] = add_months(case.probation_ends_on or done_on, months)
        else:
            effects["status"] = (
                Status.PROBATIONARY,
                Status.PROBATION_CANCELLED,
                done_on,
                "上级党委批准取消预备党员资格",
            )
            effects["close"] = (CaseState.CANCELLED, "取消预备党员资格")
    return outcome, details, effects


def _list(raw: Any) -> list[Any]:
    if raw is None or raw == "":
        return []
    if isinstance(raw, list | tuple):
        return list(raw)
    return [raw]


def _check_political_review(timeline: tl.Timeline, policy: EffectivePolicy, on: dt.date) -> None:
    records = timeline.row("political_review").records
    passed = [r for r in records if r.outcome == "passed"]
    if not passed:
        raise ServiceError(
            "政治审查不合格或尚未完成的，不能发展入党（发展党员工作细则第十六条）", field="code"
        )
    valid_for: Duration | None = policy.value("political_review.valid_for")
    if valid_for is not None:
        until = valid_for.shift(passed[-1].done_on)
        if on > until:
            raise ServiceError(
                f"政治审查结论（{_d(passed[-1].done_on)}）有效期 {valid_for}，"
                f"到{_d(until)}已过期，应重新审查",
                field="done_on",
            )


def _publicity(
    data: Mapping[str, Any],
    done_on: dt.date,
    timeline: tl.Timeline,
    policy: EffectivePolicy,
    calendar: WorkdayCalendar,
) -> dict[str, Any]:
    starts = _date(data, "starts_on", "公示开始日期")
    ends = done_on
    if starts > ends:
        raise ServiceError("公示开始日期晚于结束日期", field="starts_on")
    reviewed = timeline.events.get("committee_review")
    if reviewed and starts < reviewed:
        raise ServiceError(f"公示开始日期早于支部委员会审查（{_d(reviewed)}）", field="starts_on")
    unknown = sorted({d.year for d in (starts, ends) if calendar.year_is_estimated(d.year)})
    if unknown:
        years = "、".join(str(y) for y in unknown)
        raise ServiceError(
            f"{years}年的节假日安排尚未录入，无法按工作日核对公示期；请管理员在“工作日历”中录入后再记录",
            field="starts_on",
        )
    end_day = calendar.day(ends)
    if not end_day.is_workday:
        raise ServiceError(
            f"公示结束日 {_d(ends)} 是{end_day.name or '休息日'}，不是工作日；"
            "公示期应按工作日计算，请核对结束日期",
            field="done_on",
        )
    need: Duration | None = policy.value("publicity.workdays")
    count = calendar.workdays_between(starts - dt.timedelta(days=1), ends).days
    if need is not None:
        n = need.n if need.is_workdays else None
        if n is not None and count < n:
            last = calendar.span_last_day(starts, n).date
            raise ServiceError(
                f"公示期 {_d(starts)} 至 {_d(ends)} 只有 {count} 个工作日，少于 {need}；"
                f"从{_d(starts)}起公示应至少到{_d(last)}",
                field="done_on",
            )
        if not need.is_workdays and ends < need.shift(starts) - dt.timedelta(days=1):
            raise ServiceError(f"公示期不足 {need}", field="done_on")
    objections = bool(data.get("objections"))
    return {
        "starts_on": starts.isoformat(),
        "ends_on": ends.isoformat(),
        "workdays": count,
        "objections": objections,
    }


# Votes ------------------------------------------------------------------------------------------------


def entitled_voters(person: Person, on: dt.date) -> list[Person]:
    """The branch's full members on the meeting date: those who are full members now and were so then
    (confirmed on or before it). Probationary members attend without a vote; suspended members and others
    are not full members and do not vote."""
    qs = Person.objects.filter(org_id=person.org_id, status=Status.FULL_MEMBER).exclude(pk=person.pk)
    return [p for p in qs.order_by("name_pinyin", "id") if p.confirmed_on is None or p.confirmed_on <= on]


def tally(
    *,
    entitled: int,
    vote: VoteInput,
    quorum: Fraction,
    majority: Fraction,
    what: str,
    voters: str = "有表决权的正式党员",
) -> tuple[bool, str]:
    """Check a tally and say whether it passes: refuses impossible counts; quorum not met → refused.
    `voters` names those entitled in the explanation (a committee's vote counts its 委员)."""
    if entitled <= 0:
        raise ServiceError(f"没有{voters}，不能表决", field="present")
    if vote.present > entitled:
        raise ServiceError(f"实到会 {vote.present} 人多于应到会有表决权的 {entitled} 人", field="present")
    if vote.written_opinions > entitled - vote.present:
        raise ServiceError(
            f"书面意见 {vote.written_opinions} 份多于未到会的有表决权党员 {entitled - vote.present} 人",
            field="written_opinions",
        )
    ballots = vote.in_favour + vote.against + vote.abstain
    if ballots > vote.present + vote.written_opinions:
        raise ServiceError(
            f"赞成、反对、弃权合计 {ballots} 票，"
            f"多于到会人数与书面意见之和 {vote.present + vote.written_opinions}",
            field="in_favour",
        )
    parts = [f"应到会{voters} {entitled} 人，实到会 {vote.present} 人"]
    if not quorum.reached(vote.present, entitled):
        why = (
            f"恰为{quorum.words}，未超过{quorum.words}（“超过”不含本数）"
            if quorum.at_boundary(vote.present, entitled)
            else f"至少需 {quorum.least(entitled)} 人"
        )
        raise ServiceError(f"{what}：{parts[0]}，{why}，到会人数不足，会议不能进行表决", field="present")
    parts[0] += f"，超过应到会的{quorum.words}" if quorum.strict else f"，达到应到会的{quorum.words}"
    if vote.written_opinions:
        parts.append(f"未到会党员书面意见 {vote.written_opinions} 份已计入")
    head = f"赞成 {vote.in_favour} 票、反对 {vote.against} 票、弃权 {vote.abstain} 票"
    if majority.reached(vote.in_favour, entitled):
        parts.append(f"{head}，赞成票超过应到会{voters}的{majority.words}，通过")
        return True, "；".join(parts)
    if majority.at_boundary(vote.in_favour, entitled):
        parts.append(
            f"{head}，赞成票恰为应到会 {entitled} 人的{majority.words}，"
            f"未超过{majority.words}（“超过”不含本数），未通过"
        )
    else:
        parts.append(
            f"{head}，赞成票未超过应到会 {entitled} 人的{majority.words}"
            f"（至少需 {majority.least(entitled)} 票；"
            "以应到会人数为基数，不是实到会人数），未通过"
        )
    return False, "；".join(parts)


def _vote(
    *,
    case: DevelopmentCase,
    person: Person,
    policy: EffectivePolicy,
    purpose: str,
    held_on: dt.date,
    vote: VoteInput | None,
) -> tuple[BranchVote, bool]:
    if vote is None:
        raise ServiceError("请填写表决结果（到会人数、赞成、反对、弃权）", field="present")
    prefix = "reception_vote" if purpose == VotePurpose.RECEPTION else "confirmation_vote"
    voters = entitled_voters(person, held_on)
    excluded_reasons = dict(vote.excluded or {})
    by_id = {p.pk: p for p in voters}
    excluded = []
    for pk, reason in excluded_reasons.items():
        if pk not in by_id:
            raise ServiceError("不计入应到会的党员应是本支部有表决权的正式党员", field="excluded")
        reason = (reason or "").strip()
        if not reason:
            raise ServiceError(f"请写明 {by_id[pk].name} 不计入应到会的原因", field="excluded")
        excluded.append({"id": pk, "name": by_id[pk].name, "reason": reason[:200]})
    counted = [p for p in voters if p.pk not in excluded_reasons]
    label = VotePurpose(purpose).label
    passed, explanation = tally(
        entitled=len(counted),
        vote=vote,
        quorum=policy.value(f"{prefix}.quorum"),
        majority=policy.value(f"{prefix}.pass"),
        what=f"支部大会{label}表决",
    )
    row = BranchVote(
        purpose=purpose,
        held_on=held_on,
        entitled=[{"id": p.pk, "name": p.name} for p in counted],
        excluded=excluded,
        entitled_count=len(counted),
        present=vote.present,
        written_opinions=vote.written_opinions,
        in_favour=vote.in_favour,
        against=vote.against,
        abstain=vote.abstain,
        secret_ballot=vote.secret_ballot,
        passed=passed,
        explanation=explanation,
    )
    return row, passed


# Effects ----------------------------------------------------------------------------------------------


def _apply_effects(
    *,
    actor: Any,
    scope: Scope,
    case: DevelopmentCase,
    person: Person,
    step: StepDef,
    record: DevelopmentStep,
    effects: dict[str, Any],
    today: dt.date,
) -> None:
    if "probation_ends_on" in effects:
        case.probation_ends_on = effects["probation_ends_on"]
    if "status" in effects:
        from_status, to_status, effective_on, reason = effects["status"]
        person.refresh_from_db(fields=["status"])
        # Back-filling the history of someone imported further along: the status is already there.
        if person.status == from_status:
            person_change_status(
                actor=actor,
                scope=scope,
                person=person,
                to_status=to_status,
                effective_on=min(effective_on, today),
                reason=f"{reason}（{step.label}）",
                today=today,
            )
    if "close" in effects:
        case.state, case.close_reason = effects["close"]
        case.closed_on = record.done_on


def _attach(
    actor: Any, record: DevelopmentStep, step: StepDef, documents: Sequence[Upload]
) -> list[StepDocument]:
    kinds = {d.code: d.title for d in step.documents}
    out = []
    for upload in documents:
        out.append(_store_document(actor, record, step, kinds, upload))
    return out


def _store_document(
    actor: Any, record: DevelopmentStep, step: StepDef, kinds: Mapping[str, str], upload: Upload
) -> StepDocument:
    if upload.kind not in kinds:
        allowed = "、".join(kinds.values()) or "（此步骤不需要材料）"
        raise ServiceError(f"“{step.title}”的材料类别应为：{allowed}", field="documents")
    f = upload.file
    checked = check_upload(f, _ACCEPTED, field="documents")
    name, match = checked.name, checked.type
    doc = StepDocument(
        step=record,
        kind=upload.kind,
        title=name,
        size=checked.size,
        content_type=match.content_type,
        uploaded_by=_user(actor),
    )
    doc.file.save(name, f, save=False)
    doc.save()
    audit_record(
        actor=actor,
        action="create",
        obj=doc,
        org_path=record.case.person.org.path,
        changes={"title": [None, doc.title], "kind": [None, doc.kind], "size": [None, doc.size]},
        note=f"上传材料：{kinds[upload.kind]}",
    )
    return doc


@transaction.atomic
def document_add(*, actor: Any, scope: Scope, record: DevelopmentStep, upload: Upload) -> StepDocument:
    """Add a document to a step already recorded."""
    record = DevelopmentStep.objects.select_related("case__person__org").get(pk=record.pk)
    _check_manage(scope, record.case.person)
    dev = _steps(_policy(record.case))
    step = dev.step(record.code)
    return _store_document(actor, record, step, {d.code: d.title for d in step.documents}, upload)


@transaction.atomic
def document_withdraw(*, actor: Any, scope: Scope, document: StepDocument, reason: str) -> StepDocument:
    """Mark a document as withdrawn (uploaded by mistake); the file is kept as evidence."""
    document = StepDocument.objects.select_related("step__case__person__org").get(pk=document.pk)
    _check_manage(scope, document.step.case.person)
    if document.withdrawn_at is not None:
        raise ServiceError("此材料已撤回")
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("请写明撤回原因", field="reason")
    document.withdrawn_at = timezone.now()
    document.withdrawn_reason = reason[:300]
    document.save(update_fields=["withdrawn_at", "withdrawn_reason"])
    audit_record(
        actor=actor,
        action="update",
        obj=document,
        org_path=document.step.case.person.org.path,
        changes={"withdrawn_at": [None, document.withdrawn_at.isoformat()]},
        note=f"撤回材料：{reason[:200]}",
    )
    return document


# Corrections ------------------------------------------------------------------------------------------


@transaction.atomic
def step_correct(
    *,
    actor: Any,
    scope: Scope,
    record: DevelopmentStep,
    reason: str,
    done_on: dt.date | None = None,
    data: Mapping[str, Any] | None = None,
    note: str | None = None,
    today: dt.date | None = None,
) -> DevelopmentStep:
    """Correct a recorded step (its date, its content, its note), with a reason; audited before and after.

    The date and content of steps that changed a status or a vote's result cannot be edited here."""
    today = today or timezone.localdate()
    record = DevelopmentStep.objects.select_for_update().select_related("case__person__org").get(pk=record.pk)
    case = record.case
    _check_manage(scope, case.person)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("请写明更正原因", field="reason")
    policy = _policy(case)
    dev = _steps(policy)
    step = dev.step(record.code)
    changing = (done_on is not None and done_on != record.done_on) or data is not None
    if changing and record.code in _FIXED_STEPS:
        raise ServiceError(
            f"“{step.title}”已改变身份或表决结果，日期和内容不能直接修改；可补充备注，或经上级党委按程序纠正",
            field="done_on",
        )
    before = snapshot(record, ["done_on", "details", "note"])
    if done_on is not None and done_on != record.done_on:
        _check_date(done_on, today)
        others = [r for r in case.steps.all() if r.pk != record.pk]
        cal = _calendar_for(done_on, *(r.done_on for r in others))
        timeline = tl.build(
            dev,
            others,
            probation_ends_on=case.probation_ends_on,
            add_workdays=lambda d, n: cal.add_workdays(d, n).date,
        )
        _check_order(step, done_on, timeline, dev)
        _check_window(step, done_on, timeline.row(record.code).window, {})
        for later in dev.steps:
            if record.code in later.requires:
                for r in others:
                    if r.code == later.code and r.done_on < done_on:
                        raise ServiceError(
                            f"更正后的日期晚于后续步骤“{later.title}”（{_d(r.done_on)}），顺序不对",
                            field="done_on",
                        )
        record.done_on = done_on
    if data is not None:
        others = [r for r in case.steps.all() if r.pk != record.pk]
        cal = _calendar_for(record.done_on, *(r.done_on for r in others))
        timeline = tl.build(
            dev,
            others,
            probation_ends_on=case.probation_ends_on,
            add_workdays=lambda d, n: cal.add_workdays(d, n).date,
        )
        outcome, details, effects = _validate(
            step=step,
            case=case,
            person=case.person,
            policy=policy,
            dev=dev,
            done_on=record.done_on,
            data=dict(data),
            vote=None,
            timeline=timeline,
            calendar=cal,
            scope=scope,
        )
        record.outcome, record.details = outcome, details
        for role, people_ in effects.get("roles", {}).items():
            current = CaseRole.objects.filter(case=case, role=role, step=record, ended_on__isnull=True)
            current.update(ended_on=record.done_on)
            CaseRole.objects.bulk_create(
                CaseRole(case=case, role=role, person=p, step=record, assigned_on=record.done_on)
                for p in people_
            )
    if note is not None:
        if len(note) > 2000:
            raise ServiceError("备注不能超过2000字", field="note")
        record.note = note.strip()
    after = snapshot(record, ["done_on", "details", "note"])
    if after == before:
        raise ServiceError("没有需要更正的内容")
    record.save()
    audit_record(
        actor=actor,
        action="update",
        obj=record,
        org_path=case.person.org.path,
        changes=diff(before, after),
        note=f"更正：{reason[:300]}",
    )
    return record


# Closing a case ---------------------------------------------------------------------------------------


@transaction.atomic
def case_discontinue(
    *, actor: Any, scope: Scope, case: DevelopmentCase, on: dt.date, reason: str, today: dt.date | None = None
) -> DevelopmentCase:
    """Stop the cultivation of an applicant, activist or candidate (终止培养), with the reason."""
    today = today or timezone.localdate()
    case = DevelopmentCase.objects.select_for_update().select_related("person__org").get(pk=case.pk)
    _check_manage(scope, case.person)
    if case.state != CaseState.OPEN:
        raise ServiceError(f"此流程已{case.get_state_display()}")
    if case.stage == Stage.PROBATION or case.person.status == Status.PROBATIONARY:
        raise ServiceError("预备党员不能终止培养；应经支部大会讨论取消预备党员资格", field="reason")
    _check_date(on, today, "on")
    last = case.steps.order_by("-done_on").first()
    if last and on < last.done_on:
        raise ServiceError(f"终止日期早于最近一步（{_d(last.done_on)}）", field="on")
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("请写明终止培养的原因", field="reason")
    before = snapshot(case, ["state", "closed_on", "close_reason"])
    case.state, case.closed_on, case.close_reason = CaseState.DISCONTINUED, on, reason[:300]
    case.save()
    if case.person.status in (Status.APPLICANT, Status.ACTIVIST, Status.CANDIDATE):
        person_change_status(
            actor=actor,
            scope=scope,
            person=case.person,
            to_status=Status.DISCONTINUED,
            effective_on=on,
            reason=reason[:300],
            today=today,
        )
    audit_record(
        actor=actor,
        action="end",
        obj=case,
        org_path=case.person.org.path,
        changes=diff(before, snapshot(case, ["state", "closed_on", "close_reason"])),
        note=reason[:300],
    )
    return case


# The yearly plan ---------------------------------------------------------------------------------------

PLAN_FIELDS = (
    "receive_target",
    "confirm_target",
    "backbone_teachers_total",
    "backbone_among_members_target",
    "members_among_backbone_target",
    "note",
)


@transaction.atomic
def plan_set(
    *, actor: Any, scope: Scope, org: Organization, year: int, values: Mapping[str, Any]
) -> DevelopmentPlan:
    """Create or change a branch's development plan for a year (audited)."""
    if not scope.can_view_path(org.path):
        raise NotFound("党组织不存在或不在您的权限范围内")
    if not scope.can_manage_org(org):
        raise NotPermitted("您无权修改此党组织的发展计划")
    if not 2000 <= year <= 2100:
        raise ServiceError("年度应在 2000 至 2100 之间", field="year")
    plan, created = DevelopmentPlan.objects.select_for_update().get_or_create(org=org, year=year)
    before = {} if created else snapshot(plan, PLAN_FIELDS)
    for key in PLAN_FIELDS:
        if key in values:
            setattr(plan, key, values[key])
    for key in ("backbone_among_members_target", "members_among_backbone_target"):
        target = getattr(plan, key)
        if target is not None and not 0 <= target <= 100:
            raise ServiceError("比例目标应在 0 到 100 之间", field=key)
    plan.save()
    audit_record(
        actor=actor,
        action="create" if created else "update",
        obj=plan,
        org_path=org.path,
        changes=diff(before, snapshot(plan, PLAN_FIELDS)),
    )
    return plan
