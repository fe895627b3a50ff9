"""Reads of the development pipeline for the pages: the board, a case, the yearly plan, one's own case.

Every read goes through a Scope. Timelines are computed in memory (development/timeline.py) from steps
read in one query, with one `effective_policies` call for all the branches and one working-day calendar
for all the years involved, so a page runs the same number of queries for five cases or five hundred.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Prefetch, Q, QuerySet

from zhibu.compliance.packs import EffectivePolicy, effective_policies, effective_policy
from zhibu.core.calendar import WorkdayCalendar
from zhibu.core.errors import NotFound, ServiceError
from zhibu.core.scoping import Scope
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
from zhibu.development.services import CONFIRMATION_DECISIONS, RECOMMENDATION_METHODS
from zhibu.development.steps import Development, StepDef
from zhibu.orgs.models import Organization, OrgKind
from zhibu.people.models import MEMBER_STATUSES, Person, Status
from zhibu.people.status import TRANSITIONS

# How far ahead the board looks. Display horizons chosen for the page, not numbers a regulation sets.
DUE_SOON_DAYS = 30
PROBATION_HORIZON_DAYS = 60
# People who may have a case opened for them: applicants, and those who may apply again (their status may
# change to applicant: after a stopped cultivation, a cancelled probation …), but not someone transferred out.
OPENABLE_STATUSES = (
    Status.APPLICANT,
    *(s for s, nxt in TRANSITIONS.items() if Status.APPLICANT in nxt and s != Status.TRANSFERRED_OUT),
)
POLITICAL_REVIEW_OUTCOMES = {"passed": "合格", "failed": "不合格"}
CONFIRMATION_OUTCOMES = {**CONFIRMATION_DECISIONS, "not_passed": "未通过"}


def sees_pipeline(scope: Scope, person: Person) -> bool:
    """Whether the user sees this person's case as part of an org they view (not merely as themselves)."""
    return any(person.org.path.startswith(p) for p in scope.view_paths)


def _development(policy: EffectivePolicy) -> Development:
    try:
        return policy.development
    except LookupError as exc:
        raise ServiceError("制度包没有定义发展党员的步骤") from exc


def _calendar(days: Iterable[dt.date]) -> WorkdayCalendar:
    return WorkdayCalendar.load({y for d in days for y in (d.year, d.year + 1)})


def timelines_for(cases: Sequence[DevelopmentCase], today: dt.date) -> dict[int, tl.Timeline]:
    """Each case's timeline (steps prefetched): two queries for the policies, three for the calendar."""
    if not cases:
        return {}
    policies = effective_policies({c.person.org.pk: c.person.org for c in cases}.values())
    days = [today, *(c.opened_on for c in cases), *(s.done_on for c in cases for s in c.steps.all())]
    cal = _calendar(days)

    def add(d: dt.date, n: int) -> dt.date:
        return cal.add_workdays(d, n).date

    return {
        c.pk: tl.build(
            _development(policies[c.person.org.pk]),
            list(c.steps.all()),
            probation_ends_on=c.probation_ends_on,
            add_workdays=add,
        )
        for c in cases
    }


def org_visible(scope: Scope, code: str) -> Organization:
    """An org whose pipeline the user may see: inside a subtree they view (their own branch is not enough —
    a member sees their own case, not the branch's). Without a code, the top of the user's scope."""
    qs = scope.by_org_path(Organization.objects.active().exclude(kind=OrgKind.GROUP), "path")
    org = (qs.filter(code=code) if code else qs.order_by("depth", "path")).select_related("parent").first()
    if org is None:
        raise NotFound("党组织不存在或不在您的权限范围内")
    return org


def orgs_for_choice(scope: Scope) -> list[tuple[str, str, int]]:
    qs = scope.by_org_path(Organization.objects.active().exclude(kind=OrgKind.GROUP), "path")
    return list(qs.order_by("path").values_list("code", "name", "depth"))


# The board ----------------------------------------------------------------------------------------------


@dataclass
class NextStep:
    row: tl.Row
    latest: dt.date | None
    overdue: bool
    due_soon: bool


@dataclass
class CaseLine:
    """One open case on the board: the person, the stage, the next steps and their dates."""

    case: DevelopmentCase
    timeline: tl.Timeline
    next: list[NextStep]
    overdue: bool
    due_soon: bool
    deadline: tl.Deadline | None = None  # the earliest pending deadline of any step, not only the next

    @property
    def deadline_elsewhere(self) -> bool:
        """The earliest deadline belongs to a step that is not among the next steps shown."""
        return self.deadline is not None and all(n.row is not self.deadline.row for n in self.next)


@dataclass
class StageGroup:
    code: str
    label: str
    lines: list[CaseLine]


@dataclass
class Candidate:
    line: CaseLine
    earliest: dt.date | None
    earliest_reason: str
    missing: list[StepDef]


@dataclass
class BoardPage:
    org: Organization
    today: dt.date
    stages: list[StageGroup]
    overdue: list[CaseLine]
    due_soon: list[CaseLine]
    quarter_end: dt.date
    candidates: list[Candidate]
    probation_ending: list[CaseLine]
    horizon_end: dt.date
    total: int
    due_soon_days: int = DUE_SOON_DAYS
    probation_days: int = PROBATION_HORIZON_DAYS


def quarter_end(day: dt.date) -> dt.date:
    month = (day.month - 1) // 3 * 3 + 3
    following = dt.date(day.year + (month == 12), month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def _cases(qs: QuerySet[DevelopmentCase]) -> list[DevelopmentCase]:
    return list(
        qs.select_related("person__org").prefetch_related(
            Prefetch("steps", queryset=DevelopmentStep.objects.order_by("done_on", "id"))
        )
    )


def _line(case: DevelopmentCase, timeline: tl.Timeline, today: dt.date) -> CaseLine:
    soon = today + dt.timedelta(days=DUE_SOON_DAYS)
    steps = []
    for row in timeline.next_steps:
        latest = row.window.latest
        steps.append(
            NextStep(
                row=row,
                latest=latest,
                overdue=latest is not None and latest < today,
                due_soon=latest is not None and today <= latest <= soon,
            )
        )
    deadlines = timeline.deadlines(case.stage)
    first = deadlines[0] if deadlines else None
    return CaseLine(
        case=case,
        timeline=timeline,
        next=steps,
        overdue=first is not None and first.due < today,
        due_soon=first is not None and today <= first.due <= soon,
        deadline=first,
    )


@dataclass
class SchoolRow:
    school: Organization
    by_stage: list[int]  # open cases per stage, in Stage order
    total: int
    late: int  # cases with an overdue or violated development finding in the latest run


@dataclass
class DistrictPage:
    """Above the schools (a work committee): one line per school instead of every case — a district has
    thousands of open cases; each school's own board lists them."""

    org: Organization
    today: dt.date
    stages: list[tuple[str, str]]
    schools: list[SchoolRow]
    totals: list[int]
    total: int
    late_total: int
    run_as_of: dt.date | None  # the evaluation the late counts come from (None: never evaluated)


def district_page(scope: Scope, code: str, *, today: dt.date) -> DistrictPage | None:
    """The per-school summary when `code` names an org above the schools, else None (a school's board).

    Counts come from one aggregate query; who is late comes from the latest stored evaluation's findings
    (dashboards read findings), so the page costs the same whatever the number of cases."""
    from zhibu.compliance.models import Finding
    from zhibu.compliance.selectors import run_latest_for

    org = org_visible(scope, code)
    schools = list(
        scope.by_org_path(
            Organization.objects.active().filter(is_school=True, path__startswith=org.path), "path"
        ).order_by("path")
    )
    if not schools or schools[0].path == org.path:
        return None
    stage_codes = [s for s, _ in Stage.choices]
    counts: dict[str, list[int]] = {s.path: [0] * len(stage_codes) for s in schools}
    rows = (
        scope.by_org_path(
            DevelopmentCase.objects.filter(state=CaseState.OPEN, person__org__path__startswith=org.path),
            "person__org__path",
        )
        .values_list("person__org__path", "stage")
        .annotate(n=Count("id"))
    )

    def school_of(path: str) -> str | None:
        for s in schools:
            if path.startswith(s.path):
                return s.path
        return None

    for path, stage, n in rows:
        key = school_of(path)
        if key is not None and stage in stage_codes:
            counts[key][stage_codes.index(stage)] += n
    run = run_latest_for(org, today.year)
    late: dict[str, set[int]] = {s.path: set() for s in schools}
    if run is not None:
        for path, subject in Finding.objects.filter(
            run=run,
            subject_type="case",
            state__in=("overdue", "violated"),
            org_path__startswith=org.path,
        ).values_list("org_path", "subject_id"):
            key = school_of(path)
            if key is not None:
                late[key].add(subject)
    school_rows = [SchoolRow(s, counts[s.path], sum(counts[s.path]), len(late[s.path])) for s in schools]
    totals = [sum(r.by_stage[i] for r in school_rows) for i in range(len(stage_codes))]
    return DistrictPage(
        org=org,
        today=today,
        stages=list(Stage.choices),
        schools=school_rows,
        totals=totals,
        total=sum(totals),
        late_total=sum(r.late for r in school_rows),
        run_as_of=run.as_of if run else None,
    )


def board_page(scope: Scope, code: str, *, today: dt.date) -> BoardPage:
    """An org subtree's open cases by stage, who is overdue or due soon, and the planning lists."""
    org = org_visible(scope, code)
    qs = scope.by_org_path(
        DevelopmentCase.objects.filter(state=CaseState.OPEN, person__org__path__startswith=org.path),
        "person__org__path",
    ).order_by("person__name_pinyin", "id")
    cases = _cases(qs)
    timelines = timelines_for(cases, today)
    lines = [_line(c, timelines[c.pk], today) for c in cases]
    stages = [StageGroup(s, label, [x for x in lines if x.case.stage == s]) for s, label in Stage.choices]

    def by_latest(x: CaseLine) -> tuple[dt.date, str]:
        return (x.deadline.due if x.deadline else dt.date.max, x.case.person.name_pinyin)

    q_end = quarter_end(today)
    candidates = []
    for x in lines:
        if x.case.stage != Stage.ACTIVIST:
            continue
        row = x.timeline.row("candidate_designation")
        if row.done:
            continue
        earliest = row.window.earliest
        # Prerequisites done, or not done but doable now (their own prerequisites are done).
        doable = all(x.timeline.row(s.code).available for s in row.missing)
        if doable and (earliest is None or earliest <= q_end):
            candidates.append(Candidate(x, earliest, row.window.earliest_reason, row.missing))
    horizon = today + dt.timedelta(days=PROBATION_HORIZON_DAYS)
    ending = [
        x
        for x in lines
        if x.case.probation_ends_on is not None and today <= x.case.probation_ends_on <= horizon
    ]
    return BoardPage(
        org=org,
        today=today,
        stages=stages,
        overdue=sorted((x for x in lines if x.overdue), key=by_latest),
        due_soon=sorted((x for x in lines if x.due_soon and not x.overdue), key=by_latest),
        quarter_end=q_end,
        candidates=sorted(
            candidates, key=lambda c: (c.earliest or dt.date.min, c.line.case.person.name_pinyin)
        ),
        probation_ending=sorted(ending, key=lambda x: x.case.probation_ends_on or dt.date.max),
        horizon_end=horizon,
        total=len(lines),
    )


def people_openable(scope: Scope, org: Organization) -> QuerySet[Person]:
    """People of the org's subtree the user manages who may have a case opened: not members, no open case."""
    return (
        Person.objects.filter(_manage_q(scope), org__path__startswith=org.path, status__in=OPENABLE_STATUSES)
        .exclude(development_cases__state=CaseState.OPEN)
        .select_related("org")
        .order_by("name_pinyin", "id")
    )


def _manage_q(scope: Scope) -> Q:
    q = Q(pk__in=[])
    for p in scope.manage_paths:
        q |= Q(org__path__startswith=p)
    return q


# A case -------------------------------------------------------------------------------------------------


def case_get_visible(scope: Scope, pk: int) -> DevelopmentCase:
    """A case whose person the user may see, or NotFound."""
    case = (
        DevelopmentCase.objects.select_related("person__org__parent", "person__group").filter(pk=pk).first()
    )
    if case is None or not scope.can_view_person(case.person):
        raise NotFound("发展党员流程不存在或不在您的权限范围内")
    return case


@dataclass
class RecordView:
    record: DevelopmentStep
    summary: list[tuple[str, str]]
    documents: list[StepDocument]
    vote: BranchVote | None


@dataclass
class RowView:
    row: tl.Row
    records: list[RecordView]
    state: str  # done · next · open (available, optional or repeated) · waiting
    latest_overdue: bool = False


@dataclass
class CasePage:
    case: DevelopmentCase
    person: Person
    dev: Development
    timeline: tl.Timeline
    rows: list[RowView]
    mentors: list[CaseRole]
    sponsors: list[CaseRole]
    votes: list[RecordView]
    today: dt.date
    counted_ids: set[int] = field(default_factory=set)

    @property
    def next_rows(self) -> list[RowView]:
        return [r for r in self.rows if r.state == "next"]


def describe(record: DevelopmentStep) -> list[tuple[str, str]]:
    """A recorded step's content as labelled Chinese lines."""
    d = record.details or {}
    code = record.code
    out: list[tuple[str, str]] = []
    if "talker" in d:
        out.append(("谈话人", str(d["talker"])))
    if code == "activist_designation":
        out.append(("推荐方式", RECOMMENDATION_METHODS.get(d.get("method", ""), str(d.get("method", "")))))
    if "mentors" in d:
        out.append(("培养联系人", "、".join(m.get("name", "") for m in d["mentors"])))
    if "sponsors" in d:
        out.append(("入党介绍人", "、".join(m.get("name", "") for m in d["sponsors"])))
    if "conclusion" in d:
        out.append(("考察意见", str(d["conclusion"])))
    if code == "political_review":
        out.append(("审查结论", POLITICAL_REVIEW_OUTCOMES.get(record.outcome, record.outcome)))
        if d.get("summary"):
            out.append(("审查情况", str(d["summary"])))
    if code == "training":
        out.append(("培训时间", f"{d.get('started_on', '')} 至 {record.done_on:%Y-%m-%d}"))
        out.append(("天数/学时", f"{d.get('days', 0)} 天，{d.get('hours', 0)} 学时"))
        if d.get("provider"):
            out.append(("培训单位", str(d["provider"])))
    if code == "publicity":
        out.append(
            (
                "公示期",
                f"{d.get('starts_on', '')} 至 {d.get('ends_on', '')}（{d.get('workdays', '')} 个工作日）",
            )
        )
        out.append(("公示结果", "有反映问题" if d.get("objections") else "无异议"))
    if code == "pre_review" and record.outcome == "passed":
        out.append(("预审意见", "同意"))
    if code in ("reception_vote", "confirmation_vote"):
        if code == "confirmation_vote" and d.get("decision"):
            label = CONFIRMATION_DECISIONS.get(d["decision"], d["decision"])
            if d.get("extension_months"):
                label += f"（{d['extension_months']} 个月）"
            out.append(("表决事项", label))
        out.append(("表决结果", "通过" if record.outcome not in ("not_passed", "") else "未通过"))
    if code == "approval":
        out.append(("审批", "批准接收为预备党员"))
        if d.get("late_reason"):
            out.append(("超期原因", str(d["late_reason"])))
    if code == "confirmation_approval":
        out.append(
            ("批准事项", CONFIRMATION_DECISIONS.get(d.get("decision", ""), str(d.get("decision", ""))))
        )
    if code == "branch_assignment":
        out.append(("编入党小组", str(d.get("group_name") or "未编入党小组")))
    return out


def case_page(case: DevelopmentCase, *, today: dt.date) -> CasePage:
    """Everything the case page shows, in a fixed number of queries."""
    records = list(
        case.steps.select_related("recorded_by", "vote")
        .prefetch_related(
            Prefetch(
                "documents",
                queryset=StepDocument.objects.select_related("uploaded_by").order_by("uploaded_at", "id"),
            )
        )
        .order_by("done_on", "id")
    )
    dev = _development(effective_policy(case.person.org))
    cal = _calendar([today, case.opened_on, *(r.done_on for r in records)])
    timeline = tl.build(
        dev,
        records,
        probation_ends_on=case.probation_ends_on,
        add_workdays=lambda d, n: cal.add_workdays(d, n).date,
    )
    views = {
        r.pk: RecordView(
            record=r,
            summary=describe(r),
            documents=list(r.documents.all()),
            vote=getattr(r, "vote", None),  # a missing one-to-one raises an AttributeError
        )
        for r in records
    }
    next_codes = {r.step.code for r in timeline.next_steps}
    rows = []
    for row in timeline.rows:
        if row.done:
            state = "done"
        elif row.step.code in next_codes:
            state = "next"
        elif row.available:
            state = "open"
        else:
            state = "waiting"
        rows.append(
            RowView(
                row=row,
                records=[views[r.pk] for r in row.records],
                state=state,
                latest_overdue=state == "next"
                and row.window.latest is not None
                and row.window.latest < today,
            )
        )
    roles = list(
        case.roles.filter(ended_on__isnull=True).select_related("person").order_by("assigned_on", "id")
    )
    counted = {r.pk for rs in timeline.counted.values() for r in rs}
    return CasePage(
        case=case,
        person=case.person,
        dev=dev,
        timeline=timeline,
        rows=rows,
        mentors=[r for r in roles if r.role == CaseRoleKind.MENTOR],
        sponsors=[r for r in roles if r.role == CaseRoleKind.SPONSOR],
        votes=[v for v in views.values() if v.vote is not None],
        today=today,
        counted_ids=counted,
    )


def step_record_get(scope: Scope, record_id: int) -> DevelopmentStep:
    record = DevelopmentStep.objects.select_related("case__person__org").filter(pk=record_id).first()
    if record is None or not scope.can_view_person(record.case.person):
        raise NotFound("步骤记录不存在或不在您的权限范围内")
    return record


def document_get_visible(scope: Scope, document_id: int) -> StepDocument:
    """A document of a case the user sees as part of an org they view, or NotFound."""
    doc = StepDocument.objects.select_related("step__case__person__org").filter(pk=document_id).first()
    if doc is None or not sees_pipeline(scope, doc.step.case.person):
        raise NotFound("材料不存在或不在您的权限范围内")
    return doc


def branch_full_members(person: Person) -> list[Person]:
    """The full members of the person's branch (mentors and sponsors are chosen among them)."""
    return list(
        Person.objects.filter(org_id=person.org_id, status=Status.FULL_MEMBER)
        .exclude(pk=person.pk)
        .order_by("name_pinyin", "id")
    )


def branch_groups(person: Person) -> list[Organization]:
    return list(
        Organization.objects.active().filter(kind=OrgKind.GROUP, parent_id=person.org_id).order_by("code")
    )


# My own case --------------------------------------------------------------------------------------------


@dataclass
class MyCase:
    case: DevelopmentCase
    stage_label: str
    done: list[tuple[dt.date, str]]
    next: list[tl.Row]
    mentors: list[str]
    sponsors: list[str]


def my_case(scope: Scope, *, today: dt.date) -> MyCase | None:
    """The user's own case (the open one, else the latest completed), with dates only."""
    if not scope.person_id:
        return None
    cases = DevelopmentCase.objects.filter(
        person_id=scope.person_id, state__in=(CaseState.OPEN, CaseState.COMPLETED)
    ).select_related("person__org")
    # The open case first, else the latest.
    found = sorted(cases, key=lambda c: (c.state != CaseState.OPEN, -c.opened_on.toordinal(), -c.pk))
    if not found:
        return None
    c = found[0]
    records = list(c.steps.order_by("done_on", "id"))
    dev = _development(effective_policy(c.person.org))
    cal = _calendar([today, c.opened_on, *(r.done_on for r in records)])
    timeline = tl.build(
        dev,
        records,
        probation_ends_on=c.probation_ends_on,
        add_workdays=lambda d, n: cal.add_workdays(d, n).date,
    )
    counted = {r.pk for rs in timeline.counted.values() for r in rs}
    roles = list(c.roles.filter(ended_on__isnull=True).select_related("person").order_by("assigned_on", "id"))
    return MyCase(
        case=c,
        stage_label=dev.stage_label(c.stage),
        done=[
            (r.done_on, dev.step(r.code).title) for r in records if r.pk in counted and r.code in dev.by_code
        ],
        next=timeline.next_steps if c.state == CaseState.OPEN else [],
        mentors=[r.person.name for r in roles if r.role == CaseRoleKind.MENTOR],
        sponsors=[r.person.name for r in roles if r.role == CaseRoleKind.SPONSOR],
    )


# The yearly plan ----------------------------------------------------------------------------------------


@dataclass
class Share:
    numerator: int
    denominator: int | None
    target: Decimal | None

    @property
    def percent(self) -> Decimal | None:
        if not self.denominator:
            return None
        return (Decimal(self.numerator * 100) / self.denominator).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def reached(self) -> bool | None:
        if self.target is None or self.percent is None:
            return None
        return self.percent >= self.target


@dataclass
class PlanPage:
    org: Organization
    year: int
    plan: DevelopmentPlan | None
    received_votes: int
    approvals: int
    confirmations: int
    members: int
    backbone_members: int
    backbone_among_members: Share
    members_among_backbone: Share


def plan_page(scope: Scope, code: str, *, year: int) -> PlanPage:
    """A branch's plan for a year against what was done that year, and the dual-cultivation shares."""
    org = org_visible(scope, code)
    plan = DevelopmentPlan.objects.filter(org=org, year=year).first()
    in_org = Q(case__person__org__path__startswith=org.path)
    steps = DevelopmentStep.objects.filter(in_org, done_on__year=year).aggregate(
        approvals=Count("id", filter=Q(code="approval", outcome="approved")),
        confirmations=Count(
            "id", filter=Q(code="confirmation_approval", outcome="approved", details__decision="confirm")
        ),
    )
    received = BranchVote.objects.filter(
        step__case__person__org__path__startswith=org.path,
        purpose=VotePurpose.RECEPTION,
        passed=True,
        held_on__year=year,
    ).count()
    people = Person.objects.filter(org__path__startswith=org.path, status__in=MEMBER_STATUSES).aggregate(
        members=Count("id"), backbone=Count("id", filter=Q(backbone_teacher=True))
    )
    members, backbone = people["members"], people["backbone"]
    return PlanPage(
        org=org,
        year=year,
        plan=plan,
        received_votes=received,
        approvals=steps["approvals"],
        confirmations=steps["confirmations"],
        members=members,
        backbone_members=backbone,
        backbone_among_members=Share(backbone, members, plan.backbone_among_members_target if plan else None),
        members_among_backbone=Share(
            backbone,
            plan.backbone_teachers_total if plan else None,
            plan.members_among_backbone_target if plan else None,
        ),
    )
