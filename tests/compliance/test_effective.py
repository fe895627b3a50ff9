"""An org's effective policy: the nearest assigned pack, then stored overrides (nearest wins), in bulk."""

from __future__ import annotations

from tests.factories import make_org
from zhibu.compliance.models import PolicyAssignment, PolicyOverride
from zhibu.compliance.packs import effective_policies, effective_policy
from zhibu.orgs.models import Organization, OrgKind


def assign(org, pack):  # type: ignore[no-untyped-def]
    return PolicyAssignment.objects.create(org=org, pack_name=pack)


def override(org, key, value, note=""):  # type: ignore[no-untyped-def]
    return PolicyOverride.objects.create(org=org, key=key, value=value, note=note)


def test_every_org_uses_national_by_default(world):
    policy = effective_policy(world.sa_b1)
    assert policy.pack_name == "national"
    assert str(policy.value("general_assembly.period")) == "每季度 1 次"
    assert policy.origin("general_assembly.period") == "national"


def test_the_nearest_ancestor_with_a_pack_wins(world):
    assign(world.sa, "example.assembly_bimonthly")
    assign(world.sa_b1, "example.theme_day_15th")
    policies = effective_policies([world.sa, world.sa_b1, world.sa_b1_g1, world.sa_b2, world.sb_b1])
    assert policies[world.sa.pk].pack_name == "example.assembly_bimonthly"
    assert policies[world.sa_b2.pk].pack_name == "example.assembly_bimonthly"
    assert policies[world.sa_b1.pk].pack_name == "example.theme_day_15th"
    assert policies[world.sa_b1_g1.pk].pack_name == "example.theme_day_15th"
    assert policies[world.sb_b1.pk].pack_name == "national"
    sa_b2 = policies[world.sa_b2.pk]
    assert str(sa_b2.value("general_assembly.period")) == "每 2 个月 1 次"
    assert sa_b2.origin("general_assembly.period") == "example.assembly_bimonthly"
    assert sa_b2.origin("org.branch_max") == "national"


def test_a_stored_override_beats_the_pack(world):
    assign(world.sa, "example.assembly_bimonthly")
    override(world.sa, "general_assembly.period", {"count": 1, "per": "month"}, "本校计划")
    policy = effective_policy(world.sa_b1)
    assert str(policy.value("general_assembly.period")) == "每月 1 次"
    assert policy.origin("general_assembly.period") == "本校设置（第一中学党委）"
    assert policy.parameter("general_assembly.period").note == "本校计划"


def test_overrides_are_inherited_and_the_nearest_wins(world):
    override(world.wc, "study.member_hours", 40)
    override(world.sa, "study.member_hours", 36)
    policies = effective_policies([world.sa_b1, world.sb_b1, world.wc])
    assert policies[world.sa_b1.pk].value("study.member_hours") == 36
    assert policies[world.sb_b1.pk].value("study.member_hours") == 40
    assert policies[world.sb_b1.pk].origin("study.member_hours") == "本单位设置（某区教育工委）"
    assert policies[world.wc.pk].value("study.member_hours") == 40


def test_an_override_reaches_every_rule_that_refers_to_the_parameter(world):
    national = effective_policy(world.sa_b1)
    assert national.rule("org.group_split").unset == ("org.group_split_from",)
    override(world.sa, "org.group_split_from", 20)
    policy = effective_policy(world.sa_b1)
    rule = policy.rule("org.group_split")
    assert rule.unset == () and rule.params["when"]["value"] == 20
    facts = {"org_kind": "branch", "members": 25, "groups": 0}
    import datetime as dt

    assert rule.check(facts, dt.date(2025, 6, 30)).state == "violated"
    assert national.rule("org.group_split").check(facts, dt.date(2025, 6, 30)).state == "not_applicable"


def test_broken_stored_values_and_missing_packs_are_ignored_with_a_warning(world):
    assign(world.sa, "example.gone")
    override(world.sa, "study.member_hours", "many")
    override(world.sa, "no.such.key", 1)
    policy = effective_policy(world.sa_b1)
    assert policy.pack_name == "national"
    assert policy.value("study.member_hours") == 32
    assert len(policy.warnings) == 3 and any("example.gone" in w for w in policy.warnings)


def test_school_year_and_rules_of_the_effective_policy(world):
    policy = effective_policy(world.sa)
    assert str(policy.school_year().autumn_start) == "09-01"
    assert all(r.enabled and not r.error for r in policy.rules)
    assert {r.id for r in policy.rules} >= {"org.secretary_in_post", "member.lapse"}


def test_effective_policies_costs_two_queries_for_hundreds_of_orgs(world, django_assert_num_queries):
    new = []
    for school in (world.sa, world.sb):
        for i in range(120):
            code = f"{school.code}-X{i}"
            new.append(
                Organization(
                    code=code,
                    name=f"支部{i}",
                    kind=OrgKind.BRANCH,
                    parent=school,
                    path=f"{school.path}{code}/",
                    depth=school.depth + 1,
                )
            )
    Organization.objects.bulk_create(new)
    assign(world.sa, "example.study_24_hours")
    override(world.sa, "org.group_split_from", 20)
    override(world.wc, "study.member_hours", 40)
    orgs = list(Organization.objects.all())
    assert len(orgs) > 240
    with django_assert_num_queries(2):
        policies = effective_policies(orgs)
    assert len(policies) == len(orgs)
    in_a = [policies[o.pk] for o in orgs if o.path.startswith(world.sa.path) and o != world.sa]
    assert all(p is in_a[0] for p in in_a)  # shared: rules resolved once for all of school A's branches
    assert in_a[0].value("study.member_hours") == 40  # the district's override beats school A's pack
    in_b = [policies[o.pk] for o in orgs if o.path.startswith(world.sb.path)]
    assert in_b[0].pack_name == "national" and in_b[0].value("org.group_split_from") is None


def test_effective_policies_of_nothing_costs_nothing(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert effective_policies([]) == {}


def test_a_new_org_inherits_its_schools_policy_at_once(world):
    override(world.sa, "study.member_hours", 40)
    group = make_org("SA-B2-G1", "小组", OrgKind.GROUP, world.sa_b2)
    assert effective_policy(group).value("study.member_hours") == 40
