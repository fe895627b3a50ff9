"""Star rating: a branch's stars from a stored run's findings, by the scoring table of its policy."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_org, make_person
from zhibu.compliance.models import PolicyAssignment, PolicyOverride
from zhibu.compliance.packs import load_packs
from zhibu.compliance.rating import branch_rating, ratings_under, run_ratings, stars_for
from zhibu.compliance.services import evaluation_run
from zhibu.orgs.models import OrgKind

REPO_POLICIES = Path(__file__).resolve().parents[2] / "policies"
BANDS = [Decimal(90), Decimal(80), Decimal(70)]


@pytest.fixture(autouse=True)
def _structure_rules_only(world):  # type: ignore[no-untyped-def]
    """These tests exercise the scoring on the structure rules; the organisational-life rules (violated
    for branches that recorded no meetings) are rated in tests/life/test_findings.py."""
    lib = load_packs(REPO_POLICIES)
    for key in lib.national.parameters:
        if key.startswith("star_rating.weight.life."):
            PolicyOverride.objects.create(org=world.wc, key=key, value=0)


def _evaluate(world, scope_of, org=None):  # type: ignore[no-untyped-def]
    user = world.users.wc_staff
    return evaluation_run(
        actor=user, scope=scope_of(user), org=org or world.wc, year=2026, today=dt.date(2026, 6, 30)
    )


def _line(rating, rule_id):  # type: ignore[no-untyped-def]
    return next(x for x in (*rating.lines, *rating.unrated) if x.rule_id == rule_id)


def test_a_violated_rule_costs_its_whole_weight(world, scope_of):
    run = _evaluate(world, scope_of)
    rating = branch_rating(run, world.sa_b2)  # SA-B2 has no secretary
    line = _line(rating, "org.secretary_in_post")
    assert line.state == "violated" and line.weight == 20 and line.points == 0
    assert "书记" in line.message
    assert rating.points == sum(x.points for x in rating.lines)
    assert rating.max_points == sum(x.weight for x in rating.lines)
    assert rating.score == Decimal("56.3")  # 45 of 80, half up


def test_an_overdue_rule_costs_half_its_weight(world, scope_of):
    from zhibu.orgs.models import CommitteeTerm

    CommitteeTerm.objects.create(org=world.sa_b1, started_on=dt.date(2022, 9, 1), length_years=3)
    rating = branch_rating(_evaluate(world, scope_of), world.sa_b1)
    line = _line(rating, "org.term_expiry")
    assert line.state == "overdue" and line.points == Decimal(5)


def test_unknown_rules_are_left_out_of_the_score_and_listed_never_counted_as_passed(world, scope_of):
    run = _evaluate(world, scope_of)
    rating = branch_rating(run, world.sa_b1)  # no term record, no dues yet: two rules unknown
    unrated = {x.rule_id for x in rating.unrated}
    assert unrated == {"org.term_expiry", "member.lapse"}
    assert all(x.state != "unknown" for x in rating.lines)
    assert rating.max_points == 80 and rating.points == 80 and rating.score == 100
    lapse = _line(rating, "member.lapse")
    assert lapse.points == 0 and "李红梅" not in lapse.message  # people are counted, not named


def test_a_score_exactly_on_a_threshold_reaches_the_band():
    assert stars_for(Decimal(90), BANDS) == 5
    assert stars_for(Decimal("89.9"), BANDS) == 4
    assert stars_for(Decimal(80), BANDS) == 4
    assert stars_for(Decimal(70), BANDS) == 3
    assert stars_for(Decimal("69.9"), BANDS) == 2
    assert stars_for(Decimal(0), [*BANDS, Decimal(60)]) == 1


def test_bands_set_for_a_school_apply_to_its_branches_and_a_disordered_table_rates_nothing(world, scope_of):
    PolicyOverride.objects.create(org=world.sa, key="star_rating.band_min_scores", value=[100, 90, 80, 50])
    PolicyOverride.objects.create(org=world.wc, key="star_rating.five_star_max_share", value="1/1")
    run = _evaluate(world, scope_of)
    ratings = run_ratings(run)
    assert ratings[world.sa_b1.pk].score == 100 and ratings[world.sa_b1.pk].stars == 5  # exactly 100
    assert ratings[world.sa_b2.pk].stars == 2  # 56.3 ≥ 50
    PolicyOverride.objects.filter(org=world.sa).update(value=[70, 80, 90])
    rating = run_ratings(run)[world.sa_b1.pk]
    assert rating.stars is None and rating.band_label == "未评定"
    assert "从高到低" in rating.notes[0]


def test_five_stars_beyond_the_quota_go_to_the_lowest_scores_with_the_reason(world, scope_of):
    PolicyOverride.objects.create(org=world.wc, key="star_rating.band_min_scores", value=[50, 40, 30])
    PolicyOverride.objects.create(org=world.wc, key="star_rating.five_star_max_share", value="1/2")
    run = _evaluate(world, scope_of)
    ratings = run_ratings(run)
    # Scores 100 (SA-B1), 81.3 (SB-B1), 56.3 (SA-B2): all five-star; half of three allows one.
    assert ratings[world.sa_b1.pk].stars == 5 and not ratings[world.sa_b1.pk].demoted
    for branch in (world.sb_b1, world.sa_b2):
        demoted = ratings[branch.pk]
        assert demoted.stars == 4 and demoted.demoted
        assert "五星比例上限为 1/2" in demoted.notes[-1] and "调为四星" in demoted.notes[-1]


def test_the_example_quota_of_the_national_pack_demotes_a_lone_five_star_branch(world, scope_of):
    ratings = run_ratings(_evaluate(world, scope_of))
    assert ratings[world.sa_b1.pk].score == 100
    assert ratings[world.sa_b1.pk].stars == 4 and ratings[world.sa_b1.pk].demoted  # 3/10 of 3 → none


@pytest.fixture
def overlay_lib(tmp_path):  # type: ignore[no-untyped-def]
    shutil.copy(REPO_POLICIES / "national.yaml", tmp_path / "national.yaml")
    (tmp_path / "city.yaml").write_text(
        "pack: city\ntitle: 某市评星办法\nextends: national\nparameters:\n"
        "  star_rating.weight.org.secretary_in_post: {value: 0}\n"
        "  star_rating.weight.org.branch_min_full_members: {value: 40}\n"
        "  star_rating.band_min_scores: {value: [95, 85, 75, 60]}\n",
        encoding="utf-8",
    )
    return load_packs(tmp_path)


def test_an_overlay_pack_changes_weights_and_bands(world, scope_of, overlay_lib):
    PolicyAssignment.objects.create(org=world.sa, pack_name="city")
    run = _evaluate(world, scope_of)
    ratings = run_ratings(run, lib=overlay_lib)
    b2 = ratings[world.sa_b2.pk]
    assert "org.secretary_in_post" not in {x.rule_id for x in (*b2.lines, *b2.unrated)}
    assert _line(b2, "org.branch_min_full_members").weight == 40
    assert b2.stars == 1  # below the overlay's last band (60)
    national = ratings[world.sb_b1.pk]  # school B keeps the national example
    assert _line(national, "org.secretary_in_post").weight == 20


def test_a_school_value_overrides_one_weight(world, scope_of):
    PolicyOverride.objects.create(org=world.sa, key="star_rating.weight.org.secretary_in_post", value=50)
    rating = run_ratings(_evaluate(world, scope_of))[world.sa_b2.pk]
    assert _line(rating, "org.secretary_in_post").weight == 50


def test_rating_many_branches_takes_a_fixed_number_of_queries(world, scope_of):
    def count() -> int:
        run = _evaluate(world, scope_of)
        with CaptureQueriesContext(connection) as ctx:
            run_ratings(run)
        return len(ctx.captured_queries)

    small = count()
    for i in range(6):
        school = make_org(f"SX{i}", f"学校{i}", OrgKind.COMMITTEE, world.wc, is_school=True)
        for j in range(2):
            branch = make_org(f"SX{i}-B{j}", "党支部", OrgKind.BRANCH, school)
            make_person(f"党员{i}{j}", branch)
    assert count() == small


def test_ratings_under_a_school_are_sorted_and_distributed(world, scope_of):
    ratings, dist = ratings_under(_evaluate(world, scope_of), world.sa)
    assert [r.org.code for r in ratings] == ["SA-B1", "SA-B2"]
    assert dist.counts[4] == 1 and dist.counts[2] == 1 and dist.unrated == 0


def test_the_branch_board_shows_its_stars_and_the_breakdown(world, scope_of, client_as):
    _evaluate(world, scope_of)
    html = client_as(world.users.branch_secretary).get("/policy/board/SA-B1/?year=2026").content.decode()
    assert "评星定级" in html and "★★★★☆" in html and "四星" in html
    assert "未能评定的项目" in html and "调为四星" in html
    assert "党支部现有正式党员 3 名" in html  # the breakdown's message


def test_the_school_board_shows_the_distribution_and_list(world, scope_of, client_as):
    _evaluate(world, scope_of)
    html = client_as(world.users.school_secretary).get("/policy/board/SA/?year=2026").content.decode()
    rating = html.split('id="rating"')[1]
    assert "四星 1 个" in rating and "二星 1 个" in rating
    assert "/policy/board/SA-B1/" in rating and "SB-B1" not in rating


def test_a_member_who_sees_only_their_own_findings_sees_no_rating(world, scope_of, client_as):
    _evaluate(world, scope_of)
    client = client_as(world.users.member)
    html = client.get("/policy/board/SA-B1/?year=2026").content.decode()
    assert "评星定级" not in html and "李红梅" not in html
    assert client_as(world.users.outsider).get("/policy/board/SA-B1/?year=2026").status_code == 404


def test_the_national_weights_name_national_rules_and_say_they_are_an_example():
    national = load_packs(REPO_POLICIES).national
    weights = [k for k in national.parameters if k.startswith("star_rating.weight.")]
    assert weights
    for key in weights:
        assert key.removeprefix("star_rating.weight.") in national.rules, key
    for key, param in national.parameters.items():
        if key.startswith("star_rating."):
            assert "示例" in param.note and param.confidence == "L", key
