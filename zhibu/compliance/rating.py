"""Star rating (评星定级) of branches from the findings of a stored run, by the scoring table of the pack.

There is no national scheme: the `star_rating.*` parameters of the national pack are a neutral example
that a locality's pack (or a school's own values) replaces. The table: a weight per rule
(`star_rating.weight.<rule id>`), the share of the weight a state costs (`star_rating.cost.<state>`,
ok and not applicable cost nothing), the minimum scores of the bands (`star_rating.band_min_scores`,
five stars first) and optionally a cap on the share of five-star branches (`star_rating.five_star_max_share`).

Decisions: a rule's state for a branch is the worst among the findings under it (its groups and people
included); a known fault (violated, overdue) outweighs missing records, and otherwise any "unknown"
makes the rule unrated: left out of the score and the maximum and listed as 未能评定的项目, never a pass.
A rule about development cases that found no case under a branch takes no part in its rating (a branch
without applicants is neither better nor worse for it); so does a rule about meetings that found no meeting
(the frequency rules judge a branch that held none), and a rule about orgs of other kinds (党小组) where
the branch has none.
The score is the points earned as a share of the points at stake, on a 100-point scale; a score exactly
on a threshold reaches the band ("以上" includes the number itself). The quota counts the rated branches
of one work committee within the run (floor of the share) and demotes the lowest-scoring five-star
branches beyond it to four stars.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

from django.db.models import Count

from zhibu.compliance import packs
from zhibu.compliance.kinds import STATES
from zhibu.compliance.models import EvaluationRun, Finding
from zhibu.compliance.packs import EffectivePolicy
from zhibu.compliance.values import Fraction
from zhibu.orgs.models import Organization, OrgKind

WEIGHT = "star_rating.weight."
COST = "star_rating.cost."
BANDS = "star_rating.band_min_scores"
QUOTA = "star_rating.five_star_max_share"
STAR_LABELS = {5: "五星", 4: "四星", 3: "三星", 2: "二星", 1: "一星"}
UNRATED_LABEL = "未评定"
# Worst first; "unknown" sits below the known faults and above everything that would count as a pass.
_WORST_FIRST = ("violated", "overdue", "unknown", "due_soon", "ok", "not_applicable")


@dataclass(frozen=True)
class RuleScore:
    """One weighted rule in a branch's breakdown."""

    rule_id: str
    title: str
    state: str
    weight: int
    points: Decimal  # earned; 0 for an unrated rule
    message: str = ""
    findings: int = 0

    @property
    def state_label(self) -> str:
        return STATES.get(self.state, self.state)

    @property
    def rated(self) -> bool:
        return self.state != "unknown"


@dataclass(frozen=True)
class Rating:
    """A branch's stars with how they came about; `stars` is None when nothing could be rated."""

    org: Organization
    stars: int | None
    score: Decimal  # on a 100-point scale
    points: Decimal
    max_points: int
    lines: tuple[RuleScore, ...]  # rated rules, in pack order
    unrated: tuple[RuleScore, ...]  # 未能评定的项目
    notes: tuple[str, ...] = ()  # demotion by quota, a faulty band table
    demoted: bool = False

    @property
    def band_label(self) -> str:
        return STAR_LABELS[self.stars] if self.stars else UNRATED_LABEL

    @property
    def stars_text(self) -> str:
        """★★★★☆ for four stars; "" when not rated."""
        return "★" * self.stars + "☆" * (5 - self.stars) if self.stars else ""


@dataclass
class Distribution:
    """How many branches hold each number of stars (five first), and those not rated."""

    counts: dict[int, int] = field(default_factory=lambda: dict.fromkeys(range(5, 0, -1), 0))
    unrated: int = 0

    def rows(self) -> list[tuple[str, int]]:
        return [(STAR_LABELS[s], n) for s, n in self.counts.items()] + [(UNRATED_LABEL, self.unrated)]


def _bands(policy: EffectivePolicy) -> tuple[list[Decimal], str]:
    """The thresholds, highest first, or an empty list and the fault (the branch is then not rated)."""
    raw = policy.values.get(BANDS) or ()
    try:
        bands = [Decimal(str(x)) for x in raw]
    except ArithmeticError:
        return [], "评星分档应为数字"
    if not 1 <= len(bands) <= 4:
        return [], "评星分档应有 1 至 4 个最低得分"
    if any(b <= c for b, c in pairwise(bands)):
        return [], "评星分档的最低得分应从高到低排列"
    return bands, ""


def stars_for(score: Decimal, bands: list[Decimal]) -> int:
    """Five stars from the first threshold reached (inclusive), one fewer for each further band."""
    for i, minimum in enumerate(bands):
        if score >= minimum:
            return 5 - i
    return 5 - len(bands)


def _rule_state(states: dict[str, int]) -> str:
    for state in _WORST_FIRST:
        if states.get(state):
            return state
    return "not_applicable"


def _score(
    org: Organization,
    policy: EffectivePolicy,
    by_rule: dict[str, dict[str, int]],
    titles: dict[str, str],
    messages: dict[str, str],
) -> Rating:
    lines: list[RuleScore] = []
    unrated: list[RuleScore] = []
    earned = Decimal(0)
    at_stake = 0
    for rule in policy.pack.rules.values():
        weight = policy.values.get(f"{WEIGHT}{rule.id}")
        if not weight:
            continue  # no weight: the rule takes no part in the rating
        states = by_rule.get(rule.id, {})
        title = titles.get(rule.id, rule.title)
        if not states and (
            rule.subject in ("case", "meeting")
            or (
                rule.subject == "org"
                and rule.applies_to.org_kinds
                and OrgKind.BRANCH not in rule.applies_to.org_kinds
            )
        ):
            continue  # no case, meeting or group under the branch that the rule judges: nothing to rate
        if not states:
            message = "本次检查没有该规则的结果"
            unrated.append(RuleScore(rule.id, title, "unknown", weight, Decimal(0), message))
            continue
        state = _rule_state(states)
        n = sum(states.values())
        message = messages.get(rule.id, "")
        if state == "unknown":
            unrated.append(RuleScore(rule.id, title, state, weight, Decimal(0), message, n))
            continue
        cost = Decimal(policy.values.get(f"{COST}{state}") or 0) / 100
        points = Decimal(weight) * (1 - cost)
        earned += points
        at_stake += weight
        lines.append(RuleScore(rule.id, title, state, weight, points, message, n))
    bands, fault = _bands(policy)
    notes = (fault,) if fault else ()
    if not at_stake or fault:
        return Rating(org, None, Decimal(0), earned, at_stake, tuple(lines), tuple(unrated), notes)
    score = (earned * 100 / at_stake).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return Rating(org, stars_for(score, bands), score, earned, at_stake, tuple(lines), tuple(unrated), notes)


def _allowed(share: Fraction, whole: int) -> int:
    """The most five-star branches `share` allows among `whole` (never rounded up)."""
    return max((k for k in range(whole + 1) if share.within_max(k, whole)), default=0)


def _apply_quota(ratings: list[Rating], share: Fraction) -> dict[int, Rating]:
    rated = [r for r in ratings if r.stars is not None]
    five = sorted((r for r in rated if r.stars == 5), key=lambda r: (-r.score, r.org.path))
    allowed = _allowed(share, len(rated))
    out: dict[int, Rating] = {}
    for r in five[allowed:]:
        note = (
            f"五星比例上限为 {share.num}/{share.den}（{len(rated)} 个支部中至多 {allowed} 个五星），"
            f"得分 {r.score} 排在限额之外，由五星调为四星"
        )
        out[r.org.pk] = replace(r, stars=4, demoted=True, notes=(*r.notes, note))
    return out


def _pool_of(org: Organization, work_committees: dict[str, Organization], root: Organization) -> Organization:
    for path in reversed(org.ancestor_paths()):
        if path in work_committees:
            return work_committees[path]
    return root


def run_ratings(
    run: EvaluationRun, *, with_messages_for: Organization | None = None, lib: packs.Library | None = None
) -> dict[int, Rating]:
    """Every branch of the run rated, quota applied, by branch id; a fixed number of queries whatever the
    number of branches (messages of the breakdown only for `with_messages_for`, one more query)."""
    root = run.root
    branches = list(
        Organization.objects.filter(path__startswith=root.path, kind=OrgKind.BRANCH).order_by("path")
    )
    if not branches:
        return {}
    work_committees = {
        o.path: o
        for o in Organization.objects.filter(
            path__in={p for b in branches for p in b.ancestor_paths()}, kind=OrgKind.WORK_COMMITTEE
        )
    }
    pools = {b.pk: _pool_of(b, work_committees, root) for b in branches}
    policies = packs.effective_policies([*branches, *{p.pk: p for p in pools.values()}.values()], lib=lib)
    # Counts per (org path, rule, state): a person's findings carry their branch's path.
    counts: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    titles: dict[str, str] = {}
    by_path = {b.path: b for b in branches}
    for row in (
        Finding.objects.filter(run=run, org_path__startswith=root.path)
        .values("org_path", "rule_id", "rule_title", "state")
        .annotate(n=Count("id"))
        .order_by()
    ):
        branch = _branch_of(row["org_path"], by_path)
        if branch is None:
            continue
        states = counts[branch.path][row["rule_id"]]
        states[row["state"]] = states.get(row["state"], 0) + row["n"]
        titles[row["rule_id"]] = row["rule_title"]
    messages = _messages(run, with_messages_for) if with_messages_for else {}
    ratings = {
        b.pk: _score(b, policies[b.pk], counts[b.path], titles, messages.get(b.pk, {})) for b in branches
    }
    by_pool: dict[int, list[Rating]] = defaultdict(list)
    for b in branches:
        by_pool[pools[b.pk].pk].append(ratings[b.pk])
    for pool_id, members in by_pool.items():
        share = policies[pool_id].values.get(QUOTA)
        if isinstance(share, Fraction):
            ratings.update(_apply_quota(members, share))
    return ratings


def _branch_of(path: str, by_path: dict[str, Organization]) -> Organization | None:
    parts = [p for p in path.split("/") if p]
    for i in range(len(parts), 0, -1):
        found = by_path.get("/" + "/".join(parts[:i]) + "/")
        if found is not None:
            return found
    return None


def _messages(run: EvaluationRun, branch: Organization) -> dict[int, dict[str, str]]:
    """For one branch: per rule the message of its worst finding. Findings about people are only
    counted, never named: the rating is shown to everyone who may see the branch's board, and a member
    sees no one else's findings."""
    worst: dict[str, tuple[int, str, str, int]] = {}
    for rule_id, state, message, subject_type in Finding.objects.filter(
        run=run, org_path__startswith=branch.path
    ).values_list("rule_id", "state", "message", "subject_type"):
        rank = _WORST_FIRST.index(state) if state in _WORST_FIRST else len(_WORST_FIRST)
        current = worst.get(rule_id)
        if current is None or rank < current[0]:
            worst[rule_id] = (rank, state, message if subject_type == "org" else "", 1)
        elif rank == current[0]:
            worst[rule_id] = (
                rank,
                state,
                current[2] or (message if subject_type == "org" else ""),
                current[3] + 1,
            )
    out: dict[str, str] = {}
    for rule_id, (_, state, message, n) in worst.items():
        label = STATES.get(state, state)
        out[rule_id] = message if message and n == 1 else message or f"{n} 项结果为“{label}”（详见明细）"
    return {branch.pk: out}


def branch_rating(run: EvaluationRun, branch: Organization, *, lib: packs.Library | None = None) -> Rating:
    """One branch's stars from a stored run, with the breakdown per rule (the quota needs every branch)."""
    return run_ratings(run, with_messages_for=branch, lib=lib)[branch.pk]


def ratings_under(
    run: EvaluationRun,
    org: Organization,
    *,
    visible: set[int] | None = None,
    lib: packs.Library | None = None,
) -> tuple[list[Rating], Distribution]:
    """The branches under `org` rated (best first) and how their stars are distributed."""
    ratings = [
        r
        for r in run_ratings(run, lib=lib).values()
        if r.org.path.startswith(org.path) and (visible is None or r.org.pk in visible)
    ]
    ratings.sort(key=lambda r: (-(r.stars or 0), -r.score, r.org.path))
    dist = Distribution()
    for r in ratings:
        if r.stars is None:
            dist.unrated += 1
        else:
            dist.counts[r.stars] += 1
    return ratings, dist
