"""Writing a demo plan into the database: bulk inserts in one transaction, no per-row queries."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from zhibu.accounts.models import Grant, User
from zhibu.compliance.packs import library
from zhibu.core.audit import audit_record
from zhibu.core.calendar import WorkdayCalendar
from zhibu.core.crypto import digest
from zhibu.core.statistics import planner_statistics_refresh
from zhibu.demo import DEMO_PASSWORD
from zhibu.demo.plan import (
    EXCUSED,
    HELD,
    KIND_LABEL,
    LOGIN_NAMES,
    PRESENT,
    REFERENCE_DATE,
    DistrictPlan,
    LoginPlan,
    MeetingPlan,
    OrgPlan,
    PersonPlan,
    SchoolPlan,
    StepPlan,
    branch_label,
    codes_for,
    describe,
    plan_district,
)
from zhibu.development.models import (
    BranchVote,
    CaseRole,
    CaseRoleKind,
    DevelopmentCase,
    DevelopmentPlan,
    DevelopmentStep,
    VotePurpose,
)
from zhibu.development.services import VoteInput, tally
from zhibu.life.models import (
    Attendance,
    CheckInMethod,
    Criticism,
    LeaveState,
    Meeting,
    Rectification,
    Talk,
)
from zhibu.orgs.models import CommitteeTerm, Organization, OrgKind, Post
from zhibu.people import pinyin
from zhibu.people.models import Person, StatusChange

BATCH = 2000


def _explain(vote: Any) -> str:
    """The tally's explanation in the same words the vote service writes (the pack's fractions)."""
    values = library().national.values()
    prefix = "reception_vote" if vote.purpose == VotePurpose.RECEPTION else "confirmation_vote"
    tallied = VoteInput(
        present=vote.present,
        in_favour=vote.in_favour,
        against=vote.against,
        abstain=vote.abstain,
        written_opinions=vote.written_opinions,
    )
    _, text = tally(
        entitled=len(vote.entitled),
        vote=tallied,
        quorum=values[f"{prefix}.quorum"],
        majority=values[f"{prefix}.pass"],
        what=f"支部大会{VotePurpose(vote.purpose).label}表决",
    )
    return text


CHUNK_SCHOOLS = 50  # schools written (and reported) at a time


@dataclass
class DemoResult:
    schools: int
    orgs: int
    people: int
    seconds: float
    logins: list[tuple[str, str, str]] = field(default_factory=list)


def _district_number() -> int:
    """1 for an empty database; the next free number when a demo district is already there (--force)."""
    taken = set(Organization.objects.filter(parent__isnull=True).values_list("code", flat=True))
    district = 1
    while codes_for(district)[0] in taken:
        district += 1
    return district


def build_demo(
    *,
    schools: int,
    seed: int,
    progress: Callable[[str], None] | None = None,
    reference_date: dt.date = REFERENCE_DATE,
) -> DemoResult:
    """Plan a district of `schools` schools for `seed` and write it; the same seed and reference date give
    the same data. Every date is relative to `reference_date` (the command passes today, so that what is
    planted as due soon or overdue is so when people look at it)."""
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    district = _district_number()
    # The official working-day calendar (with what an administrator loaded) for the cases' publicity
    # periods: the years the pipelines span, read once.
    calendar = WorkdayCalendar.load(range(reference_date.year - 4, reference_date.year + 2))
    plan = plan_district(
        schools=schools,
        seed=seed,
        district=district,
        reference_date=reference_date,
        add_workdays=lambda day, n: calendar.add_workdays(day, n).date,
        is_workday=lambda day: calendar.day(day).is_workday,
    )
    say(f"已生成方案：{schools} 所学校，{plan.org_count} 个党组织，{plan.people_count} 名人员")
    with transaction.atomic():
        writer = _Writer(plan)
        root = writer.root()
        done = 0
        for chunk in _chunks(plan.schools, CHUNK_SCHOOLS):
            writer.schools(chunk, root)
            done += len(chunk)
            say(f"已写入 {done}/{schools} 所学校（{time.perf_counter() - started:.0f} 秒）")
        logins = writer.logins()
        audit_record(
            actor=None,
            action="create",
            obj=root,
            org_path=root.path,
            note=f"生成演示数据：{schools} 所学校，{plan.people_count} 名人员（随机种子 {seed}）",
        )
    _analyze()
    return DemoResult(
        schools=schools,
        orgs=plan.org_count,
        people=plan.people_count,
        seconds=time.perf_counter() - started,
        logins=logins,
    )


def _analyze() -> None:
    """Fresh planner statistics after a bulk load (SQLite has none until ANALYZE; PostgreSQL would otherwise
    wait for autovacuum)."""
    models = (
        Organization,
        CommitteeTerm,
        Person,
        StatusChange,
        Post,
        DevelopmentCase,
        DevelopmentStep,
        CaseRole,
        BranchVote,
        DevelopmentPlan,
        Meeting,
        Attendance,
        Talk,
        Criticism,
        Rectification,
    )
    planner_statistics_refresh(models)


def _ref(person: Person) -> dict[str, object]:
    return {"id": person.pk, "name": person.name}


def _chunks(items: Sequence[SchoolPlan], size: int) -> Iterable[Sequence[SchoolPlan]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@lru_cache(maxsize=65536)
def _pinyin(name: str) -> tuple[str, str]:
    return pinyin.full_pinyin(name), pinyin.initials(name)


class _Writer:
    def __init__(self, plan: DistrictPlan) -> None:
        self.plan = plan
        self.login_keys = {x.person_key for x in plan.logins if x.person_key is not None}
        self.person_pks: dict[int, int] = {}  # plan key → pk, only for the people who get a login
        self.orgs: dict[str, Organization] = {}
        # Appending to a database that already holds people (--force): keep ID numbers unique.
        self.check_ids = Person.objects.exists()

    def _org(self, o: OrgPlan, parent: Organization | None) -> Organization:
        return Organization(
            code=o.code,
            name=o.name,
            short_name=o.short_name,
            kind=o.kind,
            parent=parent,
            path=o.path,
            depth=o.depth,
            sort_order=o.sort_order,
            established_on=o.established_on,
            is_school=o.is_school,
        )

    def root(self) -> Organization:
        root = self._org(self.plan.root, None)
        root.save()
        self.orgs[root.code] = root
        return root

    def schools(self, chunk: Sequence[SchoolPlan], root: Organization) -> None:
        # Organisations level by level, so every parent has its pk before its children are built.
        plans = [o for s in chunk for o in s.orgs]
        for kinds in ((OrgKind.COMMITTEE, OrgKind.GENERAL_BRANCH), (OrgKind.BRANCH,), (OrgKind.GROUP,)):
            level = [
                self._org(o, self.orgs[o.parent_code] if o.parent_code else root)
                for o in plans
                if o.kind in kinds
            ]
            Organization.objects.bulk_create(level, batch_size=BATCH)
            self.orgs.update((o.code, o) for o in level)

        terms = [
            CommitteeTerm(
                org=self.orgs[t.org_code],
                number=t.number,
                started_on=t.started_on,
                length_years=t.length_years,
                ended_on=t.ended_on,
            )
            for s in chunk
            for t in s.terms
        ]
        CommitteeTerm.objects.bulk_create(terms, batch_size=BATCH)
        term_by = {(t.org.code, t.number): t for t in terms}

        people_plans = [p for s in chunk for p in s.people]
        if self.check_ids:
            self._avoid_existing_ids(people_plans)
        people = [self._person(p) for p in people_plans]
        Person.objects.bulk_create(people, batch_size=BATCH)
        by_key = {p.key: obj for p, obj in zip(people_plans, people, strict=True)}
        for key in self.login_keys & by_key.keys():
            self.person_pks[key] = by_key[key].pk

        changes = [
            StatusChange(
                person=by_key[p.key],
                from_status=c.from_status,
                to_status=c.to_status,
                effective_on=c.effective_on,
                reason=c.reason,
            )
            for p in people_plans
            for c in p.changes
        ]
        StatusChange.objects.bulk_create(changes, batch_size=BATCH)

        posts = [
            Post(
                org=self.orgs[x.org_code],
                person=by_key[x.person_key],
                role=x.role,
                started_on=x.started_on,
                term=term_by[(x.org_code, x.term_number)] if x.term_number is not None else None,
            )
            for s in chunk
            for x in s.posts
        ]
        Post.objects.bulk_create(posts, batch_size=BATCH)
        self._cases(chunk, by_key)
        self._life(chunk, by_key)

    def _life(self, chunk: Sequence[SchoolPlan], by_key: dict[int, Person]) -> None:
        """The schools' meetings with their attendance, minutes, criticism and rectification, and talks."""
        tz = timezone.get_current_timezone()

        def aware(moment: dt.datetime) -> dt.datetime:
            return moment.replace(tzinfo=tz)

        def maybe(moment: dt.datetime | None) -> dt.datetime | None:
            return moment.replace(tzinfo=tz) if moment is not None else None

        def pk(key: int | None) -> int | None:
            return by_key[key].pk if key is not None else None

        plans = [m for s in chunk for m in s.meetings]
        meetings = [
            Meeting(
                org=self.orgs[m.org_code],
                kind=m.kind,
                title=m.title,
                state=m.state,
                from_plan=True,
                starts_at=aware(m.starts_at),
                ends_at=aware(m.ends_at),
                place=m.place,
                topics="；".join(m.topics),
                notice_published_at=maybe(m.notice_at),
                chair_id=pk(m.chair_key),
                recorder_id=pk(m.recorder_key),
                lecturer_id=pk(m.lecturer_key),
                lecturer_name=m.lecturer_name,
                lecture_title=m.lecture_title,
                include_activists=m.include_activists,
                minutes=self._minutes(m, by_key),
                minutes_recorded_at=maybe(m.recorded_at),
                held_at=aware(m.ends_at) if m.state == HELD else None,
            )
            for m in plans
        ]
        Meeting.objects.bulk_create(meetings, batch_size=BATCH)
        attendances = []
        for m, meeting in zip(plans, meetings, strict=True):
            start = meeting.starts_at
            for a in m.attendance:
                person = by_key[a.person_key]
                present = a.state == PRESENT
                attendances.append(
                    Attendance(
                        meeting_id=meeting.pk,
                        person_id=person.pk,
                        role=a.role,
                        may_vote=a.may_vote,
                        state=a.state,
                        # Checked in up to a quarter of an hour early; every seventh by the secretary.
                        checked_in_at=start - dt.timedelta(minutes=a.person_key % 15) if present else None,
                        check_in_method=(
                            (CheckInMethod.SECRETARY if a.person_key % 7 == 0 else CheckInMethod.QR)
                            if present
                            else ""
                        ),
                        leave_state=LeaveState.APPROVED if a.state == EXCUSED else LeaveState.NONE,
                        leave_reason=a.leave_reason,
                    )
                )
        Attendance.objects.bulk_create(attendances, batch_size=BATCH)
        Criticism.objects.bulk_create(
            [
                Criticism(
                    meeting_id=meeting.pk,
                    kind=c.kind,
                    speaker_id=pk(c.speaker_key),
                    about_id=pk(c.about_key),
                    text=c.text,
                )
                for m, meeting in zip(plans, meetings, strict=True)
                for c in m.criticisms
            ],
            batch_size=BATCH,
        )
        Rectification.objects.bulk_create(
            [
                Rectification(
                    meeting_id=meeting.pk,
                    item=r.item,
                    owner_id=by_key[r.owner_key].pk,
                    due_on=r.due_on,
                    done_on=r.done_on,
                    evidence="已按期完成" if r.done_on else "",
                )
                for m, meeting in zip(plans, meetings, strict=True)
                for r in m.rectifications
            ],
            batch_size=BATCH,
        )
        talks = []
        offset = 0
        for s in chunk:
            for t in s.talks:
                life = meetings[offset + t.life_meeting].pk if t.life_meeting is not None else None
                talks.append(
                    Talk(
                        org=self.orgs[t.org_code],
                        held_on=t.held_on,
                        person_a_id=by_key[t.a_key].pk,
                        person_b_id=by_key[t.b_key].pk,
                        relation=t.relation,
                        topic=t.topic,
                        summary=t.summary,
                        before_life_meeting_id=life,
                    )
                )
            offset += len(s.meetings)
        Talk.objects.bulk_create(talks, batch_size=BATCH)

    def _minutes(self, m: MeetingPlan, by_key: dict[int, Person]) -> dict[str, object]:
        """A held meeting's minutes as minutes_record writes them; a planned one has none."""
        if m.state != HELD:
            return {}
        return {
            "topics": list(m.topics),
            "speakers": [
                {"person_id": by_key[k].pk, "name": by_key[k].name, "summary": text} for k, text in m.speeches
            ],
            "resolutions": list(m.resolutions),
        }

    def _cases(self, chunk: Sequence[SchoolPlan], by_key: dict[int, Person]) -> None:
        """The development cases with their steps, mentors, sponsors and votes; the branches' plans."""
        plans = [(c, by_key[c.person_key]) for s in chunk for c in s.cases]
        cases = [
            DevelopmentCase(
                person=person,
                state=c.state,
                stage=c.stage,
                league_member=c.league_member,
                opened_on=c.opened_on,
                probation_ends_on=c.probation_ends_on,
                closed_on=c.closed_on,
                close_reason=c.close_reason,
            )
            for c, person in plans
        ]
        DevelopmentCase.objects.bulk_create(cases, batch_size=BATCH)
        pairs = [(case, s) for case, (c, _) in zip(cases, plans, strict=True) for s in c.steps]
        steps = [
            DevelopmentStep(
                case=case,
                code=s.code,
                done_on=s.done_on,
                outcome=s.outcome,
                details=self._details(s, by_key),
                note=s.note,
            )
            for case, s in pairs
        ]
        DevelopmentStep.objects.bulk_create(steps, batch_size=BATCH)
        role_of = {"mentor_assignment": CaseRoleKind.MENTOR, "sponsor_assignment": CaseRoleKind.SPONSOR}
        roles = [
            CaseRole(case=case, role=role_of[s.code], person=by_key[k], step=step, assigned_on=s.done_on)
            for (case, s), step in zip(pairs, steps, strict=True)
            if s.code in role_of
            for k in s.people
        ]
        CaseRole.objects.bulk_create(roles, batch_size=BATCH)
        votes = [
            BranchVote(
                step=step,
                purpose=s.vote.purpose,
                held_on=s.done_on,
                entitled=[_ref(by_key[k]) for k in s.vote.entitled],
                excluded=[],
                entitled_count=len(s.vote.entitled),
                present=s.vote.present,
                written_opinions=s.vote.written_opinions,
                in_favour=s.vote.in_favour,
                against=s.vote.against,
                abstain=s.vote.abstain,
                secret_ballot=True,
                passed=s.vote.passed,
                explanation=_explain(s.vote),
            )
            for (_, s), step in zip(pairs, steps, strict=True)
            if s.vote is not None
        ]
        BranchVote.objects.bulk_create(votes, batch_size=BATCH)
        targets = [
            DevelopmentPlan(
                org=self.orgs[t.org_code],
                year=t.year,
                receive_target=t.receive_target,
                confirm_target=t.confirm_target,
                backbone_teachers_total=t.backbone_teachers_total,
                backbone_among_members_target=t.backbone_among_members_target,
                members_among_backbone_target=t.members_among_backbone_target,
                note=t.note,
            )
            for s in chunk
            for t in s.targets
        ]
        DevelopmentPlan.objects.bulk_create(targets, batch_size=BATCH)

    def _details(self, s: StepPlan, by_key: dict[int, Person]) -> dict[str, object]:
        """A step's details with the people and the group it names turned into ids."""
        if s.code == "mentor_assignment":
            return {**s.details, "mentors": [_ref(by_key[k]) for k in s.people]}
        if s.code == "sponsor_assignment":
            return {**s.details, "sponsors": [_ref(by_key[k]) for k in s.people]}
        if s.code == "branch_assignment":
            group = self.orgs[s.group_code] if s.group_code else None
            if group is None:
                return {**s.details, "group_id": None}
            return {**s.details, "group_id": group.pk, "group_name": group.name}
        return dict(s.details)

    def _person(self, p: PersonPlan) -> Person:
        full, initials = _pinyin(p.name)
        return Person(
            name=p.name,
            name_pinyin=full,
            name_initials=initials,
            gender=p.gender,
            ethnicity=p.ethnicity,
            birth_date=p.birth_date,
            education=p.education,
            id_number=p.id_number,
            id_number_digest=digest(p.id_number) if p.id_number else None,
            phone=p.phone,
            position=p.position,
            backbone_teacher=p.backbone_teacher,
            employment=p.employment,
            org=self.orgs[p.branch_code],
            group=self.orgs[p.group_code] if p.group_code else None,
            relationship_transferred_in=p.relationship_transferred_in,
            in_need=p.in_need,
            in_need_note=p.in_need_note,
            volunteer=p.volunteer,
            volunteer_skills=p.volunteer_skills,
            status=p.status,
            applied_on=p.applied_on,
            activist_on=p.activist_on,
            candidate_on=p.candidate_on,
            joined_on=p.joined_on,
            confirmed_on=p.confirmed_on,
            note=p.note,
        )

    def _avoid_existing_ids(self, people: list[PersonPlan]) -> None:
        """Leave out the ID number of anyone whose number is already registered (appending only)."""
        digests = {digest(p.id_number): p for p in people if p.id_number}
        keys = list(digests)
        for i in range(0, len(keys), 500):
            taken = Person.objects.filter(id_number_digest__in=keys[i : i + 500]).values_list(
                "id_number_digest", flat=True
            )
            for d in taken:
                if d is not None:
                    digests[d].id_number = ""

    def logins(self) -> list[tuple[str, str, str]]:
        """The five demo accounts of school 1, with one password hash for all of them."""
        wanted = [x for x in self.plan.logins if x.person_key is None or x.person_key in self.person_pks]
        existing = set(
            User.objects.filter(username__in=[x.username for x in wanted]).values_list("username", flat=True)
        )
        wanted = [x for x in wanted if x.username not in existing]
        if not wanted:
            return []
        password = make_password(DEMO_PASSWORD)
        users = [
            User(
                username=x.username,
                password=password,
                first_name=x.who.split(" ")[-1] if x.person_key is not None else "工委工作人员",
                person_id=self.person_pks[x.person_key] if x.person_key is not None else None,
            )
            for x in wanted
        ]
        User.objects.bulk_create(users)
        by_name = {u.username: u for u in users}
        Grant.objects.bulk_create(
            [
                Grant(user=by_name[x.username], org=self.orgs[x.grant_org_code], role="manage")
                for x in wanted
                if x.grant_org_code
            ]
        )
        permission = _reveal_permission()
        for x in wanted:
            if x.reveal_id:
                by_name[x.username].user_permissions.add(permission)
        return [(x.username, x.who, x.where) for x in wanted]


def _reveal_permission() -> Permission:
    content_type = ContentType.objects.get_for_model(User)
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename="reveal_id_number", defaults={"name": "查看完整身份证号"}
    )
    return permission


def demo_logins() -> list[tuple[str, str, str]]:
    """The demo accounts that exist in the database, as (username, who, where); empty when none."""
    candidates = User.objects.filter(
        username__regex=r"^(" + "|".join(LOGIN_NAMES) + r")[0-9]*$"
    ).select_related("person", "person__org", "person__org__parent")
    out: list[tuple[str, str, str]] = []
    for user in sorted(candidates, key=_login_order):
        base = user.username.rstrip("0123456789")
        person = user.person
        if person is None:
            grant = user.grants.select_related("org").order_by("org__path").first()
            if grant is None:
                continue
            out.append((user.username, describe(base, ""), grant.org.name))
            continue
        branch = person.org
        school = branch.parent
        if base == "school_secretary":
            post = (
                Post.objects.current()
                .filter(person=person, role="secretary", org__is_school=True)
                .select_related("org")
                .first()
            )
            org = post.org if post else school
            kind = KIND_LABEL.get(org.kind if org else "", "党委")
            out.append((user.username, describe(base, person.name, kind), org.name if org else ""))
        else:
            where = branch_label(school.display_name if school else "", branch.name)
            out.append((user.username, describe(base, person.name), where))
    return out


def _login_order(user: User) -> tuple[int, int, str]:
    base = user.username.rstrip("0123456789")
    suffix = user.username[len(base) :]
    return (int(suffix or 1), LOGIN_NAMES.index(base), user.username)


__all__ = ["DemoResult", "LoginPlan", "build_demo", "demo_logins"]
