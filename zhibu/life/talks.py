"""Talks between members (谈心谈话) and the life meeting (组织生活会): its preparation, criticism and
rectification — services (every write) and selectors (every read) for the pages.

A talk's summary is private: only the two people who talked and those who manage the branch read it
(`talk_summary_visible`); the audit log records that a summary was written, never its words. The coverage
board reads the year's talks the way the compliance rules life.talk_* do (zhibu.compliance.facts.talk_facts,
with the committee as it stands today), so the page and the finding name the same people.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from zhibu.compliance.facts import COMMITTEE_ROLES, talk_facts
from zhibu.compliance.kinds import STATES
from zhibu.compliance.packs import effective_policy
from zhibu.core.audit import audit_record
from zhibu.core.errors import NotFound, NotPermitted, ServiceError
from zhibu.core.scoping import Scope
from zhibu.life.invitees import MEMBERS_KINDS
from zhibu.life.models import (
    Attendance,
    AttendanceState,
    Criticism,
    CriticismKind,
    Meeting,
    MeetingKind,
    MeetingState,
    Rectification,
    Talk,
    TalkRelation,
)
from zhibu.orgs.models import Organization, OrgKind, Post, PostRole
from zhibu.people.models import MEMBER_STATUSES, Person

# Sanity bound on a talk's date (a typing mistake, not a regulation).
EARLIEST_YEAR = 2000
# Posts whose holders make a real committee (a secretary alone is not one; see compliance.facts).
_COMMITTEE_ONLY = (
    PostRole.ORGANIZATION_OFFICER,
    PostRole.PUBLICITY_OFFICER,
    PostRole.DISCIPLINE_OFFICER,
    PostRole.COMMITTEE_MEMBER,
)
# What talk_correct may change.
CORRECTABLE = ("held_on", "person_a", "person_b", "topic", "summary", "before_life_meeting")


# Helpers ----------------------------------------------------------------------------------------------


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _text(value: Any, label: str, field: str, *, required: bool = False, limit: int = 200) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ServiceError(f"请填写{label}", field=field)
    if len(text) > limit:
        raise ServiceError(f"{label}不能超过 {limit} 字", field=field)
    return text


def _cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def branch_of(org: Organization) -> Organization:
    """The branch a talk belongs to: the org itself, or a group's branch."""
    if org.kind == OrgKind.GROUP and org.parent_id is not None:
        parent = Organization.objects.get(pk=org.parent_id)
        if parent.kind == OrgKind.BRANCH:
            return parent
    if org.kind != OrgKind.BRANCH:
        raise ServiceError(
            f"谈心谈话记在党支部（或其党小组），{org.name} 是{org.get_kind_display()}", field="org"
        )
    return org


def _oversees(scope: Scope, path: str) -> bool:
    """Sees the whole org through a post or a grant (not just as one of its members)."""
    return any(path.startswith(p) for p in scope.view_paths)


def is_life_meeting(meeting: Meeting) -> bool:
    return meeting.kind == MeetingKind.LIFE_MEETING or MeetingKind.LIFE_MEETING in (
        meeting.also_counts_as or []
    )


# Talks: who may take part and the relation ----------------------------------------------------------------


def seat_holders(branch: Organization, on: dt.date) -> dict[int, str]:
    """The branch's committee seats on a day (person id → name): current holders of COMMITTEE_ROLES."""
    return dict(
        Post.objects.current(on)
        .filter(org=branch, role__in=COMMITTEE_ROLES)
        .values_list("person_id", "person__name")
    )


def relation_of(a: int, b: int, seats: Mapping[int, str]) -> str:
    """committee–committee, committee–member or member–member, from who holds a seat."""
    on_a, on_b = a in seats, b in seats
    if on_a and on_b:
        return TalkRelation.COMMITTEE_COMMITTEE
    if on_a or on_b:
        return TalkRelation.COMMITTEE_MEMBER
    return TalkRelation.MEMBER_MEMBER


@dataclass(frozen=True)
class _CheckedTalk:
    held_on: dt.date
    person_a: Person
    person_b: Person
    relation: str
    topic: str
    summary: str
    before_life_meeting: Meeting | None


def _check_talk(
    branch: Organization,
    *,
    held_on: Any,
    person_a: Person | None,
    person_b: Person | None,
    topic: Any,
    summary: Any,
    before_life_meeting: Meeting | None,
    today: dt.date,
) -> _CheckedTalk:
    if not isinstance(held_on, dt.date) or isinstance(held_on, dt.datetime):
        raise ServiceError("请填写谈话日期", field="held_on")
    if held_on > today:
        raise ServiceError(
            f"谈话日期 {_cn(held_on)} 晚于今天（{_cn(today)}），请在谈话后记录", field="held_on"
        )
    if held_on.year < EARLIEST_YEAR:
        raise ServiceError(f"谈话日期 {_cn(held_on)} 早于 {EARLIEST_YEAR} 年，请检查", field="held_on")
    if person_a is None or person_b is None:
        raise ServiceError("请选择谈话双方", field="person_b" if person_a else "person_a")
    if person_a.pk == person_b.pk:
        raise ServiceError(f"谈话双方不能是同一人（{person_a.name}）", field="person_b")
    ids = [person_a.pk, person_b.pk]
    people = {
        p.pk: p
        for p in Person.objects.filter(pk__in=ids).filter(
            Q(org=branch, status__in=MEMBER_STATUSES)
            | Q(
                pk__in=Post.objects.current(held_on)
                .filter(org=branch, role__in=COMMITTEE_ROLES)
                .values("person_id")
            )
        )
    }
    for pid, fld in zip(ids, ("person_a", "person_b"), strict=True):
        if pid not in people:
            name = (person_a if pid == person_a.pk else person_b).name
            raise ServiceError(
                f"{name} 不是{branch.name}的党员，{_cn(held_on)}也未任该支部委员，不能记录为谈话一方",
                field=fld,
            )
    seats = seat_holders(branch, held_on)
    meeting = before_life_meeting
    if meeting is not None:
        meeting = Meeting.objects.filter(pk=meeting.pk).first()
        if meeting is None or meeting.org_id != branch.pk or not is_life_meeting(meeting):
            raise ServiceError(f"所选会议不是{branch.name}的组织生活会", field="before_life_meeting")
        if meeting.state == MeetingState.CANCELLED:
            raise ServiceError(f"组织生活会“{meeting.title}”已取消", field="before_life_meeting")
        day = timezone.localtime(meeting.starts_at).date()
        if held_on > day:
            raise ServiceError(
                f"谈话日期 {_cn(held_on)} 晚于组织生活会（{_cn(day)}），不能算作会前谈心谈话",
                field="before_life_meeting",
            )
    return _CheckedTalk(
        held_on=held_on,
        person_a=people[person_a.pk],
        person_b=people[person_b.pk],
        relation=relation_of(person_a.pk, person_b.pk, seats),
        topic=_text(topic, "谈话主题", "topic", required=True),
        summary=_text(summary, "谈话要点", "summary", limit=5000),
        before_life_meeting=meeting,
    )


def _check_may_record(scope: Scope, branch: Organization, people_ids: set[int]) -> None:
    """Managers record any talk of the branch; a member records a talk they took part in."""
    if scope.can_manage_path(branch.path):
        return
    if not scope.can_view_path(branch.path):
        raise NotFound("党组织不存在或不在您的权限范围内")
    if scope.person_id is None or scope.person_id not in people_ids:
        raise NotPermitted(f"只能记录本人参加的谈心谈话；{branch.name}的其他谈话请由书记记录")


def _audited(checked: _CheckedTalk | Talk) -> dict[str, Any]:
    """What the audit log keeps of a talk: everything but the summary's words."""
    meeting = checked.before_life_meeting
    return {
        "held_on": str(checked.held_on),
        "person_a": checked.person_a.pk,
        "person_b": checked.person_b.pk,
        "relation": checked.relation,
        "topic": checked.topic,
        "summary": f"（{len(checked.summary)} 字，内容不记入日志）" if checked.summary else "",
        "before_life_meeting": meeting.pk if meeting else None,
    }


@transaction.atomic
def talk_record(
    *,
    actor: Any,
    scope: Scope,
    org: Organization,
    held_on: dt.date,
    person_a: Person,
    person_b: Person,
    topic: str,
    summary: str = "",
    before_life_meeting: Meeting | None = None,
    today: dt.date | None = None,
) -> Talk:
    """Record a talk between two people of a branch; the relation follows their posts on the day."""
    today = today or timezone.localdate()
    org = Organization.objects.get(pk=org.pk)
    own = scope.own_branch_path
    if not scope.can_view_path(org.path) and not (own and org.path.startswith(own)):
        raise NotFound("党组织不存在或不在您的权限范围内")
    branch = branch_of(org)
    _check_may_record(scope, branch, {getattr(person_a, "pk", 0), getattr(person_b, "pk", 0)})
    checked = _check_talk(
        branch,
        held_on=held_on,
        person_a=person_a,
        person_b=person_b,
        topic=topic,
        summary=summary,
        before_life_meeting=before_life_meeting,
        today=today,
    )
    talk = Talk.objects.create(
        org=org,
        held_on=checked.held_on,
        person_a=checked.person_a,
        person_b=checked.person_b,
        relation=checked.relation,
        topic=checked.topic,
        summary=checked.summary,
        before_life_meeting=checked.before_life_meeting,
        recorded_by=_user(actor),
    )
    audit_record(
        actor=actor,
        action="create",
        obj=talk,
        org_path=org.path,
        changes={k: [None, v] for k, v in _audited(checked).items()},
        note=f"记录谈心谈话（{TalkRelation(checked.relation).label}）："
        f"{checked.person_a.name}—{checked.person_b.name}",
    )
    return talk


@transaction.atomic
def talk_correct(
    *,
    actor: Any,
    scope: Scope,
    talk: Talk,
    changes: Mapping[str, Any],
    reason: str,
    today: dt.date | None = None,
) -> Talk:
    """Correct a talk's record (date, people, topic, summary, the life meeting it prepared), with the reason;
    a talk is never deleted."""
    today = today or timezone.localdate()
    talk = Talk.objects.select_for_update().select_related("org", "person_a", "person_b").get(pk=talk.pk)
    branch = branch_of(talk.org)
    if not talk_summary_visible(scope, None, talk):
        if scope.can_view_path(branch.path):
            raise NotPermitted("只能更正本人参加的谈心谈话，其他谈话请由书记更正")
        raise NotFound("谈话记录不存在或不在您的权限范围内")
    unknown = sorted(set(changes) - set(CORRECTABLE))
    if unknown:
        raise ServiceError(f"不能更正这些项目：{'、'.join(unknown)}")
    reason = _text(reason, "更正原因", "reason", required=True, limit=300)
    data: dict[str, Any] = {name: getattr(talk, name) for name in CORRECTABLE}
    data.update(changes)
    if not scope.can_manage_path(branch.path):
        ids = {getattr(data["person_a"], "pk", 0), getattr(data["person_b"], "pk", 0)}
        if scope.person_id not in ids:
            raise NotPermitted("更正后的谈话双方应包括您本人")
    checked = _check_talk(branch, **data, today=today)
    before = _audited(talk)
    after = _audited(checked)
    summary_changed = checked.summary != talk.summary
    changed = {
        k: [before[k], v] for k, v in after.items() if before[k] != v or (k == "summary" and summary_changed)
    }
    if not changed:
        raise ServiceError("没有需要更正的内容")
    talk.held_on = checked.held_on
    talk.person_a, talk.person_b = checked.person_a, checked.person_b
    talk.relation = checked.relation
    talk.topic, talk.summary = checked.topic, checked.summary
    talk.before_life_meeting = checked.before_life_meeting
    talk.save()
    audit_record(
        actor=actor,
        action="update",
        obj=talk,
        org_path=talk.org.path,
        changes=changed,
        note=f"更正谈心谈话：{reason}",
    )
    return talk


# Talks: reads ----------------------------------------------------------------------------------------------


def talk_summary_visible(scope: Scope, user: Any, talk: Talk) -> bool:
    """Whether a user reads a talk's summary: one of the two who talked, or a manager of its branch."""
    person_id = getattr(user, "person_id", None) or scope.person_id
    if person_id is not None and person_id in (talk.person_a_id, talk.person_b_id):
        return True
    return scope.can_manage_path(talk.org.path)


@dataclass(frozen=True)
class TalkRow:
    talk: Talk
    summary_visible: bool

    @property
    def summary(self) -> str:
        return self.talk.summary if self.summary_visible else ""


def branches_visible(scope: Scope) -> QuerySet[Organization]:
    """The branches whose talks a user may open: those they oversee, and their own."""
    return scope.orgs(Organization.objects.active().filter(kind=OrgKind.BRANCH)).order_by("path")


def branch_visible(scope: Scope, code: str) -> Organization:
    """One branch by code (without a code: the user's own branch, else the first they oversee)."""
    qs = branches_visible(scope)
    if code:
        org = qs.filter(code=code).first()
    else:
        org = qs.filter(path=scope.own_branch_path).first() if scope.own_branch_path else None
        org = org or qs.first()
    if org is None:
        raise NotFound("党支部不存在或不在您的权限范围内")
    return org


def check_sees_branch_talks(scope: Scope, branch: Organization) -> None:
    """Those who oversee the branch, and its members (not its activists), see its talks page."""
    if _oversees(scope, branch.path):
        return
    member = (
        scope.person_id is not None
        and Person.objects.filter(pk=scope.person_id, org=branch, status__in=MEMBER_STATUSES).exists()
    )
    if not member:
        raise NotFound("党支部不存在或不在您的权限范围内")


def talks_visible(scope: Scope, branch: Organization, year: int) -> list[TalkRow]:
    """The branch's talks of the year for a user, newest first (one query): all of them for those who
    oversee the branch, one's own for a member; summaries only where talk_summary_visible."""
    qs = (
        Talk.objects.filter(org__path__startswith=branch.path, held_on__year=year)
        .select_related("org", "person_a", "person_b", "before_life_meeting")
        .order_by("-held_on", "-id")
    )
    if not _oversees(scope, branch.path):
        if not scope.can_view_path(branch.path) or scope.person_id is None:
            return []
        qs = qs.filter(Q(person_a_id=scope.person_id) | Q(person_b_id=scope.person_id))
    return [TalkRow(t, talk_summary_visible(scope, None, t)) for t in qs]


def talk_get_visible(scope: Scope, pk: int) -> Talk:
    """A talk whose record the user may see (overseeing its branch, or having taken part), or NotFound."""
    talk = (
        Talk.objects.select_related("org", "person_a", "person_b", "before_life_meeting")
        .filter(pk=pk)
        .first()
    )
    if talk is None:
        raise NotFound("谈话记录不存在或不在您的权限范围内")
    mine = scope.person_id is not None and scope.person_id in (talk.person_a_id, talk.person_b_id)
    if not mine and not _oversees(scope, talk.org.path):
        raise NotFound("谈话记录不存在或不在您的权限范围内")
    return talk


def talk_people(branch: Organization, on: dt.date) -> list[tuple[int, str]]:
    """Who may be a party to a talk of the branch on a day: its members and its committee (one query)."""
    seats = Post.objects.current(on).filter(org=branch, role__in=COMMITTEE_ROLES).values("person_id")
    return list(
        Person.objects.filter(Q(org=branch, status__in=MEMBER_STATUSES) | Q(pk__in=seats))
        .order_by("name_pinyin", "id")
        .values_list("id", "name")
    )


def life_meetings_for_talks(branch: Organization, *, limit: int = 20) -> list[Meeting]:
    """The branch's recent life meetings a talk may prepare (not cancelled; also those of another kind that
    also count as one), newest first, in one query."""
    # JSON containment is not portable (SQLite): read the kinds that may also count as a life meeting.
    candidates = (
        Meeting.objects.filter(org=branch, kind__in=MEMBERS_KINDS)
        .exclude(state=MeetingState.CANCELLED)
        .order_by("-starts_at", "-id")[: limit * 5]
    )
    return [m for m in candidates if is_life_meeting(m)][:limit]


# The coverage board ---------------------------------------------------------------------------------------


def coverage_label(item: Any) -> str:
    """A person's name, or a pair as the coverage rule names it ("李红梅—王建国", sorted)."""
    if isinstance(item, list | tuple):
        return "—".join(sorted(str(i) for i in item))
    return str(item)


@dataclass(frozen=True)
class CoverageItem:
    label: str
    count: int
    met: bool


@dataclass
class CoverageRelation:
    relation: str
    title: str
    rule_id: str
    unit: str
    items: list[CoverageItem]
    missing: list[str]
    state: str = ""  # the rule's outcome today (kinds.STATES), "" when the policy has no such rule
    message: str = ""

    @property
    def state_label(self) -> str:
        return STATES.get(self.state, "")

    @property
    def applies(self) -> bool:
        return bool(self.items)


@dataclass
class CoverageBoard:
    org: Organization
    year: int
    min_per_year: int
    committee: list[str]
    has_committee: bool
    relations: list[CoverageRelation] = field(default_factory=list)

    @property
    def missing_total(self) -> int:
        return sum(len(r.missing) for r in self.relations)


# relation → (rule id, required fact, title, unit)
COVERAGE_RULES: tuple[tuple[str, str, str, str, str], ...] = (
    (
        TalkRelation.COMMITTEE_COMMITTEE,
        "life.talk_committee",
        "talk_committee_pairs",
        "支部委员之间（每对）",
        "对",
    ),
    (
        TalkRelation.COMMITTEE_MEMBER,
        "life.talk_committee_member",
        "talk_with_committee",
        "支部委员与每名党员",
        "人",
    ),
    (
        TalkRelation.MEMBER_MEMBER,
        "life.talk_member_member",
        "talk_with_members",
        "党员之间（每名党员）",
        "人",
    ),
)


def coverage_board(org: Organization, year: int, *, today: dt.date | None = None) -> CoverageBoard:
    """The branch's talk coverage in the year by relation — who or which pairs must talk, how often they
    did, who is missing against talk.min_per_year — read as the rules life.talk_* read it (five queries)."""
    today = today or timezone.localdate()
    branch = branch_of(org)
    members = dict(
        Person.objects.filter(org=branch, status__in=MEMBER_STATUSES)
        .order_by("name_pinyin", "id")
        .values_list("id", "name")
    )
    seats: dict[int, str] = {}
    has_committee = False
    for person_id, name, role in (
        Post.objects.current(today)
        .filter(org=branch, role__in=COMMITTEE_ROLES)
        .order_by("started_on", "id")
        .values_list("person_id", "person__name", "role")
    ):
        seats[person_id] = name
        has_committee = has_committee or role in _COMMITTEE_ONLY
    talks = list(
        Talk.objects.filter(org__path__startswith=branch.path, held_on__year=year).values_list(
            "person_a_id", "person_b_id"
        )
    )
    facts: dict[str, Any] = talk_facts(members, seats, has_committee=has_committee, talks=talks)
    facts.update(
        {
            "org_kind": branch.kind,
            "year": year,
            "period_start": dt.date(year, 1, 1),
            "period_end": dt.date(year, 12, 31),
            "period_label": f"{year}年",
        }
    )
    policy = effective_policy(branch)
    need = int(policy.value("talk.min_per_year"))
    board = CoverageBoard(
        org=branch,
        year=year,
        min_per_year=need,
        committee=sorted(seats.values()) if has_committee else [],
        has_committee=has_committee,
    )
    for relation, rule_id, required_fact, title, unit in COVERAGE_RULES:
        required = list(dict.fromkeys(coverage_label(x) for x in facts[required_fact]))
        counts = Counter(coverage_label(x) for x in facts[f"{required_fact}_done"])
        items = [CoverageItem(r, counts[r], counts[r] >= need) for r in required]
        row = CoverageRelation(
            relation=relation,
            title=title,
            rule_id=rule_id,
            unit=unit,
            items=items,
            missing=[i.label for i in items if not i.met],
        )
        try:
            rule = policy.rule(rule_id)
        except KeyError:
            rule = None
        if rule is not None:
            outcome = rule.check(facts, today)
            row.state, row.message = outcome.state, outcome.message
        board.relations.append(row)
    return board


# The life meeting -------------------------------------------------------------------------------------------


def _lock_life_meeting(meeting: Meeting) -> Meeting:
    found = Meeting.objects.select_for_update().select_related("org").filter(pk=meeting.pk).first()
    if found is None:
        raise NotFound("会议不存在")
    if not is_life_meeting(found):
        raise ServiceError(f"“{found.title}”不是组织生活会")
    return found


def _check_manage_meeting(scope: Scope, meeting: Meeting) -> None:
    visible = scope.can_view_path(meeting.org.path)
    if not visible and scope.person_id:
        visible = meeting.attendances.filter(person_id=scope.person_id).exists()
    if not visible:
        raise NotFound("会议不存在或不在您的权限范围内")
    if not scope.can_manage_path(meeting.org.path):
        raise NotPermitted(f"您无权办理{meeting.org.name}组织生活会的记录")


def _invitees(meeting: Meeting) -> dict[int, str]:
    return dict(meeting.attendances.values_list("person_id", "person__name"))


def _local_day(meeting: Meeting) -> dt.date:
    return timezone.localtime(meeting.starts_at).date()


def _when(moment: dt.datetime) -> str:
    m = timezone.localtime(moment)
    return f"{m.year}年{m.month}月{m.day}日 {m:%H:%M}"


@transaction.atomic
def criticism_add(
    *,
    actor: Any,
    scope: Scope,
    meeting: Meeting,
    kind: str,
    text: str,
    speaker: Person | None = None,
    about: Person | None = None,
    now: dt.datetime | None = None,
) -> Criticism:
    """Record an opinion gathered before a life meeting, or, once it has started, a member's self-criticism
    or one member's criticism of another."""
    now = now or timezone.now()
    meeting = _lock_life_meeting(meeting)
    _check_manage_meeting(scope, meeting)
    if meeting.state == MeetingState.CANCELLED:
        raise ServiceError(f"组织生活会“{meeting.title}”已取消")
    if kind not in CriticismKind.values:
        raise ServiceError(f"未知的类别：{kind}", field="kind")
    body = _text(text, "内容", "text", required=True, limit=5000)
    invitees = _invitees(meeting)

    def invitee(person: Person | None, label: str, fld: str) -> Person | None:
        if person is None:
            return None
        if person.pk not in invitees:
            raise ServiceError(f"{person.name} 不在“{meeting.title}”的参会名单中，不能作为{label}", field=fld)
        return person

    if kind == CriticismKind.OPINION:
        if now >= meeting.starts_at:
            raise ServiceError(
                f"会议已于 {_when(meeting.starts_at)} 开始，会前征求意见应在会前记录", field="kind"
            )
        if speaker is not None and speaker.pk not in invitees:
            # An opinion may come from anyone the branch asked (the masses, a retired teacher): only its
            # members are named on the record, others are entered without a name.
            raise ServiceError(f"{speaker.name} 不在参会名单中；非党员的意见请不署名记录", field="speaker")
        if about is not None:
            invitee(about, "意见针对的人", "about")
    else:
        if now < meeting.starts_at:
            raise ServiceError(
                f"会议 {_when(meeting.starts_at)} 才开始，开始后才能记录{CriticismKind(kind).label}",
                field="kind",
            )
        if speaker is None:
            raise ServiceError("请选择发言人", field="speaker")
        invitee(speaker, "发言人", "speaker")
        if kind == CriticismKind.SELF:
            if about is not None and about.pk != speaker.pk:
                raise ServiceError("自我批评的对象是发言人本人", field="about")
            about = None
        else:
            if about is None:
                raise ServiceError("请选择批评的对象", field="about")
            invitee(about, "批评对象", "about")
            if about.pk == speaker.pk:
                raise ServiceError(f"{speaker.name} 对本人的批评请记为自我批评", field="about")
    item = Criticism.objects.create(meeting=meeting, kind=kind, speaker=speaker, about=about, text=body)
    who = speaker.name if speaker else "未署名"
    audit_record(
        actor=actor,
        action="create",
        obj=item,
        org_path=meeting.org.path,
        changes={
            "kind": [None, kind],
            "speaker": [None, speaker.pk if speaker else None],
            "about": [None, about.pk if about else None],
            "text": [None, body],
        },
        note=f"组织生活会“{meeting.title}”：{CriticismKind(kind).label}（{who}）",
    )
    return item


@transaction.atomic
def rectification_add(
    *,
    actor: Any,
    scope: Scope,
    meeting: Meeting,
    item: str,
    owner: Person | None,
    due_on: dt.date | None,
    now: dt.datetime | None = None,
) -> Rectification:
    """Add a rectification item after a life meeting has started: what, who owns it, by when."""
    now = now or timezone.now()
    meeting = _lock_life_meeting(meeting)
    _check_manage_meeting(scope, meeting)
    if meeting.state == MeetingState.CANCELLED:
        raise ServiceError(f"组织生活会“{meeting.title}”已取消")
    if now < meeting.starts_at:
        raise ServiceError(f"会议 {_when(meeting.starts_at)} 才开始，整改事项在会后列出")
    what = _text(item, "整改事项", "item", required=True, limit=300)
    if owner is None:
        raise ServiceError("请选择责任人", field="owner")
    if owner.pk not in _invitees(meeting):
        raise ServiceError(f"{owner.name} 不在“{meeting.title}”的参会名单中，不能作为责任人", field="owner")
    if not isinstance(due_on, dt.date):
        raise ServiceError("请填写完成时限", field="due_on")
    day = _local_day(meeting)
    if due_on < day:
        raise ServiceError(f"完成时限 {_cn(due_on)} 早于会议日期（{_cn(day)}）", field="due_on")
    row = Rectification.objects.create(meeting=meeting, item=what, owner=owner, due_on=due_on)
    audit_record(
        actor=actor,
        action="create",
        obj=row,
        org_path=meeting.org.path,
        changes={"item": [None, what], "owner": [None, owner.pk], "due_on": [None, str(due_on)]},
        note=f"组织生活会“{meeting.title}”整改事项，责任人 {owner.name}，{_cn(due_on)}前完成",
    )
    return row


@transaction.atomic
def rectification_done(
    *,
    actor: Any,
    scope: Scope,
    rectification: Rectification,
    done_on: dt.date | None,
    evidence: str,
    today: dt.date | None = None,
) -> Rectification:
    """Mark a rectification item done, with the day and what was done; a manager or its owner does it."""
    today = today or timezone.localdate()
    row = (
        Rectification.objects.select_for_update()
        .select_related("meeting__org", "owner")
        .filter(pk=rectification.pk)
        .first()
    )
    if row is None:
        raise NotFound("整改事项不存在")
    meeting = row.meeting
    own = scope.person_id is not None and scope.person_id == row.owner_id
    if not own:
        _check_manage_meeting(scope, meeting)
    if row.done_on is not None:
        raise ServiceError(f"整改事项“{row.item}”已于 {_cn(row.done_on)} 完成")
    if not isinstance(done_on, dt.date):
        raise ServiceError("请填写完成日期", field="done_on")
    if done_on > today:
        raise ServiceError(f"完成日期 {_cn(done_on)} 晚于今天（{_cn(today)}）", field="done_on")
    day = _local_day(meeting)
    if done_on < day:
        raise ServiceError(f"完成日期 {_cn(done_on)} 早于组织生活会（{_cn(day)}）", field="done_on")
    proof = _text(evidence, "完成情况", "evidence", required=True, limit=2000)
    row.done_on, row.evidence = done_on, proof
    row.save(update_fields=["done_on", "evidence"])
    audit_record(
        actor=actor,
        action="update",
        obj=row,
        org_path=meeting.org.path,
        changes={"done_on": [None, str(done_on)], "evidence": ["", proof]},
        note=f"整改事项完成：{row.item}（{row.owner.name}）",
    )
    return row


@dataclass
class SelfCriticismRow:
    person_id: int
    name: str
    attendance_state: str
    texts: list[Criticism]
    received: list[Criticism]  # mutual criticism about this person

    @property
    def spoken(self) -> bool:
        return bool(self.texts)

    @property
    def excused(self) -> bool:
        return self.attendance_state == AttendanceState.EXCUSED


@dataclass
class LifeMeetingPage:
    meeting: Meeting
    started: bool
    opinions: list[Criticism]
    talks: list[TalkRow]
    people: list[SelfCriticismRow]
    mutual: list[Criticism]
    rectifications: list[Rectification]
    invitees: list[tuple[int, str]]

    @property
    def not_spoken(self) -> list[SelfCriticismRow]:
        """Invitees with no self-criticism on record (those on approved leave included, marked so)."""
        return [p for p in self.people if not p.spoken]

    @property
    def open_rectifications(self) -> list[Rectification]:
        return [r for r in self.rectifications if r.done_on is None]


def life_meeting_page(meeting: Meeting, *, scope: Scope | None = None) -> LifeMeetingPage:
    """A life meeting with its preparation (opinions, talks before it), self-criticism per invitee, mutual
    criticism and rectification items, in four queries; talk summaries only where the scope may read them."""
    if not is_life_meeting(meeting):
        raise NotFound("会议不是组织生活会")
    attendances = list(
        Attendance.objects.filter(meeting=meeting)
        .order_by("person__name_pinyin", "id")
        .values_list("person_id", "person__name", "state")
    )
    criticisms = list(
        Criticism.objects.filter(meeting=meeting)
        .select_related("speaker", "about")
        .order_by("created_at", "id")
    )
    talks = list(
        Talk.objects.filter(before_life_meeting=meeting)
        .select_related("org", "person_a", "person_b")
        .order_by("held_on", "id")
    )
    rectifications = list(
        Rectification.objects.filter(meeting=meeting).select_related("owner").order_by("due_on", "id")
    )
    own: dict[int, list[Criticism]] = defaultdict(list)
    received: dict[int, list[Criticism]] = defaultdict(list)
    for c in criticisms:
        if c.kind == CriticismKind.SELF and c.speaker_id is not None:
            own[c.speaker_id].append(c)
        elif c.kind == CriticismKind.MUTUAL and c.about_id is not None:
            received[c.about_id].append(c)
    people = [
        SelfCriticismRow(pid, name, state, own.get(pid, []), received.get(pid, []))
        for pid, name, state in attendances
    ]
    now = timezone.now()
    return LifeMeetingPage(
        meeting=meeting,
        started=now >= meeting.starts_at,
        opinions=[c for c in criticisms if c.kind == CriticismKind.OPINION],
        talks=[TalkRow(t, scope is not None and talk_summary_visible(scope, None, t)) for t in talks],
        people=people,
        mutual=[c for c in criticisms if c.kind == CriticismKind.MUTUAL],
        rectifications=rectifications,
        invitees=[(pid, name) for pid, name, _state in attendances],
    )
