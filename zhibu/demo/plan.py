"""The demo district as a plan: a pure, deterministic function of (schools, seed, district).

Nothing here touches the database or the clock; `build.py` writes a plan. Same arguments, equal plan.
Dates are relative to REFERENCE_DATE, never to today.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from zhibu.core import idcard
from zhibu.demo import data

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


@dataclass(slots=True)
class SchoolPlan:
    number: int
    orgs: list[OrgPlan]  # the school, its branches, then their groups
    terms: list[TermPlan]
    people: list[PersonPlan]
    posts: list[PostPlan]

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
# The planner


class _Planner:
    def __init__(self, *, seed: int, district: int, ref: dt.date) -> None:
        self.rng = random.Random(seed if district == 1 else f"{seed}:{district}")
        self.ref = ref
        self.district = district
        self.next_key = 0
        self.id_numbers: set[str] = set()

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

    def pipeline_before(self, joined: dt.date) -> tuple[dt.date, dt.date, dt.date]:
        """(applied, activist, candidate) dates leading up to joining on `joined`."""
        candidate = joined - days(self.rng.randint(90, 240))
        activist = candidate - days(self.rng.randint(366, 540))
        applied = activist - days(self.rng.randint(30, 240))
        return applied, activist, candidate

    def member_dates(self, p: PersonPlan, *, latest_confirm: dt.date, join_age: tuple[int, int]) -> None:
        """Key dates of someone who became a full member no later than `latest_confirm`."""
        born = p.birth_date
        joined = add_years(born, self.rng.randint(*join_age)) + days(self.rng.randint(0, 300))
        limit = add_years(latest_confirm, -1)
        if joined > limit:
            joined = limit - days(self.rng.randint(0, 60))
        p.applied_on, p.activist_on, p.candidate_on = self.pipeline_before(joined)
        p.joined_on = joined
        p.confirmed_on = add_years(joined, 1)

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
            CANDIDATE: max(1, round(n * rng.uniform(0.02, 0.05))),
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
                if status == PROBATIONARY:
                    p.joined_on = ref - days(rng.randint(20, 355))
                    p.applied_on, p.activist_on, p.candidate_on = self.pipeline_before(p.joined_on)
                elif status == CANDIDATE:
                    p.candidate_on = ref - days(rng.randint(20, 330))
                    p.activist_on = p.candidate_on - days(rng.randint(366, 540))
                    p.applied_on = p.activist_on - days(rng.randint(30, 240))
                elif status == ACTIVIST:
                    p.activist_on = ref - days(rng.randint(20, 700))
                    p.applied_on = p.activist_on - days(rng.randint(30, 240))
                else:
                    p.applied_on = ref - days(rng.randint(15, 400))
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
        for p in in_service:
            if rng.random() < (0.2 if p.status in (ACTIVIST, CANDIDATE) else 0.14):
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
        return SchoolPlan(
            number=number,
            orgs=[school_org, *branches, *groups],
            terms=terms,
            people=people,
            posts=posts,
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
    *, schools: int, seed: int, district: int = 1, reference_date: dt.date = REFERENCE_DATE
) -> DistrictPlan:
    """The whole demo district, deterministic in its arguments; nothing is read or written."""
    if not 1 <= schools <= 2000:
        raise ValueError("schools must be between 1 and 2000")
    planner = _Planner(seed=seed, district=district, ref=reference_date)
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
