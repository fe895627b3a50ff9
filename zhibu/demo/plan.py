"""The demo district as a plan: a pure, deterministic function of (schools, seed, district).

Nothing here touches the database or the clock; `build.py` writes a plan. Same arguments, equal plan.
Dates are relative to REFERENCE_DATE, never to today.

Everyone on the way in (applicants, activists, candidates, probationary members) and a few recently
confirmed members have a development case whose steps follow the national pack's development rules: its
intervals, deadlines, rhythms and counts are read from the pack (`DevelopmentRules`), and publicity is
counted in working days with the calendar build.py passes in. The main school (school 1) has a case in
every stage and carries a few planted gaps, so that the compliance board has something to show: a talk
recorded late, an activist's review overdue, a probation ending within the warning period, an approval
overdue and a publicity one working day short.

Every branch and group has the twelve months of organisational life up to the reference date (see _Life):
the meetings the pack's frequencies ask for, held, with attendance for every invitee and minutes; talks; a
life meeting with criticism and rectification items; and the next month's meetings planned with their
notice out. The main school's first two branches carry the gaps of LIFE_GAPS for the board to find.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from zhibu.compliance import packs
from zhibu.compliance.kinds import Period, periods_in_year
from zhibu.compliance.values import (
    Duration,
    Fraction,
    Frequency,
    Range,
    WorkdayAdder,
    add_months,
    weekday_add,
)
from zhibu.core import idcard
from zhibu.demo import data
from zhibu.development import timeline
from zhibu.development.steps import Development

REFERENCE_DATE = dt.date(2026, 9, 1)

# Status and kind values (the strings of zhibu.people.models.Status / zhibu.orgs.models.OrgKind),
# spelled out so that planning imports no models.
APPLICANT, ACTIVIST, CANDIDATE = "applicant", "activist", "candidate"
PROBATIONARY, FULL_MEMBER = "probationary", "full_member"
SUSPENDED, TRANSFERRED_OUT, DECEASED = "suspended", "transferred_out", "deceased"
WORK_COMMITTEE, COMMITTEE, GENERAL_BRANCH = "work_committee", "committee", "general_branch"
BRANCH, GROUP = "branch", "group"
SCHOOL_ROLES = (
    "secretary",
    "deputy_secretary",
    "organization_officer",
    "publicity_officer",
    "discipline_officer",
)
KIND_LABEL = {COMMITTEE: "党委", GENERAL_BRANCH: "党总支"}

REASONS = {
    APPLICANT: "向党组织递交入党申请书",
    ACTIVIST: "经支部委员会研究，确定为入党积极分子",
    CANDIDATE: "经支部委员会研究并报上级党委备案，列为发展对象",
    PROBATIONARY: "经支部党员大会讨论通过、上级党委审批，接收为预备党员",
    FULL_MEMBER: "预备期满，经支部党员大会讨论通过、上级党委审批，按期转正",
    SUSPENDED: "与党组织失去联系超过6个月，经支部党员大会讨论、上级党委批准，停止党籍",
    DECEASED: "因病去世",
}
LOGIN_NAMES = ("wc_staff", "school_secretary", "branch_secretary", "member", "activist")
# Completed cases (confirmed members) per school, at most: "a few recently confirmed members".
COMPLETED_PER_SCHOOL = 3
# Days a probationary member's case needs after the reception vote for the upper talk and the approval.
_APPROVAL_ROOM = 21
# Days after a probation's end a completed demo case needs for its vote, approval and archiving.
_CONFIRM_ROOM = 30


@dataclass(frozen=True, slots=True)
class OrgPlan:
    code: str
    name: str
    short_name: str
    kind: str
    parent_code: str | None
    path: str
    sort_order: int
    established_on: dt.date
    is_school: bool = False

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2


@dataclass(frozen=True, slots=True)
class TermPlan:
    org_code: str
    number: int
    started_on: dt.date
    length_years: int
    ended_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class ChangePlan:
    from_status: str
    to_status: str
    effective_on: dt.date
    reason: str


@dataclass(slots=True)
class PersonPlan:
    key: int  # unique within the district plan
    name: str
    gender: str
    birth_date: dt.date
    status: str
    employment: str
    branch_code: str
    ethnicity: str = "汉族"
    education: str = "bachelor"
    id_number: str = ""
    phone: str = ""
    position: str = ""
    group_code: str | None = None
    backbone_teacher: bool = False
    relationship_transferred_in: bool = True
    in_need: bool = False
    in_need_note: str = ""
    volunteer: bool = False
    volunteer_skills: str = ""
    applied_on: dt.date | None = None
    activist_on: dt.date | None = None
    candidate_on: dt.date | None = None
    joined_on: dt.date | None = None
    confirmed_on: dt.date | None = None
    note: str = ""
    changes: list[ChangePlan] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PostPlan:
    org_code: str
    person_key: int
    role: str
    started_on: dt.date
    term_number: int | None  # the org's term of that number, or none (groups)


@dataclass(frozen=True, slots=True)
class LoginPlan:
    username: str
    person_key: int | None
    who: str
    where: str
    grant_org_code: str | None = None
    reveal_id: bool = False


@dataclass(frozen=True, slots=True)
class VotePlan:
    """The branch assembly's tally on one person; `entitled` are the voters' plan keys."""

    purpose: str  # "reception" or "confirmation" (zhibu.development.models.VotePurpose)
    entitled: tuple[int, ...]
    present: int
    written_opinions: int
    in_favour: int
    against: int
    abstain: int
    passed: bool
    explanation: str


@dataclass(frozen=True, slots=True)
class StepPlan:
    """One recorded step; `people` are the mentors or sponsors it names (plan keys), `group_code` the
    group a branch_assignment puts the person in. build.py turns both into ids in `details`."""

    code: str
    done_on: dt.date
    outcome: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    people: tuple[int, ...] = ()
    group_code: str | None = None
    vote: VotePlan | None = None


@dataclass(slots=True)
class CasePlan:
    person_key: int
    state: str  # "open" or "completed" (zhibu.development.models.CaseState)
    stage: str
    league_member: bool
    opened_on: dt.date
    steps: list[StepPlan]
    probation_ends_on: dt.date | None = None
    closed_on: dt.date | None = None
    close_reason: str = ""


@dataclass(frozen=True, slots=True)
class TargetPlan:
    """A branch's development plan for a year (DevelopmentPlan)."""

    org_code: str
    year: int
    receive_target: int
    confirm_target: int
    backbone_teachers_total: int | None
    backbone_among_members_target: Decimal | None
    members_among_backbone_target: Decimal | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class AttendancePlan:
    """One invitee of a meeting: role, vote, and whether they came (excused with the leave's reason)."""

    person_key: int
    role: str  # zhibu.life.models.AttendanceRole
    may_vote: bool
    state: str  # zhibu.life.models.AttendanceState
    leave_reason: str = ""


@dataclass(frozen=True, slots=True)
class CriticismPlan:
    kind: str  # zhibu.life.models.CriticismKind
    text: str
    speaker_key: int | None = None
    about_key: int | None = None


@dataclass(frozen=True, slots=True)
class RectificationPlan:
    item: str
    owner_key: int
    due_on: dt.date
    done_on: dt.date | None = None


@dataclass(slots=True)
class MeetingPlan:
    """A meeting of a branch or a group: held (with attendance and minutes) or planned (notice out).
    Times are local wall-clock times; build.py makes them aware in the current time zone."""

    org_code: str
    kind: str  # zhibu.life.models.MeetingKind
    title: str
    state: str  # "held" or "planned"
    starts_at: dt.datetime
    ends_at: dt.datetime
    place: str
    topics: tuple[str, ...]
    notice_at: dt.datetime | None
    chair_key: int | None
    recorder_key: int | None
    attendance: tuple[AttendancePlan, ...]
    lecturer_key: int | None = None
    lecturer_name: str = ""
    lecture_title: str = ""
    include_activists: bool = False
    speeches: tuple[tuple[int, str], ...] = ()  # (person key, what they said) for the minutes
    resolutions: tuple[str, ...] = ()
    recorded_at: dt.datetime | None = None
    criticisms: tuple[CriticismPlan, ...] = ()
    rectifications: tuple[RectificationPlan, ...] = ()


@dataclass(frozen=True, slots=True)
class TalkPlan:
    org_code: str
    held_on: dt.date
    a_key: int
    b_key: int
    relation: str  # zhibu.life.models.TalkRelation
    topic: str
    summary: str
    life_meeting: int | None = None  # index in SchoolPlan.meetings of the life meeting it prepared


@dataclass(slots=True)
class SchoolPlan:
    number: int
    orgs: list[OrgPlan]  # the school, its branches, then their groups
    terms: list[TermPlan]
    people: list[PersonPlan]
    posts: list[PostPlan]
    cases: list[CasePlan] = field(default_factory=list)
    targets: list[TargetPlan] = field(default_factory=list)
    meetings: list[MeetingPlan] = field(default_factory=list)
    talks: list[TalkPlan] = field(default_factory=list)
    # The organisational-life gaps planted in the main school: gap → branch code (see _Life).
    life_gaps: dict[str, str] = field(default_factory=dict)
    lapsed_key: int | None = None  # the member absent from organisational life for lapse.months

    @property
    def school(self) -> OrgPlan:
        return self.orgs[0]


@dataclass(slots=True)
class DistrictPlan:
    seed: int
    district: int
    reference_date: dt.date
    root: OrgPlan
    schools: list[SchoolPlan]
    logins: list[LoginPlan]

    @property
    def org_count(self) -> int:
        return 1 + sum(len(s.orgs) for s in self.schools)

    @property
    def people_count(self) -> int:
        return sum(len(s.people) for s in self.schools)


# --------------------------------------------------------------------------------------------------
# Small helpers


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 21 → 二十一, 105 → 一百零五, 1010 → 一千零一十 (1–9999)."""
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _DIGITS[n // 10] + "十" + (_DIGITS[n % 10] if n % 10 else "")
    unit, size = ("百", 100) if n < 1000 else ("千", 1000)
    head, rest = _DIGITS[n // size] + unit, n % size
    if rest == 0:
        return head
    tail = chinese_number(rest)
    if rest < 20 and rest >= 10:
        tail = "一" + tail  # 一百一十, not 一百十
    return head + ("零" + tail if rest < size // 10 else tail)


def login_username(base: str, district: int) -> str:
    return base if district == 1 else f"{base}{district}"


def codes_for(district: int) -> tuple[str, str]:
    """(root code, school code prefix) of a district: WC/S001 for the first, WC2/D2S001 for the second."""
    return ("WC", "S") if district == 1 else (f"WC{district}", f"D{district}S")


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


_SURNAMES = [s for s, _ in data.SURNAMES]
_SURNAME_WEIGHTS = [w for _, w in data.SURNAMES]
_PHONE_PREFIXES = (
    *(f"13{d}" for d in range(10)),
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "177",
    *(f"18{d}" for d in range(10)),
    "191",
    "193",
    "198",
    "199",
)


# --------------------------------------------------------------------------------------------------
# The development rules the plan respects: the national pack's numbers, never literals


@dataclass(frozen=True)
class DevelopmentRules:
    """The resolved development steps of a pack and its parameter values, as the planner asks for them."""

    dev: Development
    values: Mapping[str, Any]

    @classmethod
    def from_pack(cls, pack: packs.Pack) -> DevelopmentRules:
        if pack.development is None:
            raise LookupError("制度包缺少发展党员的步骤")
        values = pack.values()
        return cls(pack.development.resolve(values), values)

    @classmethod
    def national(cls) -> DevelopmentRules:
        return cls.from_pack(packs.library().national)

    def value(self, key: str) -> Any:
        return self.values[key]

    def stage(self, code: str) -> str:
        return self.dev.step(code).stage

    def due(self, code: str) -> Duration:
        """How long after its `due.after` event the step is due."""
        due = self.dev.step(code).due
        if due is None or not isinstance(due.duration, Duration):
            raise LookupError(f"步骤 {code} 没有期限")
        return due.duration

    def not_before(self, code: str) -> Duration:
        """The (first) minimum interval before the step may be taken."""
        for interval in self.dev.step(code).not_before:
            if isinstance(interval.duration, Duration):
                return interval.duration
        raise LookupError(f"步骤 {code} 没有最短间隔")

    def every_months(self, code: str) -> int:
        """The rhythm of a repeated step in months, read as the timeline reads it."""
        return timeline.frequency_months(self.dev.step(code).every)

    def deadline(self, code: str, start: dt.date) -> dt.date:
        return self.due(code).shift(start)


# --------------------------------------------------------------------------------------------------
# The planner


class _Planner:
    def __init__(
        self,
        *,
        seed: int,
        district: int,
        ref: dt.date,
        rules: DevelopmentRules,
        add_workdays: WorkdayAdder,
        is_workday: Callable[[dt.date], bool] = lambda day: day.weekday() < 5,
    ) -> None:
        self.rng = random.Random(seed if district == 1 else f"{seed}:{district}")
        self.seed = seed
        self.ref = ref
        self.district = district
        self.is_workday = is_workday
        self.next_key = 0
        self.id_numbers: set[str] = set()
        self.rules = rules
        self.add_workdays = add_workdays
        # How a pipeline person's case goes (see _pipeline_dates), with the date it is planned around.
        self.variants: dict[int, tuple[str, dt.date | None]] = {}

    # People's attributes -----------------------------------------------------------------------
    def name(self, gender: str, born: dt.date) -> str:
        rng = self.rng
        surname = rng.choices(_SURNAMES, weights=_SURNAME_WEIGHTS)[0]
        male = gender == "male"
        if born.year < 1966 and rng.random() < 0.45:
            return surname + rng.choice(data.OLD_MALE_NAMES if male else data.OLD_FEMALE_NAMES)
        chars = data.MALE_CHARS if male else data.FEMALE_CHARS
        if len(surname) == 2 or rng.random() < 0.28:
            return surname + rng.choice(chars)
        if rng.random() < 0.6:
            return surname + rng.choice(data.MALE_NAMES if male else data.FEMALE_NAMES)
        first = rng.choice(chars)
        second = rng.choice(chars)
        while second == first:
            second = rng.choice(chars)
        return surname + first + second

    def birth_for_age(self, low: int, high: int) -> dt.date:
        age = self.rng.randint(low, high)
        return add_years(self.ref, -age) - days(self.rng.randint(1, 364))

    def id_number(self, born: dt.date, gender: str) -> str:
        rng = self.rng
        while True:
            region = rng.choice(data.HOME_REGIONS) if rng.random() < 0.85 else rng.choice(data.OTHER_REGIONS)
            parity = rng.choice((1, 3, 5, 7, 9) if gender == "male" else (0, 2, 4, 6, 8))
            first17 = f"{region}{born:%Y%m%d}{rng.randint(1, 99):02d}{parity}"
            number = first17 + idcard.check_character(first17)
            if number not in self.id_numbers:
                self.id_numbers.add(number)
                return number

    def phone(self) -> str:
        return self.rng.choice(_PHONE_PREFIXES) + f"{self.rng.randint(0, 99_999_999):08d}"

    def activist_before(self, candidate: dt.date) -> dt.date:
        """A designation as activist at least the minimum cultivation before `candidate`."""
        return self.rules.not_before("candidate_designation").shift(candidate, -1) - days(
            self.rng.randint(0, 170)
        )

    def applied_before(self, activist: dt.date, born: dt.date) -> dt.date:
        """An application at least the minimum time before `activist`, made at the minimum age or older."""
        latest = self.rules.not_before("activist_designation").shift(activist, -1)
        adult = add_years(born, self.rules.value("applicant.min_age"))
        applied = max(latest - days(self.rng.randint(0, 200)), adult)
        if applied > latest:
            raise ValueError("demo: a pipeline that starts before the minimum age")
        return applied

    def pipeline_before(self, joined: dt.date, born: dt.date) -> tuple[dt.date, dt.date, dt.date]:
        """(applied, activist, candidate) dates leading up to joining on `joined`."""
        candidate = joined - days(self.rng.randint(90, 240))
        activist = self.activist_before(candidate)
        return self.applied_before(activist, born), activist, candidate

    def probation_end(self, joined: dt.date) -> dt.date:
        length: Duration = self.rules.value("probation.length")
        return length.shift(joined)

    def member_dates(self, p: PersonPlan, *, latest_confirm: dt.date, join_age: tuple[int, int]) -> None:
        """Key dates of someone who became a full member no later than `latest_confirm`."""
        born = p.birth_date
        length: Duration = self.rules.value("probation.length")
        joined = add_years(born, self.rng.randint(*join_age)) + days(self.rng.randint(0, 300))
        limit = length.shift(latest_confirm, -1)
        if joined > limit:
            joined = limit - days(self.rng.randint(0, 60))
        p.applied_on, p.activist_on, p.candidate_on = self.pipeline_before(joined, born)
        p.joined_on = joined
        p.confirmed_on = self.probation_end(joined)

    def chain(self, p: PersonPlan, final: tuple[str, dt.date, str] | None = None) -> None:
        """The StatusChange rows that lead to the person's status, from the key dates."""
        steps = [
            (APPLICANT, p.applied_on),
            (ACTIVIST, p.activist_on),
            (CANDIDATE, p.candidate_on),
            (PROBATIONARY, p.joined_on),
            (FULL_MEMBER, p.confirmed_on),
        ]
        previous = ""
        for status, when in steps:
            if when is None:
                break
            p.changes.append(ChangePlan(previous, status, when, REASONS[status]))
            previous = status
        if final is not None:
            status, when, reason = final
            p.changes.append(ChangePlan(previous, status, when, reason))

    def new_person(
        self,
        *,
        status: str,
        branch_code: str,
        age: tuple[int, int],
        female_share: float,
        retired: bool = False,
    ) -> PersonPlan:
        rng = self.rng
        gender = "female" if rng.random() < female_share else "male"
        if not retired and gender == "female":
            age = (age[0], min(age[1], 55))  # women teachers retire at 55
        born = self.birth_for_age(*age)
        p = PersonPlan(
            key=self.next_key,
            name=self.name(gender, born),
            gender=gender,
            birth_date=born,
            status=status,
            employment="retired" if retired else "in_service",
            branch_code=branch_code,
        )
        self.next_key += 1
        p.ethnicity = _weighted(rng, data.ETHNICITIES)
        p.education = _weighted(rng, data.EDUCATION_RETIRED if retired else data.EDUCATION_IN_SERVICE)
        p.id_number = self.id_number(born, gender)
        p.phone = self.phone()
        return p

    # One school ----------------------------------------------------------------------------------
    def school(self, number: int, short: str, school_type: str, root: OrgPlan, prefix: str) -> SchoolPlan:
        rng, ref = self.rng, self.ref
        code = f"{prefix}{number:03d}"
        committee_share = {"middle": 0.7, "vocational": 0.8, "primary": 0.35, "kindergarten": 0.1}
        kind = (
            COMMITTEE
            if number == 1 or rng.random() < committee_share.get(school_type, 0.3)
            else GENERAL_BRANCH
        )
        kind_label = KIND_LABEL[kind]
        district_name = root.short_name.removesuffix("教育工委")
        school_established = dt.date(ref.year - rng.randint(12, 60), rng.randint(3, 9), rng.randint(1, 28))

        # Terms of the school's committee: 5 years for a 党委, 3 for a 党总支; some expire soon.
        length = 5 if kind == COMMITTEE else 3
        terms: list[TermPlan] = []
        school_term = self._terms(code, length, terms)
        school_path = f"{root.path}{code}/"

        # Branches: 2–4, the last often a 退休党支部.
        n_branches = rng.randint(2, 4)
        has_retired = rng.random() < (0.65 if n_branches >= 3 else 0.2)
        style = rng.choice(data.BRANCH_STYLES)
        branch_names = list(style[: n_branches - 1 if has_retired else n_branches])
        if has_retired:
            branch_names.append(data.RETIRED_BRANCH)
        branches: list[OrgPlan] = []
        branch_terms: dict[str, TermPlan] = {}
        for j, bname in enumerate(branch_names, start=1):
            bcode = f"{code}-B{j}"
            branch_terms[bcode] = self._terms(bcode, 3, terms)
            first_term = min(t.started_on for t in terms if t.org_code == bcode)
            established = school_established + days(rng.randint(0, 365 * 3))
            first_term = min(first_term, established)
            branches.append(
                OrgPlan(
                    code=bcode,
                    name=bname,
                    short_name="",
                    kind=BRANCH,
                    parent_code=code,
                    path=f"{school_path}{bcode}/",
                    sort_order=j,
                    established_on=first_term,
                )
            )
        school_org = OrgPlan(
            code=code,
            name=f"{district_name}{short}{kind_label}",
            short_name=short,
            kind=kind,
            parent_code=root.code,
            path=school_path,
            sort_order=number,
            established_on=min(school_established, *(t.started_on for t in terms)),
            is_school=True,
        )
        working = [b for b in branches if b.name != data.RETIRED_BRANCH]
        retired_branch = branches[-1] if has_retired else None

        # How many of whom.
        n = rng.randint(40, 80)
        counts = {
            "retired": round(n * rng.uniform(0.15, 0.25)) if has_retired else rng.randint(2, 4),
            APPLICANT: max(2, round(n * rng.uniform(0.05, 0.09))),
            ACTIVIST: max(2, round(n * rng.uniform(0.05, 0.09))),
            # The main school shows every stage: a candidate, one at reception, one awaiting approval.
            CANDIDATE: max(3 if number == 1 else 1, round(n * rng.uniform(0.02, 0.05))),
            PROBATIONARY: max(2, round(n * rng.uniform(0.03, 0.06))),
            TRANSFERRED_OUT: rng.randint(0, 2),
            DECEASED: 1 if rng.random() < 0.35 else 0,
            SUSPENDED: 1 if rng.random() < 0.08 else 0,
        }
        in_service_full = n - sum(counts.values())
        assert in_service_full >= len(SCHOOL_ROLES) + 6

        # In-service full members; the school's committee comes first and sits in the first branch.
        people: list[PersonPlan] = []
        full: list[PersonPlan] = []
        for _ in range(in_service_full):
            p = self.new_person(status=FULL_MEMBER, branch_code="", age=(26, 58), female_share=0.66)
            self.member_dates(p, latest_confirm=ref - days(30), join_age=(21, 35))
            full.append(p)
        by_age = sorted(full, key=lambda p: (p.birth_date, p.key))
        seniors = by_age[: max(len(SCHOOL_ROLES) + 3, len(by_age) // 2)]
        officers = rng.sample(seniors, len(SCHOOL_ROLES))
        officers.sort(key=lambda p: (p.birth_date, p.key))  # the oldest is the secretary
        self._officer_positions(officers, kind_label)
        for p in officers:
            p.branch_code = working[0].code
        officer_keys = {p.key for p in officers}
        others = [p for p in full if p.key not in officer_keys]
        rng.shuffle(others)
        for i, p in enumerate(others):
            p.branch_code = working[(i + 1) % len(working)].code
            p.position = self._position(school_type)
        people.extend(full)

        retired_home = retired_branch.code if retired_branch else None

        def home(i: int) -> str:
            return working[i % len(working)].code

        for i in range(counts["retired"]):
            p = self.new_person(
                status=FULL_MEMBER,
                branch_code=retired_home or home(i),
                age=(60, 85),
                female_share=0.55,
                retired=True,
            )
            self.member_dates(p, latest_confirm=ref - days(30), join_age=(22, 45))
            p.position = "退休干部" if rng.random() < 0.15 else "退休教师"
            people.append(p)
        for i in range(counts[DECEASED]):
            p = self.new_person(
                status=DECEASED,
                branch_code=retired_home or home(i),
                age=(68, 92),
                female_share=0.5,
                retired=True,
            )
            died = ref - days(rng.randint(30, 900))
            self.member_dates(p, latest_confirm=died - days(200), join_age=(22, 40))
            p.position = "退休教师"
            p.note = f"{died:%Y年%m月}因病去世"
            self.chain(p, (DECEASED, died, REASONS[DECEASED]))
            people.append(p)

        pipeline: list[PersonPlan] = []
        for status, age in (
            (PROBATIONARY, (24, 40)),
            (CANDIDATE, (24, 40)),
            (ACTIVIST, (23, 38)),
            (APPLICANT, (22, 35)),
        ):
            for i in range(counts[status]):
                # The first activist of each school sits in the first branch (a demo login needs one).
                home_code = working[0].code if status == ACTIVIST and i == 0 else rng.choice(working).code
                p = self.new_person(status=status, branch_code=home_code, age=age, female_share=0.7)
                p.position = self._position(school_type, young=True)
                self._pipeline_dates(p, main=number == 1, index=i)
                pipeline.append(p)
        people.extend(pipeline)

        leavers: list[PersonPlan] = []
        for _ in range(counts[TRANSFERRED_OUT]):
            p = self.new_person(
                status=TRANSFERRED_OUT, branch_code=rng.choice(working).code, age=(28, 50), female_share=0.6
            )
            left = ref - days(rng.randint(30, 700))
            self.member_dates(p, latest_confirm=left - days(30), join_age=(21, 30))
            p.position = self._position(school_type)
            destination = rng.choice(data.TRANSFER_DESTINATIONS)
            p.note = f"{left:%Y年%m月}调往{destination}"
            self.chain(p, (TRANSFERRED_OUT, left, f"工作调动，组织关系转出至{destination}"))
            leavers.append(p)
        for _ in range(counts[SUSPENDED]):
            p = self.new_person(
                status=SUSPENDED, branch_code=rng.choice(working).code, age=(30, 55), female_share=0.5
            )
            stopped = ref - days(rng.randint(30, 400))
            self.member_dates(p, latest_confirm=stopped - days(200), join_age=(21, 30))
            p.position = self._position(school_type)
            p.note = "长期外出，与党组织失去联系"
            self.chain(p, (SUSPENDED, stopped, REASONS[SUSPENDED]))
            leavers.append(p)
        people.extend(leavers)
        for p in people:
            if not p.changes:
                self.chain(p)

        # Groups: 1–3 per branch, members (full first) spread over them.
        groups: list[OrgPlan] = []
        for branch in branches:
            in_branch = [p for p in people if p.branch_code == branch.code]
            members = sorted(
                (p for p in in_branch if p.status == FULL_MEMBER),
                key=lambda p: p.key,
            )
            rng.shuffle(members)
            members += [p for p in in_branch if p.status in (PROBATIONARY, SUSPENDED)]
            full_count = sum(1 for p in members if p.status == FULL_MEMBER)
            n_groups = max(1, min(rng.randint(1, 3), full_count // 3))
            for k in range(1, n_groups + 1):
                groups.append(
                    OrgPlan(
                        code=f"{branch.code}-G{k}",
                        name=data.GROUP_NAMES[k - 1],
                        short_name="",
                        kind=GROUP,
                        parent_code=branch.code,
                        path=f"{branch.path}{branch.code}-G{k}/",
                        sort_order=k,
                        established_on=branch.established_on,
                    )
                )
            for i, p in enumerate(members):
                p.group_code = f"{branch.code}-G{i % n_groups + 1}"

        # Posts: the school's committee, each branch's committee, each group's leader.
        posts: list[PostPlan] = []

        def hold(org_code: str, p: PersonPlan, role: str, term: TermPlan | None, start: dt.date) -> None:
            assert p.confirmed_on is not None
            started = max(start, p.confirmed_on + days(1))
            posts.append(PostPlan(org_code, p.key, role, started, term.number if term else None))

        for p, role in zip(officers, SCHOOL_ROLES, strict=True):
            hold(code, p, role, school_term, school_term.started_on)
        holders = {p.key for p in officers}
        for branch in branches:
            term = branch_terms[branch.code]
            full_here = [p for p in people if p.branch_code == branch.code and p.status == FULL_MEMBER]
            free = [p for p in full_here if p.key not in holders]
            pool = free or full_here
            seniors = sorted(pool, key=lambda p: (p.birth_date, p.key))[: max(2, len(pool) // 2)]
            secretary = rng.choice(seniors)
            hold(branch.code, secretary, "secretary", term, term.started_on)
            holders.add(secretary.key)
            free = [p for p in free if p.key not in holders]
            for role in ("organization_officer", "publicity_officer"):
                if len(free) >= 6 and rng.random() < 0.6:
                    officer = rng.choice(free)
                    hold(branch.code, officer, role, term, term.started_on)
                    holders.add(officer.key)
                    free.remove(officer)
            for group in (g for g in groups if g.parent_code == branch.code):
                in_group = [p for p in full_here if p.group_code == group.code]
                choice = [p for p in in_group if p.key not in holders] or in_group
                leader = rng.choice(choice)
                since = term.started_on + days(rng.randint(0, 200))
                hold(group.code, leader, "group_leader", None, min(since, ref - days(10)))
                holders.add(leader.key)

        # The first branch keeps at least one ordinary member without a post (a demo login needs one).
        first = working[0]

        def ordinary(p: PersonPlan) -> bool:
            return p.status == FULL_MEMBER and p.employment == "in_service" and p.key not in holders

        reserved = next((p for p in people if p.branch_code == first.code and ordinary(p)), None)
        if reserved is None:
            movable = [p for p in people if p.branch_code != first.code and ordinary(p)]
            if movable:
                reserved = movable[0]
                reserved.branch_code, reserved.group_code = first.code, f"{first.code}-G1"

        # Flags: backbone teachers, members in need, volunteers, relationships not yet transferred in.
        in_service = [p for p in people if p.employment == "in_service" and p.status != TRANSFERRED_OUT]
        # 骨干教师: about a fifth of the teachers, a little more among members and the activists a
        # branch cultivates (双培养 draws on them).
        for p in in_service:
            if rng.random() < (0.26 if p.status in (ACTIVIST, CANDIDATE, FULL_MEMBER) else 0.16):
                p.backbone_teacher = True
        if not any(p.backbone_teacher for p in in_service):
            rng.choice(in_service).backbone_teacher = True
        alive = [p for p in people if p.status not in (DECEASED, TRANSFERRED_OUT)]
        for p in alive:
            chance = 0.12 if p.employment == "retired" else 0.015
            if rng.random() < chance:
                p.in_need = True
                p.in_need_note = rng.choice(data.IN_NEED_NOTES)
        if not any(p.in_need for p in alive):
            retirees = [p for p in alive if p.employment == "retired"] or alive
            lucky = rng.choice(retirees)
            lucky.in_need, lucky.in_need_note = True, rng.choice(data.IN_NEED_NOTES)
        for p in alive:
            if rng.random() < (0.3 if p.employment == "retired" else 0.18):
                p.volunteer = True
                p.volunteer_skills = "、".join(rng.sample(data.VOLUNTEER_SKILLS, rng.randint(1, 2)))
        newcomers = [
            p
            for p in people
            if p.status in (FULL_MEMBER, PROBATIONARY)
            and p.employment == "in_service"
            and p.key not in holders
            and p is not reserved
        ]
        newcomers.sort(key=lambda p: p.key)
        for p in rng.sample(newcomers, min(len(newcomers), rng.randint(1, 2))):
            p.relationship_transferred_in = False
            p.note = f"新调入，组织关系尚在{rng.choice(data.PREVIOUS_UNITS)}，正在办理转入手续"

        people.sort(key=lambda p: p.key)
        plan = SchoolPlan(
            number=number,
            orgs=[school_org, *branches, *groups],
            terms=terms,
            people=people,
            posts=posts,
        )
        _Cases(self, plan, root, planted=number == 1).plan()
        _Life(self, plan, planted=number == 1).plan()
        if number == 1:
            plan.targets = self._targets(plan, working)
        return plan

    def _pipeline_dates(self, p: PersonPlan, *, main: bool, index: int) -> None:
        """The dates of someone on the way in, by the pack's intervals; in the main school the first ones
        carry the planted gaps (a late talk, an overdue review, an overdue approval, a probation ending
        soon, a short publicity) and every stage is present."""
        rng, ref, rules = self.rng, self.ref, self.rules
        born = p.birth_date
        variant, anchor = "", None
        if p.status == PROBATIONARY:
            length: Duration = rules.value("probation.length")
            # The board warns of a probation that ends within probation.end_warning: one does, no other.
            soon = rules.value("probation.end_warning").shift(ref)
            if main and index == 0:
                variant = "ends_soon"
                p.joined_on = length.shift(ref + days(rng.randint(1, max(1, (soon - ref).days - 1))), -1)
            else:
                variant = "short_publicity" if main and index == 1 else ""
                earliest = length.shift(soon + days(2), -1)
                p.joined_on = ref - days(rng.randint(_APPROVAL_ROOM, (ref - earliest).days))
            p.applied_on, p.activist_on, p.candidate_on = self.pipeline_before(p.joined_on, born)
        elif p.status == CANDIDATE:
            if main and index == 0:
                variant = "approval_overdue"
                anchor = rules.due("approval").shift(ref, -1) - days(rng.randint(5, 30))
                p.candidate_on = anchor - days(rng.randint(100, 200))
            elif (main and index == 1) or (not main and rng.random() < 0.4):
                variant = "reception"
                p.candidate_on = ref - days(rng.randint(100, 260))
            else:
                variant = "candidate"
                p.candidate_on = ref - days(rng.randint(20, 330))
            p.activist_on = self.activist_before(p.candidate_on)
            p.applied_on = self.applied_before(p.activist_on, born)
        elif p.status == ACTIVIST:
            if main and index == 1:
                variant = "review_overdue"
                period = rules.every_months("activist_review")
                p.activist_on = add_months(ref, -period) - days(rng.randint(60, 300))
            else:
                p.activist_on = ref - days(rng.randint(20, 700))
            p.applied_on = self.applied_before(p.activist_on, born)
        else:
            variant = "late_talk" if main and index == 0 else ""
            p.applied_on = ref - days(rng.randint(60, 200) if variant else rng.randint(15, 400))
            if p.applied_on < add_years(born, rules.value("applicant.min_age")):
                raise ValueError("demo: an applicant under the minimum age")
        self.variants[p.key] = (variant, anchor)

    def _targets(self, school: SchoolPlan, working: list[OrgPlan]) -> list[TargetPlan]:
        """Each branch's development plan for the reference year, from what its cases show, and the
        school's, which adds them up."""
        rng, year = self.rng, self.ref.year
        note = "优先在骨干教师、青年教师中发展党员，把党员培养成骨干教师（双培养）"
        out: list[TargetPlan] = []
        for branch in (o for o in school.orgs if o.kind == BRANCH):
            if branch not in working:
                out.append(TargetPlan(branch.code, year, 0, 0, None, None, None, "退休党支部不承担发展任务"))
                continue
            here = [p for p in school.people if p.branch_code == branch.code]
            backbone = sum(1 for p in here if p.employment == "in_service" and p.backbone_teacher)
            out.append(
                TargetPlan(
                    org_code=branch.code,
                    year=year,
                    receive_target=self._to_receive(here),
                    confirm_target=self._to_confirm(here),
                    # The unit's backbone teachers who are in no Party record at all count too.
                    backbone_teachers_total=backbone + rng.randint(3, 9),
                    backbone_among_members_target=_share_target(here),
                    members_among_backbone_target=Decimal(rng.choice((50, 55, 60))).quantize(Decimal("0.1")),
                    note=note,
                )
            )
        totals = [t.backbone_teachers_total or 0 for t in out]
        out.append(
            TargetPlan(
                org_code=school.school.code,
                year=year,
                receive_target=sum(t.receive_target for t in out),
                confirm_target=sum(t.confirm_target for t in out),
                backbone_teachers_total=sum(totals),
                backbone_among_members_target=_share_target(school.people),
                members_among_backbone_target=Decimal(55).quantize(Decimal("0.1")),
                note=note,
            )
        )
        return out

    def _to_receive(self, people: list[PersonPlan]) -> int:
        """Received this year so far, and the candidates the branch means to receive."""
        year = self.ref.year
        return sum(1 for p in people if p.joined_on is not None and p.joined_on.year == year) + sum(
            1 for p in people if p.status == CANDIDATE
        )

    def _to_confirm(self, people: list[PersonPlan]) -> int:
        """Members whose probation ends this year."""
        year = self.ref.year
        return sum(
            1
            for p in people
            if p.joined_on is not None
            and p.status in (PROBATIONARY, FULL_MEMBER)
            and self.probation_end(p.joined_on).year == year
        )

    def _terms(self, org_code: str, length: int, out: list[TermPlan]) -> TermPlan:
        """The current term (and the one before it) of an org; returns the current one."""
        rng = self.rng
        # Days into the current term: up to a couple of months past its end, so a few are overdue.
        into = rng.randint(20, length * 365 + 45)
        started = self.ref - days(into)
        number = rng.randint(2, 8)
        before = add_years(started, -length) - days(rng.randint(0, 40))
        out.append(TermPlan(org_code, number - 1, before, length, ended_on=started))
        current = TermPlan(org_code, number, started, length)
        out.append(current)
        return current

    def _officer_positions(self, officers: list[PersonPlan], kind_label: str) -> None:
        rng = self.rng
        secretary_heads = rng.random() < 0.5
        positions = [
            f"{kind_label}书记、校长" if secretary_heads else f"{kind_label}书记",
            f"{kind_label}副书记、副校长" if secretary_heads else f"{kind_label}副书记、校长",
            rng.choice(("副校长", "办公室主任")),
            rng.choice(("德育主任", "教务主任", "团委书记")),
            rng.choice(("工会主席", "副校长", "后勤主任")),
        ]
        for p, position in zip(officers, positions, strict=True):
            p.position = position

    def _position(self, school_type: str, *, young: bool = False) -> str:
        rng = self.rng
        if school_type == "kindergarten":
            return rng.choice(data.KINDERGARTEN_POSITIONS)
        subject = rng.choice(data.SUBJECTS[school_type])
        roll = rng.random()
        if roll < (0.8 if young else 0.62):
            return f"{subject}教师"
        if roll < 0.74:
            return f"班主任、{subject}教师"
        if roll < 0.86:
            return (
                f"{subject}教研组长"
                if school_type != "primary" or rng.random() < 0.5
                else f"{subject}备课组长"
            )
        return rng.choice(data.STAFF_POSITIONS)


class _Cases:
    """The development cases of one school, planned from its people's dates and the pack's rules.

    Every case keeps the rules (intervals, deadlines, rhythms, counts) except the gaps planted in the main
    school (see _Planner._pipeline_dates). Dates after the reference date are not recorded yet."""

    def __init__(self, planner: _Planner, school: SchoolPlan, root: OrgPlan, *, planted: bool) -> None:
        self.planner = planner
        self.rng = planner.rng
        self.ref = planner.ref
        self.rules = planner.rules
        self.aw = planner.add_workdays
        self.school = school
        self.planted = planted
        self.by_key = {p.key: p for p in school.people}
        self.provider = f"{root.short_name}党校"
        branch_codes = {o.code for o in school.orgs if o.kind == BRANCH}
        self.talkers: dict[str, list[str]] = {}
        for post in school.posts:
            if post.org_code in branch_codes and post.role in ("secretary", "organization_officer"):
                self.talkers.setdefault(post.org_code, []).append(self.by_key[post.person_key].name)
        # The upper committee's talker: a member of the school's 党委; a 党总支 does not approve, so for
        # its candidates the work committee sends its organiser (组织员).
        if school.school.kind == COMMITTEE:
            self.upper_talkers = [
                self.by_key[x.person_key].name
                for x in school.posts
                if x.org_code == school.school.code and x.role in ("deputy_secretary", "organization_officer")
            ]
        else:
            gender = self.rng.choice(("male", "female"))
            self.upper_talkers = [planner.name(gender, planner.birth_for_age(40, 55))]
        self.full: dict[str, list[PersonPlan]] = {}
        for p in school.people:
            if p.status == FULL_MEMBER:
                self.full.setdefault(p.branch_code, []).append(p)

    # The school's cases ---------------------------------------------------------------------------
    def plan(self) -> None:
        rng, ref = self.rng, self.ref
        for p in self.school.people:
            if p.status in (APPLICANT, ACTIVIST, CANDIDATE, PROBATIONARY):
                variant, anchor = self.planner.variants.get(p.key, ("", None))
                self.school.cases.append(self.case(p, variant, anchor))
        # A few members confirmed in the last probation-length have their completed case on record.
        length: Duration = self.rules.value("probation.length")
        recent = [
            p
            for p in self.school.people
            if p.status == FULL_MEMBER
            and p.employment == "in_service"
            and p.confirmed_on is not None
            and length.shift(ref, -1) <= p.confirmed_on <= ref - days(_CONFIRM_ROOM)
        ]
        for p in rng.sample(recent, min(len(recent), rng.randint(1, COMPLETED_PER_SCHOOL))):
            self.school.cases.append(self.case(p, "completed", None))
        self.school.cases.sort(key=lambda c: c.person_key)

    def case(self, p: PersonPlan, variant: str, anchor: dt.date | None) -> CasePlan:
        rng, ref, rules = self.rng, self.ref, self.rules
        assert p.applied_on is not None
        league_max: int = rules.value("league_recommendation.max_age")
        league = _age(p.birth_date, p.applied_on) <= league_max and rng.random() < 0.8
        steps: list[StepPlan] = []
        self.applicant(p, steps, late=variant == "late_talk")
        case = CasePlan(p.key, "open", "", league, p.applied_on, steps)
        mentors: tuple[int, ...] = ()
        if p.activist_on is not None:
            mentors = self.activist(p, steps, league, overdue=variant == "review_overdue")
            if p.candidate_on is None:
                self.thought_reports(p, steps, ref)
        if p.candidate_on is not None:
            vote: dt.date | None = None
            committee: dt.date | None = None
            reception: list[StepPlan] = []
            if variant in ("approval_overdue", "completed") or p.status == PROBATIONARY:
                vote = anchor or p.joined_on
                assert vote is not None
                committee, reception = self.reception_before(p, vote, short=variant == "short_publicity")
            elif variant == "reception":
                committee, reception = self.reception_after(p, ref - days(rng.randint(3, 45)))
            self.candidate(p, steps, mentors, committee)
            self.thought_reports(p, steps, min(ref, vote - days(1)) if vote else ref)
            steps.extend(s for s in reception if s.done_on <= ref)
            voted = [s.done_on for s in steps if s.code == "reception_vote"]
            if vote is not None and p.status != CANDIDATE:
                self.after_vote(p, case, vote, completed=variant == "completed")
            elif voted:  # awaiting the upper committee's approval (overdue in the planted case)
                talk = voted[0] + days(rng.randint(5, 20))
                if talk <= ref:
                    talker = rng.choice(self.upper_talkers)
                    steps.append(StepPlan("upper_talk", talk, details={"talker": talker}))
        steps.sort(key=lambda s: s.done_on)
        # The stage of the latest step that moves a case (as development.timeline.stage_of reads it).
        done = {s.code for s in steps}
        case.stage = rules.stage("application")
        for step in rules.dev.steps:
            if step.code in done and not step.repeatable:
                case.stage = step.stage
        return case

    # Stages -----------------------------------------------------------------------------------------
    def applicant(self, p: PersonPlan, steps: list[StepPlan], *, late: bool) -> None:
        rng, rules = self.rng, self.rules
        applied = p.applied_on
        assert applied is not None
        steps.append(StepPlan("application", applied))
        deadline = rules.deadline("application_talk", applied)
        note = ""
        if late:
            talk = deadline + days(rng.randint(3, 15))
            note = rng.choice(data.LATE_TALK_NOTES)
        else:
            talk = applied + days(rng.randint(2, max(2, (deadline - applied).days - 3)))
        if talk <= self.ref:
            talker = rng.choice(self.talkers[p.branch_code])
            steps.append(StepPlan("application_talk", talk, details={"talker": talker}, note=note))

    def activist(
        self, p: PersonPlan, steps: list[StepPlan], league: bool, *, overdue: bool
    ) -> tuple[int, ...]:
        """Steps 3–6; returns the mentors."""
        rng, ref, rules = self.rng, self.ref, self.rules
        designated = p.activist_on
        assert designated is not None
        league_max: int = rules.value("league_recommendation.max_age")
        if league and _age(p.birth_date, designated) <= league_max:
            method = "league"
        else:
            method = "party" if rng.random() < 0.7 else "union"
        steps.append(StepPlan("activist_designation", designated, details={"method": method}))
        filed = designated + days(rng.randint(3, 20))
        if filed <= ref:
            steps.append(StepPlan("activist_filing", filed))
        assigned = designated + days(rng.randint(0, 10))
        span: Range = rules.value("activist.mentors")
        low = int(span.min) if span.min is not None else 1
        high = int(span.max) if span.max is not None else low
        mentors = self.members(p, assigned, rng.randint(low, high))
        steps.append(StepPlan("mentor_assignment", assigned, details={}, people=mentors))
        # The branch's half-yearly reviews until the person becomes a candidate (or until today).
        months = rules.every_months("activist_review")
        until = p.candidate_on - days(1) if p.candidate_on else ref
        if overdue:  # the reviews stopped: the next one fell due before the reference date
            until = add_months(ref, -months) - days(rng.randint(25, 60))
        for day in self.rhythm(designated, months, until, after=assigned):
            conclusion = rng.choice(data.ACTIVIST_REVIEW_CONCLUSIONS)
            steps.append(StepPlan("activist_review", day, details={"conclusion": conclusion}))
        return mentors

    def thought_reports(self, p: PersonPlan, steps: list[StepPlan], until: dt.date) -> None:
        """Thought reports at the pack's rhythm (activist.thought_report_period) until `until`."""
        assert p.activist_on is not None
        months = self.rules.every_months("thought_report")
        steps.extend(StepPlan("thought_report", d) for d in self.rhythm(p.activist_on, months, until))

    def candidate(
        self, p: PersonPlan, steps: list[StepPlan], mentors: tuple[int, ...], committee: dt.date | None
    ) -> None:
        """Steps 7–11, all before the committee's review when there is one."""
        rng, ref, rules = self.rng, self.ref, self.rules
        designated = p.candidate_on
        assert designated is not None
        room = (committee - designated).days - 1 if committee else 10_000

        def after(lo: int, hi: int) -> dt.date:
            hi = max(1, min(hi, room))
            return designated + days(rng.randint(min(lo, hi), hi))

        planned = [StepPlan("candidate_designation", designated), StepPlan("candidate_filing", after(1, 10))]
        chosen = after(2, 20)
        sponsors = self.members(p, chosen, rules.value("candidate.sponsors"), prefer=mentors)
        planned.append(StepPlan("sponsor_assignment", chosen, details={}, people=sponsors))
        summary = rng.choice(data.POLITICAL_REVIEW_SUMMARIES)
        planned.append(StepPlan("political_review", after(15, 60), "passed", {"summary": summary}))
        min_days: int = rules.value("candidate.training_min.days")
        min_hours: int = rules.value("candidate.training_min.hours")
        length = min_days + rng.randint(0, 2)
        hours = max(min_hours, -(-min_hours * length // min_days))
        ended = after(length + 10, 90)
        started = ended - days(length - 1)
        planned.append(
            StepPlan(
                "training",
                ended,
                details={
                    "started_on": started.isoformat(),
                    "days": length,
                    "hours": hours,
                    "provider": self.provider,
                },
            )
        )
        steps.extend(s for s in planned if s.done_on <= ref)

    def _reception(
        self,
        p: PersonPlan,
        committee: dt.date,
        starts: dt.date,
        ends: dt.date,
        n: int,
        pre: dt.date,
        form: dt.date,
        vote: dt.date,
    ) -> list[StepPlan]:
        publicity = {
            "starts_on": starts.isoformat(),
            "ends_on": ends.isoformat(),
            "workdays": n,
            "objections": False,
        }
        return [
            StepPlan("committee_review", committee),
            StepPlan("publicity", ends, details=publicity),
            StepPlan("pre_review", pre, "passed"),
            StepPlan("application_form", form),
            StepPlan("reception_vote", vote, "passed", vote=self.vote(p, vote, "reception")),
        ]

    def _publicity_workdays(self) -> int:
        need: Duration = self.rules.value("publicity.workdays")
        if not need.is_workdays:
            raise LookupError("demo: publicity.workdays is not counted in working days")
        return need.n

    def reception_before(
        self, p: PersonPlan, vote: dt.date, *, short: bool
    ) -> tuple[dt.date, list[StepPlan]]:
        """Steps 12–15 leading up to a reception vote on `vote`, planned backwards with working days."""
        rng, rules, aw = self.rng, self.rules, self.aw
        n = self._publicity_workdays() - (1 if short else 0)
        pre = vote - days(rng.randint(5, 20))
        form = pre + days(rng.randint(1, max(1, (vote - pre).days - 1)))
        ends = aw(pre - days(rng.randint(1, 4)) + days(1), -1)  # the last working day on or before
        starts = aw(ends, -(n - 1)) if n > 1 else ends
        committee = aw(starts, -1)
        if rules.deadline("pre_review", committee) < pre or rules.deadline("reception_vote", pre) < vote:
            raise ValueError(f"demo: reception steps before {vote} do not fit their deadlines")
        return committee, self._reception(p, committee, starts, ends, n, pre, form, vote)

    def reception_after(self, p: PersonPlan, committee: dt.date) -> tuple[dt.date, list[StepPlan]]:
        """Steps 12–15 from a committee review on `committee` (the caller keeps those up to today)."""
        rng, rules, aw = self.rng, self.rules, self.aw
        committee = aw(committee + days(1), -1)
        n = self._publicity_workdays()
        starts = aw(committee, 1)
        ends = aw(starts - days(1), n)
        pre = min(ends + days(rng.randint(1, 7)), rules.deadline("pre_review", committee))
        form = pre + days(rng.randint(1, 6))
        vote = min(form + days(rng.randint(2, 15)), rules.deadline("reception_vote", pre))
        return committee, self._reception(p, committee, starts, ends, n, pre, form, vote)

    def after_vote(self, p: PersonPlan, case: CasePlan, vote: dt.date, *, completed: bool) -> None:
        """Steps 16–21 (and 22–25 for a completed case) after an approved reception vote."""
        rng, ref, rules = self.rng, self.ref, self.rules
        steps = case.steps
        room = (ref - vote).days
        talk = vote + days(rng.randint(2, max(2, min(25, room // 2))))
        approved = min(talk + days(rng.randint(1, 20)), rules.deadline("approval", vote), ref)
        ends = self.planner.probation_end(vote)
        case.probation_ends_on = ends
        steps.append(StepPlan("upper_talk", talk, details={"talker": rng.choice(self.upper_talkers)}))
        steps.append(StepPlan("approval", approved, "approved"))
        asked = ends - days(rng.randint(10, 25))
        if ends <= rules.value("probation.end_warning").shift(ref):  # asked once the board warned
            asked = min(asked, ref - days(rng.randint(0, 5)))
        later = [
            StepPlan("approval_filing", approved + days(rng.randint(3, 15))),
            StepPlan("branch_assignment", approved + days(rng.randint(0, 7)), group_code=p.group_code),
            StepPlan("oath", approved + days(rng.randint(3, 30))),
            StepPlan("confirmation_application", asked),
        ]
        voted: dt.date | None = None
        if completed:
            voted = ends + days(rng.randint(0, min(20, (ref - ends).days // 3)))
            archive = rules.due("archiving")
            decided = voted + days(rng.randint(3, max(3, min(40, (archive.shift(ref, -1) - voted).days))))
            decided = min(decided, rules.deadline("confirmation_approval", voted))
            tally = self.vote(p, voted, "confirmation")
            archived = min(archive.shift(decided), decided + days(rng.randint(1, 5)), ref)
            later += [
                StepPlan("confirmation_vote", voted, "confirm", {"decision": "confirm"}, vote=tally),
                StepPlan("confirmation_approval", decided, "approved", {"decision": "confirm"}),
                StepPlan("archiving", archived),
            ]
            case.state, case.closed_on, case.close_reason = "completed", decided, "转正"
        steps.extend(s for s in later if s.done_on <= ref)
        months = rules.every_months("probation_review")
        until = voted - days(1) if voted else ref
        for day in self.rhythm(vote, months, until, after=approved):
            conclusion = rng.choice(data.PROBATION_REVIEW_CONCLUSIONS)
            steps.append(StepPlan("probation_review", day, details={"conclusion": conclusion}))

    # Helpers ----------------------------------------------------------------------------------------
    def rhythm(
        self, start: dt.date, months: int, until: dt.date, *, after: dt.date | None = None
    ) -> list[dt.date]:
        """Dates of a repeated step up to `until`: the j-th a little before `start` + j periods (as the
        compliance rule counts) and before one period after the one before (as the timeline counts; the
        first counts from `after`, the step's prerequisite)."""
        out: list[dt.date] = []
        previous = after or start
        j = 0
        while True:
            j += 1
            due = min(add_months(start, j * months), add_months(previous, months))
            day = due - days(self.rng.randint(3, 20))
            if day > until:
                return out
            out.append(day)
            previous = day

    def members(
        self, p: PersonPlan, on: dt.date, count: int, *, prefer: tuple[int, ...] = ()
    ) -> tuple[int, ...]:
        """`count` full members of the person's branch on `on` (in service first), `prefer` first."""
        pool = [
            x
            for x in self.full.get(p.branch_code, [])
            if x.key != p.key and x.confirmed_on and x.confirmed_on <= on
        ]
        keys = {x.key for x in pool}
        chosen = [k for k in prefer if k in keys][:count]
        rest = [x for x in pool if x.key not in chosen]
        working = [x for x in rest if x.employment == "in_service"]
        pick = working if len(working) >= count - len(chosen) else rest
        chosen += [x.key for x in self.rng.sample(pick, min(len(pick), count - len(chosen)))]
        if len(chosen) < count:
            raise ValueError(f"demo: branch {p.branch_code} has too few full members on {on}")
        return tuple(chosen)

    def vote(self, p: PersonPlan, held_on: dt.date, purpose: str) -> VotePlan:
        """A tally that passes by the pack's quorum and majority, counted against the entitled."""
        rng, rules = self.rng, self.rules
        prefix = "reception_vote" if purpose == "reception" else "confirmation_vote"
        quorum: Fraction = rules.value(f"{prefix}.quorum")
        majority: Fraction = rules.value(f"{prefix}.pass")
        entitled = tuple(
            x.key
            for x in self.full.get(p.branch_code, [])
            if x.key != p.key and x.confirmed_on is not None and x.confirmed_on <= held_on
        )
        n = len(entitled)
        if n == 0:
            raise ValueError(f"demo: branch {p.branch_code} has no voters on {held_on}")
        present = rng.randint(min(n, max(quorum.least(n), n - 4)), n)
        written = rng.randint(0, min(2, n - present))
        abstain = 1 if rng.random() < 0.15 else 0
        if not majority.reached(present + written - abstain, n):
            abstain = 0
        if not majority.reached(present + written, n):
            present, written = n, 0
        in_favour = present + written - abstain
        if not (quorum.reached(present, n) and majority.reached(in_favour, n)):
            raise ValueError("demo: a planned vote that does not pass")
        parts = [
            f"应到会有表决权的正式党员 {n} 人，实到会 {present} 人，"
            f"{'超过' if quorum.strict else '达到'}{quorum.words}"
        ]
        if written:
            parts.append(f"未到会党员书面意见 {written} 份已计入")
        parts.append(
            f"赞成 {in_favour} 票、反对 0 票、弃权 {abstain} 票，"
            f"{'超过' if majority.strict else '达到'}应到会人数的{majority.words}，通过"
        )
        return VotePlan(purpose, entitled, present, written, in_favour, 0, abstain, True, "；".join(parts))


# --------------------------------------------------------------------------------------------------
# Organisational life: a year of meetings, attendance and talks

# Meeting kinds, states and roles (the strings of zhibu.life.models), spelled out so that planning
# imports no models.
GENERAL_ASSEMBLY, COMMITTEE_MEETING, GROUP_MEETING = "general_assembly", "committee_meeting", "group_meeting"
PARTY_LECTURE, THEME_DAY, LIFE_MEETING, STUDY_SESSION = (
    "party_lecture",
    "theme_day",
    "life_meeting",
    "study_session",
)
HELD, PLANNED = "held", "planned"
PRESENT, EXCUSED, ABSENT, EXPECTED = "present", "excused", "absent", "expected"
# Branch posts that sit on the committee (zhibu.compliance.facts.COMMITTEE_ROLES) and those that make it
# more than a secretary (a committee meeting needs one of them).
COMMITTEE_POSTS = (
    "secretary",
    "deputy_secretary",
    "organization_officer",
    "publicity_officer",
    "discipline_officer",
    "committee_member",
)
COMMITTEE_ONLY_POSTS = COMMITTEE_POSTS[2:]
MEMBER_STATUS = (PROBATIONARY, FULL_MEMBER)
# Where in its period a meeting is placed (0 = first day, 1 = last): not regulation, it spreads the kinds
# apart (the committee prepares before the assembly, the lecture comes after it).
_POSITION = {
    COMMITTEE_MEETING: 0.15,
    GENERAL_ASSEMBLY: 0.45,
    GROUP_MEETING: 0.5,
    PARTY_LECTURE: 0.7,
    LIFE_MEETING: 0.4,
}
_MINUTES_LONG = {GENERAL_ASSEMBLY: 90, LIFE_MEETING: 120, THEME_DAY: 120, PARTY_LECTURE: 90}
# The planted gaps of the main school: which branch (index among its branches) carries which.
LIFE_GAPS = {
    "secretary_lecture": 0,  # the secretary gives no lecture this year
    "minutes_missing": 0,  # a study session two weeks old, never recorded
    "assembly_missing": 1,  # a closed quarter without an assembly
    "assembly_quorum": 1,  # an assembly below quorum
    "talk_coverage": 1,  # talks do not cover every member
    "lapse": 1,  # a member absent from organisational life for lapse.months
}
_LIFE_WINDOW_MONTHS = 12
_UPCOMING_DAYS = 31  # meetings planned (notice out) this far after the reference date
_MINUTES_GAP_DAYS = 14


def status_on(p: PersonPlan, day: dt.date) -> str:
    """The person's status on `day` from their status changes ("" before the first)."""
    status = ""
    for change in p.changes:
        if change.effective_on > day:
            break
        status = change.to_status
    return status


def _frequency(rules: DevelopmentRules, key: str) -> Frequency | None:
    value = rules.values.get(key)
    return value if isinstance(value, Frequency) else None


class _Life:
    """One school's year of organisational life up to the reference date, and the next month's plan.

    Every branch (and group) holds each kind as often as the pack's parameters say (general_assembly.period,
    committee_meeting.period where it has a committee, group_meeting.period, party_lecture.period with the
    secretary giving party_lecture.secretary_per_year of them, theme_day.period on theme_day.day or the
    month's first working day, life_meeting.min_per_year in life_meeting.usual_quarter); invitees are those
    zhibu.life.invitees names, as their status stood on the day. The main school carries the gaps of
    LIFE_GAPS; the rest hold everything, mostly present, quorum always reached, minutes within
    minutes.within."""

    def __init__(self, planner: _Planner, school: SchoolPlan, *, planted: bool) -> None:
        self.planner = planner
        self.rules = planner.rules
        self.ref = planner.ref
        self.is_workday = planner.is_workday
        self.rng = random.Random(f"{planner.seed}:{planner.district}:{school.number}:life")
        self.school = school
        self.planted = planted
        self.window_start = add_months(self.ref, -_LIFE_WINDOW_MONTHS)
        self.horizon = self.ref + days(_UPCOMING_DAYS)
        self.by_key = {p.key: p for p in school.people}
        self.holders = {x.person_key for x in school.posts}
        self.posts: dict[str, dict[str, list[int]]] = {}
        for x in school.posts:
            self.posts.setdefault(x.org_code, {}).setdefault(x.role, []).append(x.person_key)
        self.school_secretary = self.posts.get(school.school.code, {}).get("secretary", [None])[0]
        self.within: Duration = self.rules.value("minutes.within")
        months: int = self.rules.value("lapse.months")
        self.lapse_from = add_months(self.ref.replace(day=1), -months)
        self.gaps: dict[str, str] = {}
        branches = [o for o in school.orgs if o.kind == BRANCH]
        if planted:
            self.gaps = {gap: branches[i % len(branches)].code for gap, i in LIFE_GAPS.items()}
        school.life_gaps = dict(self.gaps)

    # Helpers -----------------------------------------------------------------------------------------
    def workday_near(self, day: dt.date, lo: dt.date, hi: dt.date) -> dt.date | None:
        """The first working day from `day` within [lo, hi], else the last one before it."""
        d = max(day, lo)
        while d <= hi:
            if self.is_workday(d):
                return d
            d += days(1)
        d = min(day, hi)
        while d >= lo:
            if self.is_workday(d):
                return d
            d -= days(1)
        return None

    def periods(self, freq: Frequency) -> list[Period]:
        """The periods of `freq` that overlap the window (a semester needs a school year: none here)."""
        out: list[Period] = []
        for year in range(self.window_start.year, self.horizon.year + 1):
            out += [p for p in periods_in_year(freq, year) if p.end >= self.window_start]
        return [p for p in out if p.start <= self.horizon]

    def slots(self, freq: Frequency, kind: str) -> list[tuple[dt.date, str]]:
        """(day, period label) of each meeting `freq` asks for in the window: `count` per period, each in
        its slice of the period, on a working day, then a few days' jitter."""
        out: list[tuple[dt.date, str]] = []
        for period in self.periods(freq):
            length = (period.end - period.start).days + 1
            for i in range(freq.count):
                lo = period.start + days(length * i // freq.count)
                hi = period.start + days(length * (i + 1) // freq.count - 1)
                if kind == THEME_DAY:
                    fixed = self.rules.values.get("theme_day.day")
                    last = (add_months(lo.replace(day=1), 1) - days(1)).day
                    preferred = lo.replace(day=min(fixed, last)) if isinstance(fixed, int) else lo
                else:
                    preferred = lo + days(int(((hi - lo).days) * _POSITION[kind]) + self.rng.randint(-3, 3))
                day = self.workday_near(preferred, lo, hi)
                if day is None or not self.window_start <= day <= self.horizon:
                    continue
                suffix = f"（第{chinese_number(i + 1)}次）" if freq.count > 1 else ""
                out.append((day, f"{period.label}{suffix}"))
        return out

    def members_on(
        self, people: list[PersonPlan], day: dt.date, *, activists: bool = False
    ) -> list[PersonPlan]:
        wanted = (*MEMBER_STATUS, ACTIVIST, CANDIDATE) if activists else MEMBER_STATUS
        return [p for p in people if status_on(p, day) in wanted]

    def invitees(
        self, people: list[PersonPlan], day: dt.date, *, voting: bool, activists: bool = False
    ) -> list[tuple[int, str, bool]]:
        """(key, role, may vote) as zhibu.life.invitees.compute gives them, by the status on `day`."""
        out = []
        for p in self.members_on(people, day, activists=activists):
            status = status_on(p, day)
            if status == FULL_MEMBER:
                out.append((p.key, "member", voting))
            elif status == PROBATIONARY:
                out.append((p.key, "probationary", False))
            else:
                out.append((p.key, "activist", False))
        return out

    def attend(
        self,
        invited: list[tuple[int, str, bool]],
        day: dt.date,
        *,
        held: bool,
        retired: bool,
        quorum: Fraction | None = None,
        below_quorum: bool = False,
    ) -> tuple[AttendancePlan, ...]:
        """Mostly present (85–95 %), some excused with a reason, a few absent; the lapsed member absent
        from lapse_from on; quorum (of those who may vote) reached unless `below_quorum`."""
        rng = self.rng
        if not held:
            return tuple(AttendancePlan(k, role, vote, EXPECTED) for k, role, vote in invited)
        share = rng.uniform(0.85, 0.95)
        reasons = data.RETIRED_LEAVE_REASONS if retired else data.LEAVE_REASONS
        states: dict[int, tuple[str, str]] = {}
        for k, _, _ in invited:
            roll = rng.random()
            if k == self.school.lapsed_key and day >= self.lapse_from:
                states[k] = (ABSENT, "")
            elif roll < share:
                states[k] = (PRESENT, "")
            elif roll < share + (1 - share) * 0.7:
                states[k] = (EXCUSED, rng.choice(reasons))
            else:
                states[k] = (ABSENT, "")
        voters = [k for k, _, vote in invited if vote]
        if quorum is not None and voters:
            present = [k for k in voters if states[k][0] == PRESENT]
            if below_quorum:
                keep = max(0, quorum.least(len(voters)) - 1)
                for k in present[keep:]:
                    states[k] = (EXCUSED, rng.choice(data.LEAVE_REASONS[-2:]))
            else:
                missing = [k for k in voters if states[k][0] != PRESENT and k != self.school.lapsed_key]
                while not quorum.reached(len(present), len(voters)) and missing:
                    k = missing.pop()
                    states[k] = (PRESENT, "")
                    present.append(k)
        if not any(s == PRESENT for s, _ in states.values()) and invited:
            states[invited[0][0]] = (PRESENT, "")
        return tuple(AttendancePlan(k, role, vote, *states[k]) for k, role, vote in invited)

    def at(self, day: dt.date, minute_of_day: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(minute_of_day // 60, minute_of_day % 60))

    def meeting(
        self,
        org: OrgPlan,
        kind: str,
        title: str,
        day: dt.date,
        invited: list[tuple[int, str, bool]],
        *,
        retired: bool,
        chair: int | None,
        recorder: int | None,
        held: bool | None = None,
        quorum: Fraction | None = None,
        below_quorum: bool = False,
        **extra: Any,
    ) -> MeetingPlan:
        rng = self.rng
        held = day < self.ref if held is None else held
        start = self.at(day, 9 * 60 if retired else 15 * 60 + 30)
        ends = start + dt.timedelta(minutes=_MINUTES_LONG.get(kind, 60))
        notice_day = min(day - days(rng.randint(3, 7)), self.ref - days(1))
        attendance = self.attend(
            invited, day, held=held, retired=retired, quorum=quorum, below_quorum=below_quorum
        )
        topics = tuple(rng.sample(data.MEETING_TOPICS[kind], min(2, len(data.MEETING_TOPICS[kind]))))
        if kind == PARTY_LECTURE and extra.get("lecture_title"):
            topics = (f"党课：{extra['lecture_title']}", topics[1])
        m = MeetingPlan(
            org_code=org.code,
            kind=kind,
            title=title,
            state=HELD if held else PLANNED,
            starts_at=start,
            ends_at=ends,
            place=rng.choice(data.MEETING_PLACES),
            topics=topics,
            notice_at=self.at(notice_day, 9 * 60 + rng.randint(0, 90)),
            chair_key=chair,
            recorder_key=recorder,
            attendance=attendance,
            **extra,
        )
        if held:
            present = [a.person_key for a in attendance if a.state == PRESENT]
            speakers = rng.sample(present, min(len(present), rng.randint(1, 3)))
            m.speeches = tuple((k, rng.choice(data.MEETING_SPEECHES)) for k in speakers)
            resolutions = data.MEETING_RESOLUTIONS[kind]
            m.resolutions = tuple(rng.sample(resolutions, min(len(resolutions), rng.randint(1, 2))))
            last = min(self.within.shift(day), self.ref - days(1))
            recorded = day + days(rng.randint(0, max(0, (last - day).days)))
            m.recorded_at = self.at(recorded, 17 * 60 + rng.randint(0, 120))
            if recorded == day:
                m.recorded_at = max(m.recorded_at, ends + dt.timedelta(minutes=30))
        return m

    # The school --------------------------------------------------------------------------------------
    def plan(self) -> None:
        school = self.school
        lapse_branch = self.gaps.get("lapse")
        if lapse_branch:
            ordinary = [
                p
                for p in school.people
                if p.branch_code == lapse_branch
                and p.status == FULL_MEMBER
                and p.key not in self.holders
                and p.joined_on is not None
                and p.joined_on < self.lapse_from
            ]
            ordinary.sort(key=lambda p: (p.employment != "in_service", p.key))
            if ordinary:
                school.lapsed_key = ordinary[0].key
        for branch in (o for o in school.orgs if o.kind == BRANCH):
            self.branch(branch)

    def branch(self, branch: OrgPlan) -> None:
        school, rules, ref = self.school, self.rules, self.ref
        people = [p for p in school.people if p.branch_code == branch.code]
        if not any(status_on(p, ref) in MEMBER_STATUS for p in people):
            return
        retired = branch.name == data.RETIRED_BRANCH
        posts = self.posts.get(branch.code, {})
        secretary = posts.get("secretary", [None])[0]
        seats = list(dict.fromkeys(k for role in COMMITTEE_POSTS for k in posts.get(role, [])))
        has_committee = any(posts.get(role) for role in COMMITTEE_ONLY_POSTS)
        officer = next((k for role in COMMITTEE_ONLY_POSTS for k in posts.get(role, [])), None)
        gap = {g for g, code in self.gaps.items() if code == branch.code}
        out = school.meetings

        def recorder(day: dt.date) -> int | None:
            if officer is not None:
                return officer
            pool = [p.key for p in self.members_on(people, day) if p.key != secretary]
            return self.rng.choice(pool) if pool else secretary

        # Assemblies: a closed quarter of this year without one, and one below quorum, where planted.
        assembly_quorum: Fraction = rules.value("general_assembly.quorum")
        freq = _frequency(rules, "general_assembly.period")
        slots = self.slots(freq, GENERAL_ASSEMBLY) if freq else []
        skipped: dt.date | None = None
        short: dt.date | None = None
        if "assembly_missing" in gap:
            held = [d for d, _ in slots if d < ref]
            this_year = [d for d in held if d.year == ref.year and self._period_closed(freq, d)]
            if this_year or held:
                skipped = (this_year or held)[-1]
        if "assembly_quorum" in gap:
            others = [d for d, _ in slots if d < ref and d != skipped]
            this_year = [d for d in others if d.year == ref.year]
            if this_year or others:
                short = (this_year or others)[0]
        for day, label in slots:
            if day == skipped:
                continue
            invited = self.invitees(people, day, voting=True)
            if invited:
                out.append(
                    self.meeting(
                        branch,
                        GENERAL_ASSEMBLY,
                        f"{label}支部党员大会",
                        day,
                        invited,
                        retired=retired,
                        chair=secretary,
                        recorder=recorder(day),
                        quorum=assembly_quorum,
                        below_quorum=day == short,
                    )
                )

        # Committee meetings: the current committee (the demo keeps no earlier term's posts: its members
        # are taken to have served before, re-elected).
        freq = _frequency(rules, "committee_meeting.period")
        if has_committee and freq:
            quorum: Fraction = rules.value("committee_meeting.quorum")
            invited = [(k, "committee", True) for k in seats]
            for day, label in self.slots(freq, COMMITTEE_MEETING):
                out.append(
                    self.meeting(
                        branch,
                        COMMITTEE_MEETING,
                        f"{label}支部委员会会议",
                        day,
                        invited,
                        retired=retired,
                        chair=secretary,
                        recorder=officer,
                        quorum=quorum,
                    )
                )

        # Group meetings, each group's own members.
        freq = _frequency(rules, "group_meeting.period")
        for group in (o for o in school.orgs if o.parent_code == branch.code and o.kind == GROUP):
            in_group = [p for p in people if p.group_code == group.code]
            leader = self.posts.get(group.code, {}).get("group_leader", [None])[0]
            for day, label in self.slots(freq, GROUP_MEETING) if freq else []:
                invited = self.invitees(in_group, day, voting=False)
                if not invited:
                    continue
                pool = [k for k, _, _ in invited if k != leader] or [k for k, _, _ in invited]
                out.append(
                    self.meeting(
                        group,
                        GROUP_MEETING,
                        f"{label}{group.name}会议",
                        day,
                        invited,
                        retired=retired,
                        chair=leader,
                        recorder=self.rng.choice(pool),
                    )
                )

        self.lectures(branch, people, secretary, retired, recorder, "secretary_lecture" in gap)
        self.theme_days(branch, people, secretary, retired, recorder)
        self.life_meetings(branch, people, secretary, officer, seats, has_committee, retired, recorder, gap)
        if "minutes_missing" in gap:
            when = self.workday_near(ref - days(_MINUTES_GAP_DAYS), ref - days(_MINUTES_GAP_DAYS + 6), ref)
            if when is not None and when < ref:
                out.append(
                    self.meeting(
                        branch,
                        STUDY_SESSION,
                        f"{when.year}年{when.month}月集中学习",
                        when,
                        self.invitees(people, when, voting=False),
                        retired=retired,
                        chair=secretary,
                        recorder=recorder(when),
                        held=False,
                    )
                )

    def _period_closed(self, freq: Frequency | None, day: dt.date) -> bool:
        if freq is None:
            return False
        return any(p.start <= day <= p.end and p.end < self.ref for p in self.periods(freq))

    def lectures(
        self,
        branch: OrgPlan,
        people: list[PersonPlan],
        secretary: int | None,
        retired: bool,
        recorder: Callable[[dt.date], int | None],
        no_secretary: bool,
    ) -> None:
        rng, rules, ref = self.rng, self.rules, self.ref
        freq = _frequency(rules, "party_lecture.period")
        if freq is None:
            return
        slots = self.slots(freq, PARTY_LECTURE)
        per_year = _frequency(rules, "party_lecture.secretary_per_year")
        by_secretary: set[dt.date] = set()
        if per_year is not None and secretary is not None:
            for year in {d.year for d, _ in slots}:
                if no_secretary and year == ref.year:
                    continue
                # Among those held by the reference date, when the year has any.
                mine = [d for d, _ in slots if d.year == year and d < ref] or [
                    d for d, _ in slots if d.year == year
                ]
                by_secretary |= set(rng.sample(mine, min(len(mine), per_year.count)))
        seniors = sorted(
            (p for p in people if p.status == FULL_MEMBER and p.key != secretary),
            key=lambda p: (p.birth_date, p.key),
        )[:4]
        for day, label in slots:
            lecturer: int | None = None
            lecturer_name = ""
            if day in by_secretary:
                lecturer = secretary
            else:
                roll = rng.random()
                if self.school_secretary is not None and self.school_secretary != secretary and roll < 0.4:
                    lecturer = self.school_secretary
                elif seniors and roll < 0.75:
                    lecturer = rng.choice(seniors).key
                else:
                    lecturer_name = rng.choice(data.OUTSIDE_LECTURERS)
            activists = not retired and rng.random() < 0.5
            lecture_title = rng.choice(data.LECTURE_TITLES)
            self.school.meetings.append(
                self.meeting(
                    branch,
                    PARTY_LECTURE,
                    f"{label}党课",
                    day,
                    self.invitees(people, day, voting=False, activists=activists),
                    retired=retired,
                    chair=secretary,
                    recorder=recorder(day),
                    lecturer_key=lecturer,
                    lecturer_name=lecturer_name,
                    lecture_title=lecture_title,
                    include_activists=activists,
                )
            )

    def theme_days(
        self,
        branch: OrgPlan,
        people: list[PersonPlan],
        secretary: int | None,
        retired: bool,
        recorder: Callable[[dt.date], int | None],
    ) -> None:
        freq = _frequency(self.rules, "theme_day.period")
        if freq is None:
            return
        for day, label in self.slots(freq, THEME_DAY):
            invited = self.invitees(people, day, voting=False)
            if not invited:
                continue
            theme = self.rng.choice(data.THEME_DAY_TITLES)
            self.school.meetings.append(
                self.meeting(
                    branch,
                    THEME_DAY,
                    f"{label}{theme}",
                    day,
                    invited,
                    retired=retired,
                    chair=secretary,
                    recorder=recorder(day),
                )
            )

    def life_meetings(
        self,
        branch: OrgPlan,
        people: list[PersonPlan],
        secretary: int | None,
        officer: int | None,
        seats: list[int],
        has_committee: bool,
        retired: bool,
        recorder: Callable[[dt.date], int | None],
        gap: set[str],
    ) -> None:
        """The life meeting of each year whose usual quarter (before the reference date) lies in the
        window: last year's when the reference date is early in the year, this year's once its quarter
        has come; the talks before it, and this year's talks when its life meeting is still to come."""
        rng, rules, ref = self.rng, self.rules, self.ref
        count = rules.values.get("life_meeting.min_per_year")
        quarter = rules.values.get("life_meeting.usual_quarter")
        talked_this_year = False
        for year in (ref.year - 1, ref.year):
            if not isinstance(count, int) or count < 1:
                break
            q = quarter if isinstance(quarter, int) and 1 <= quarter <= 4 else 4
            lo = max(dt.date(year, 3 * q - 2, 1), self.window_start)
            hi = min(add_months(dt.date(year, 3 * q - 2, 1), 3) - days(1), ref - days(7))
            if lo > hi:
                continue
            span = (hi - lo).days
            for i in range(count):
                preferred = lo + days(span * (2 * i + 1) // (2 * count))
                day = self.workday_near(preferred, lo, hi)
                if day is None:
                    continue
                invited = self.invitees(people, day, voting=False)
                if not invited or secretary is None:
                    continue
                suffix = f"（第{chinese_number(i + 1)}次）" if count > 1 else ""
                m = self.meeting(
                    branch,
                    LIFE_MEETING,
                    f"{year}年度组织生活会{suffix}",
                    day,
                    invited,
                    retired=retired,
                    chair=secretary,
                    recorder=recorder(day),
                )
                present = [
                    a.person_key for a in m.attendance if a.state == PRESENT and a.person_key != secretary
                ]
                crit = [CriticismPlan("opinion", t) for t in rng.sample(data.CRITICISM_OPINIONS, 2)]
                crit.append(CriticismPlan("self", rng.choice(data.SELF_CRITICISMS), speaker_key=secretary))
                for k in rng.sample(present, min(3, len(present))):
                    crit.append(CriticismPlan("self", rng.choice(data.SELF_CRITICISMS), speaker_key=k))
                for a, b in itertools.pairwise(present[:3]):
                    crit.append(CriticismPlan("mutual", rng.choice(data.MUTUAL_CRITICISMS), a, b))
                items = rng.sample(data.RECTIFICATION_ITEMS, 2)
                owners = (secretary, officer or secretary)
                rect = []
                for item, owner in zip(items, owners, strict=True):
                    due = day + days(rng.choice((60, 90)))
                    done = due - days(rng.randint(3, 20)) if due < ref else None
                    rect.append(RectificationPlan(item, owner, due, done))
                m.criticisms, m.rectifications = tuple(crit), tuple(rect)
                index = len(self.school.meetings)
                self.school.meetings.append(m)
                start = max(self.window_start, day - days(40), dt.date(year, 1, 1))
                if start < day:
                    self.talks(branch, people, seats, has_committee, start, day - days(1), index, gap, year)
                    talked_this_year |= year == ref.year
        first = dt.date(ref.year, 1, 1)
        if not talked_this_year and first < ref:
            self.talks(branch, people, seats, has_committee, first, ref - days(1), None, gap, ref.year)

    def talks(
        self,
        branch: OrgPlan,
        people: list[PersonPlan],
        seats: list[int],
        has_committee: bool,
        lo: dt.date,
        hi: dt.date,
        life_meeting: int | None,
        gap: set[str],
        year: int,
    ) -> None:
        """The year's talks as zhibu.compliance.facts.talk_facts counts them: every pair of the committee,
        each other member with a seat holder, and the other members two by two (some left out where the
        coverage gap is planted)."""
        rng = self.rng
        joined: dict[int, dt.date] = {
            p.key: p.joined_on
            for p in people
            if p.status in MEMBER_STATUS and p.joined_on is not None and p.joined_on <= hi
        }
        for k in seats:
            joined.setdefault(k, lo)
        committee = seats if has_committee else []
        others = [k for k in joined if k not in seats]
        short = "talk_coverage" in gap and year == self.ref.year

        def add(a: int, b: int, relation: str) -> None:
            first = max(lo, joined[a], joined[b])
            day = first + days(rng.randint(0, (hi - first).days))
            self.school.talks.append(
                TalkPlan(
                    branch.code,
                    day,
                    a,
                    b,
                    relation,
                    rng.choice(data.TALK_TOPICS),
                    rng.choice(data.TALK_SUMMARIES),
                    life_meeting,
                )
            )

        for i, a in enumerate(committee):
            for b in committee[i + 1 :]:
                add(a, b, "committee_committee")
        with_committee = others[:-3] if short else others
        for i, k in enumerate(with_committee):
            if seats:
                add(seats[i % len(seats)], k, "committee_member")
        pool = others[:-2] if short else list(others)
        rng.shuffle(pool)
        if len(pool) >= 2:
            for i in range(0, len(pool) - 1, 2):
                add(pool[i], pool[i + 1], "member_member")
            if len(pool) % 2:
                add(pool[-1], pool[0], "member_member")


def _share_target(people: list[PersonPlan]) -> Decimal:
    """A target for the share of backbone teachers among members: today's share (retirees counted, as the
    plan page counts them) rounded down to 5 %, plus 10 points."""
    members = [p for p in people if p.status in (FULL_MEMBER, PROBATIONARY)]
    share = 100 * sum(1 for p in members if p.backbone_teacher) // max(1, len(members))
    return Decimal(5 * (share // 5) + 10).quantize(Decimal("0.1"))


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _school_names(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """`count` unique (short name, type) of schools; the first is always 第一中学."""
    pool: list[tuple[str, str]] = [(f"第{chinese_number(i)}中学", "middle") for i in range(2, 41)]
    pool += [(f"第{chinese_number(i)}小学", "primary") for i in range(1, 41)]
    pool += [(f"第{chinese_number(i)}幼儿园", "kindergarten") for i in range(1, 11)]
    pool += list(data.SPECIAL_SCHOOLS)
    for place in data.PLACES:
        pool.append((f"{place}小学", "primary"))
        pool.append((rng.choice((f"{place}中学", f"{place}初级中学", f"{place}实验学校")), "middle"))
        if rng.random() < 0.4:
            pool.append((f"{place}幼儿园", "kindergarten"))
        if rng.random() < 0.25:
            pool.append((f"{place}第二小学", "primary"))
    rng.shuffle(pool)
    names = [("第一中学", "middle"), *pool][:count]
    n = 41
    while len(names) < count:  # more schools than names: keep numbering
        names.append((f"第{chinese_number(n)}小学", "primary"))
        n += 1
    return names


def plan_district(
    *,
    schools: int,
    seed: int,
    district: int = 1,
    reference_date: dt.date = REFERENCE_DATE,
    rules: DevelopmentRules | None = None,
    add_workdays: WorkdayAdder | None = None,
    is_workday: Callable[[dt.date], bool] | None = None,
) -> DistrictPlan:
    """The whole demo district, deterministic in its arguments; nothing is written, no database is read.

    `rules`: the development rules to keep (default: the national pack's). `add_workdays`: the official
    calendar's working-day arithmetic (build.py passes WorkdayCalendar's); without it, Monday to Friday
    as an estimate, as zhibu.compliance.values does. `is_workday`: the official calendar's working days
    for meetings (default: Monday to Friday)."""
    if not 1 <= schools <= 2000:
        raise ValueError("schools must be between 1 and 2000")
    planner = _Planner(
        seed=seed,
        district=district,
        ref=reference_date,
        rules=rules or DevelopmentRules.national(),
        add_workdays=add_workdays or weekday_add,
        is_workday=is_workday or (lambda day: day.weekday() < 5),
    )
    root_code, prefix = codes_for(district)
    district_name = data.DISTRICTS[(district - 1) % len(data.DISTRICTS)]
    if district > len(data.DISTRICTS):
        district_name = f"{district_name.removesuffix('区')}{chinese_number(district)}区"
    root = OrgPlan(
        code=root_code,
        name=f"{district_name}教育工作委员会",
        short_name=f"{district_name}教育工委",
        kind=WORK_COMMITTEE,
        parent_code=None,
        path=f"/{root_code}/",
        sort_order=district,
        established_on=dt.date(1998, 6, 1),
    )
    names = _school_names(planner.rng, schools)
    school_plans = [
        planner.school(i, short, kind, root, prefix) for i, (short, kind) in enumerate(names, start=1)
    ]
    return DistrictPlan(
        seed=seed,
        district=district,
        reference_date=reference_date,
        root=root,
        schools=school_plans,
        logins=_logins(root, school_plans[0], district),
    )


def _logins(root: OrgPlan, school: SchoolPlan, district: int) -> list[LoginPlan]:
    """The five demo accounts, all in school 1."""
    first_branch = school.orgs[1]
    by_key = {p.key: p for p in school.people}
    school_secretary = next(
        by_key[x.person_key]
        for x in school.posts
        if x.org_code == school.school.code and x.role == "secretary"
    )
    branch_secretary = next(
        by_key[x.person_key]
        for x in school.posts
        if x.org_code == first_branch.code and x.role == "secretary"
    )
    holders = {x.person_key for x in school.posts}
    member = next(
        p
        for p in school.people
        if p.branch_code == first_branch.code
        and p.status == FULL_MEMBER
        and p.employment == "in_service"
        and p.relationship_transferred_in
        and p.key not in holders
    )
    activist = next(p for p in school.people if p.branch_code == first_branch.code and p.status == ACTIVIST)
    branch_where = branch_label(school.school.short_name, first_branch.name)
    u = lambda base: login_username(base, district)  # noqa: E731
    return [
        LoginPlan(u("wc_staff"), None, describe("wc_staff", ""), root.name, grant_org_code=root.code),
        LoginPlan(
            u("school_secretary"),
            school_secretary.key,
            describe("school_secretary", school_secretary.name, KIND_LABEL[school.school.kind]),
            school.school.name,
            reveal_id=True,
        ),
        LoginPlan(
            u("branch_secretary"),
            branch_secretary.key,
            describe("branch_secretary", branch_secretary.name),
            branch_where,
        ),
        LoginPlan(u("member"), member.key, describe("member", member.name), branch_where),
        LoginPlan(u("activist"), activist.key, describe("activist", activist.name), branch_where),
    ]


def branch_label(school_short: str, branch_name: str) -> str:
    return f"{school_short}{branch_name}"


def describe(base: str, name: str, kind_label: str = "党委") -> str:
    """Who a demo account is, in Chinese ("党委书记 王建国")."""
    role = {
        "wc_staff": "教育工委工作人员",
        "school_secretary": f"{kind_label}书记",
        "branch_secretary": "支部书记",
        "member": "党员",
        "activist": "入党积极分子",
    }[base]
    return f"{role} {name}".strip()
