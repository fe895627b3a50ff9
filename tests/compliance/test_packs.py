"""Loading packs: validation names the file, the key and the fault, and nothing half-applies; overlays."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from zhibu.compliance import packs
from zhibu.compliance.packs import PackError, load_packs

REPO_POLICIES = Path(__file__).resolve().parents[2] / "policies"


def base_national() -> dict[str, Any]:
    param = {"confidence": "C1", "varies": "no", "source": "支部条例第四条"}
    return {
        "pack": "national",
        "title": "测试基准",
        "parameters": {
            "org.branch_min_full": {"type": "int", "value": 3, "title": "成立党支部所需正式党员", **param},
            "general_assembly.period": {
                "type": "frequency",
                "value": {"count": 1, "per": "quarter"},
                "title": "支部党员大会频次",
                **param,
            },
            "study.member_hours": {"type": "int", "value": 32, "title": "学时", "unit": "学时", **param},
        },
        "rules": [
            {
                "id": "org.branch_min_full_members",
                "title": "党支部至少有3名正式党员",
                "kind": "count_within",
                "subject": "org",
                "params": {"metric": "full_members", "label": "正式党员", "min": "$org.branch_min_full"},
                "severity": "serious",
                "source": "支部条例第四条",
                "remedy": "调整组织设置",
                "applies_to": {"org_kinds": ["branch"]},
                "examples": {
                    "pass": {"facts": {"full_members": 3}},
                    "fail": {"facts": {"full_members": 2}, "expect": "violated"},
                },
            }
        ],
    }


def write(folder: Path, name: str, data: dict[str, Any] | str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True), encoding="utf-8"
    )
    return path


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    write(folder, "national.yaml", base_national())
    return folder


def refused(folder: Path) -> list[packs.Fault]:
    with pytest.raises(PackError) as exc:
        load_packs(folder)
    return exc.value.faults


def has_fault(faults: list[packs.Fault], file: str, key: str, words: str) -> bool:
    return any(f.file == file and f.key == key and words in f.message for f in faults)


# The shipped packs -------------------------------------------------------------------------------------

# Every row of the "Configurable parameters" table of rules.md (keys with * or several variants are
# checked by prefix).
TABLE_KEYS = """
general_assembly.period general_assembly.quorum general_assembly.pass committee_meeting.period
committee_meeting.quorum group_meeting.period party_lecture.period party_lecture.secretary_per_year
theme_day.period life_meeting.min_per_year life_meeting.usual_quarter appraisal.period
appraisal.excellent_max_share talk.min_per_year applicant.min_age application_talk.within
activist.min_application_age activist.mentors activist.review_period activist.thought_report_period
activist.min_cultivation candidate.sponsors political_review.valid_for pre_review.leaving_window
pre_review.within reception_meeting.within_after_pre_review publicity.workdays reception_vote.quorum
reception_vote.pass approval.within approval.max_extended probation.length probation_extension.min
probation_extension.max probation_extension.times confirmation_approval.within
league_recommendation.max_age archive.within_after_confirmation dues.tiers.salaried dues.tiers.retired
dues.base.deductions dues.base.items dues.base.recalc dues.rounding dues.arrears_max dues.big_voluntary
dues.publish_per_year lapse.months lapse.warn_months lost_contact.suspend_after lost_contact.expel_after
abroad.suspend_after probation_fix.months readmit_bar.years study.member_hours study.leader_hours
study.new_secretary_within term.branch_years term.general_branch_years term.committee_years term.shift_max
term.reminder_before term.request_before election.margin election.quorum election.elected
election.delegate_congress_from org.branch_min_full org.branch_max org.joint_branch_max_units
org.committee_min_full org.committee_size org.general_branch_from org.committee_from org.group_split_from
transfer.after_months_away transfer.letter_valid school.party_meeting.quorum
school.party_meeting.cadre_quorum school.principal_meeting.quorum school.big_money_threshold
""".split()
TABLE_PREFIXES = ("candidate.training_min.", "confirmation_vote.", "dues.flat.", "star_rating.")


def test_the_national_pack_has_every_parameter_of_the_table():
    national = load_packs(REPO_POLICIES).national
    missing = [k for k in TABLE_KEYS if k not in national.parameters]
    assert not missing
    for prefix in TABLE_PREFIXES:
        assert any(k.startswith(prefix) for k in national.parameters), prefix
    for key in ("autumn_start", "autumn_end", "spring_start", "spring_end"):
        assert national.parameters[f"school_year.{key}"].type == "month_day"


def test_every_national_parameter_carries_title_source_confidence_and_varies():
    national = load_packs(REPO_POLICIES).national
    for p in national.parameters.values():
        assert p.title and p.source and p.confidence in packs.CONFIDENCE and p.varies in packs.VARIES, p.key
        if p.value is None or p.confidence == "L":
            assert p.note or p.key.startswith("school_year.") or p.key.endswith("thought_report_period"), (
                p.key
            )


def test_known_values_of_the_national_pack():
    national = load_packs(REPO_POLICIES).national
    assert str(national.parameters["general_assembly.period"].value) == "每季度 1 次"
    quorum = national.parameters["general_assembly.quorum"].value
    assert (quorum.num, quorum.den, quorum.strict) == (1, 2, True)
    assert national.parameters["org.group_split_from"].value is None
    tiers = national.parameters["dues.tiers.salaried"].value
    assert [str(t.rate) for t in tiers] == ["0.005", "0.01", "0.015", "0.02"] and tiers[-1].up_to is None
    assert set(national.rules) >= {
        "org.secretary_in_post",
        "org.committee_required",
        "org.committee_size",
        "org.branch_min_full_members",
        "org.branch_max_members",
        "org.group_split",
        "org.term_expiry",
        "member.lapse",
    }


def test_the_example_overlays_are_marked_and_change_single_values():
    lib = load_packs(REPO_POLICIES)
    examples = [lib.get(n) for n in lib.names() if n != "national"]
    assert len(examples) == 3 and all(p.example for p in examples)
    assert (
        str(lib.get("example.assembly_bimonthly").parameters["general_assembly.period"].value)
        == "每 2 个月 1 次"
    )
    assert lib.get("example.theme_day_15th").parameters["theme_day.day"].value == 15
    study = lib.get("example.study_24_hours")
    assert study.parameters["study.member_hours"].value == 24
    assert study.parameters["study.member_hours"].origin == "example.study_24_hours"
    assert study.parameters["org.branch_max"].origin == "national"


def test_org_kinds_and_statuses_in_packs_match_the_models():
    from zhibu.orgs.models import OrgKind
    from zhibu.people.models import Status

    assert list(packs.ORG_KINDS) == list(OrgKind.values)
    assert list(packs.STATUSES) == list(Status.values)


# Faults ------------------------------------------------------------------------------------------------


def test_an_unknown_parameter_key_in_an_overlay_is_refused_with_file_and_key(policies):
    write(
        policies,
        "district.yaml",
        {
            "pack": "district",
            "title": "某区",
            "extends": "national",
            "parameters": {"general_assembly.perod": {"value": {"count": 1, "per": "month"}}},
        },
    )
    faults = refused(policies)
    assert has_fault(faults, "policies/district.yaml", "parameters.general_assembly.perod", "未知参数")
    assert "policies/district.yaml：parameters.general_assembly.perod：" in str(PackError(faults))


@pytest.mark.parametrize(
    ("value", "key", "words"),
    [
        ("monthly", "parameters.general_assembly.period.value", "频次"),
        ({"count": 1, "per": "week"}, "parameters.general_assembly.period.value.per", "month、quarter"),
        ({"count": 0, "per": "month"}, "parameters.general_assembly.period.value.count", "不小于 1"),
        (
            {"count": 1, "per": "month", "every": 5},
            "parameters.general_assembly.period.value.every",
            "整除 12",
        ),
        (
            {"count": 1, "per": "month", "often": True},
            "parameters.general_assembly.period.value.often",
            "不认识的键",
        ),
    ],
)
def test_a_value_of_the_wrong_type_or_shape_is_refused(policies, value, key, words):
    write(
        policies,
        "district.yaml",
        {
            "pack": "district",
            "title": "某区",
            "extends": "national",
            "parameters": {"general_assembly.period": {"value": value}},
        },
    )
    assert has_fault(refused(policies), "policies/district.yaml", key, words)


@pytest.mark.parametrize(
    ("type_", "value", "words"),
    [
        ("int", "three", "应为整数"),
        ("int", True, "应为整数"),
        ("decimal", "abc", "应为数值"),
        ("bool", "yes", "true 或 false"),
        ("duration", {"months": 6, "days": 3}, "只写一个单位"),
        ("duration", {"weeks": 2}, "不认识的键"),
        ("fraction", "3/2", "0 与 1 之间"),
        ("fraction", "half", "分子/分母"),
        ("range", {"min": 5, "max": 3}, "大于上限"),
        ("day_of_month", 32, "1 至 31"),
        ("month_day", "02-30", "不是有效的日期"),
        ("tiers", [{"up_to": None, "rate": "1%"}, {"up_to": 5000, "rate": "2%"}], "只有最后一档"),
        ("tiers", [{"up_to": 3000, "rate": "1%"}], "最后一档应不写上限"),
        ("list", "a, b", "应为列表"),
        ("text", "", "非空文字"),
    ],
)
def test_every_type_refuses_values_out_of_its_shape(policies, type_, value, words):
    data = base_national()
    data["parameters"]["new.key"] = {
        "type": type_,
        "value": value,
        "title": "新参数",
        "source": "测试",
        "confidence": "L",
        "varies": "yes",
    }
    write(policies, "national.yaml", data)
    faults = refused(policies)
    assert any(f.key.startswith("parameters.new.key.value") and words in f.message for f in faults), faults


def test_an_unknown_check_kind_is_refused(policies):
    data = base_national()
    data["rules"][0]["kind"] = "frequencyy"
    write(policies, "national.yaml", data)
    assert has_fault(
        refused(policies),
        "policies/national.yaml",
        "rules.org.branch_min_full_members.kind",
        "未知的检查类型",
    )


def test_a_rule_referencing_an_unknown_parameter_is_refused(policies):
    data = base_national()
    data["rules"][0]["params"]["min"] = "$org.branch_min_ful"
    write(policies, "national.yaml", data)
    faults = refused(policies)
    assert has_fault(
        faults,
        "policies/national.yaml",
        "rules.org.branch_min_full_members.params.min",
        "未知参数 org.branch_min_ful",
    )


@pytest.mark.parametrize(
    ("params", "key", "words"),
    [
        ({"metric": "full_members", "label": "正式党员", "min": "three"}, "params.min", "整数"),
        ({"metric": "full_members", "label": "正式党员", "minimum": 3}, "params.minimum", "没有参数 minimum"),
        ({"label": "正式党员", "min": 3}, "params.metric", "缺少参数 metric"),
        (
            {"metric": "full_members", "label": "正式党员", "min": "$general_assembly.period"},
            "params.min",
            "引用的参数类型为频次",
        ),
        (
            {"metric": "m", "label": "l", "when": {"fact": "x", "op": "=>", "value": 3}},
            "params.when.op",
            "op 应为",
        ),
    ],
)
def test_params_that_do_not_match_the_kind_are_refused(policies, params, key, words):
    data = base_national()
    data["rules"][0]["params"] = params
    write(policies, "national.yaml", data)
    assert has_fault(
        refused(policies), "policies/national.yaml", f"rules.org.branch_min_full_members.{key}", words
    )


@pytest.mark.parametrize(
    ("path", "key"),
    [
        (("parameters", "org.branch_min_full", "source"), "parameters.org.branch_min_full.source"),
        (("parameters", "org.branch_min_full", "title"), "parameters.org.branch_min_full.title"),
        (("rules", 0, "source"), "rules.org.branch_min_full_members.source"),
        (("rules", 0, "title"), "rules.org.branch_min_full_members.title"),
        (("rules", 0, "remedy"), "rules.org.branch_min_full_members.remedy"),
        (("title",), "title"),
    ],
)
def test_a_missing_source_or_title_is_refused(policies, path, key):
    data = base_national()
    target: Any = data
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    write(policies, "national.yaml", data)
    assert has_fault(refused(policies), "policies/national.yaml", key, "")


def test_rule_faults_in_severity_applies_to_and_examples(policies):
    data = base_national()
    rule = data["rules"][0]
    rule["severity"] = "fatal"
    rule["applies_to"] = {"org_kinds": ["school"]}
    rule["examples"] = {"pass": {"facts": {}}, "fail": {"facts": {}, "expect": "ok"}}
    write(policies, "national.yaml", data)
    faults = refused(policies)
    prefix = "rules.org.branch_min_full_members"
    assert has_fault(faults, "policies/national.yaml", f"{prefix}.severity", "info、warning、serious")
    assert has_fault(faults, "policies/national.yaml", f"{prefix}.applies_to.org_kinds", "未知的值 school")
    assert has_fault(faults, "policies/national.yaml", f"{prefix}.examples.fail.expect", "不能期望 ok")


def test_an_overlay_cycle_is_refused(policies):
    write(policies, "a.yaml", {"pack": "a", "title": "甲", "extends": "b"})
    write(policies, "b.yaml", {"pack": "b", "title": "乙", "extends": "a"})
    faults = refused(policies)
    assert any(f.key == "extends" and "循环继承：a → b → a" in f.message for f in faults)
    assert len([f for f in faults if "循环继承" in f.message]) == 1


def test_an_unknown_base_and_a_missing_extends_are_refused(policies):
    write(policies, "a.yaml", {"pack": "a", "title": "甲", "extends": "province"})
    write(policies, "b.yaml", {"pack": "b", "title": "乙"})
    faults = refused(policies)
    assert has_fault(faults, "policies/a.yaml", "extends", "province")
    assert has_fault(faults, "policies/b.yaml", "extends", "缺少 extends")


def test_file_level_faults(policies):
    write(policies, "broken.yaml", "pack: [unclosed")
    write(policies, "odd.yaml", {"pack": "odd", "title": "怪", "extends": "national", "colour": "red"})
    write(policies, "dup.yaml", {"pack": "odd", "title": "重名", "extends": "national"})
    faults = refused(policies)
    assert has_fault(faults, "policies/broken.yaml", "（文件）", "YAML")
    assert has_fault(faults, "policies/odd.yaml", "colour", "不认识的顶层键")
    assert has_fault(faults, "policies/odd.yaml", "pack", "重复")


def test_an_overlay_may_not_redefine_a_parameter_or_a_rule(policies):
    write(
        policies,
        "d.yaml",
        {
            "pack": "d",
            "title": "区",
            "extends": "national",
            "parameters": {
                "org.branch_min_full": {
                    "type": "decimal",
                    "value": 3,
                    "title": "x",
                    "source": "y",
                    "confidence": "L",
                    "varies": "yes",
                }
            },
            "rules": [{"id": "org.branch_min_full_members", "kind": "frequency"}],
        },
    )
    faults = refused(policies)
    assert has_fault(faults, "policies/d.yaml", "parameters.org.branch_min_full", "只能改 value")
    assert has_fault(faults, "policies/d.yaml", "rules.org.branch_min_full_members", "只能改 params")


def test_one_bad_overlay_refuses_everything_and_the_published_packs_stay(policies, monkeypatch):
    monkeypatch.setenv("ZHIBU_POLICIES_DIR", str(policies))
    packs.reset_library()
    try:
        assert packs.library().national.title == "测试基准"
        published = packs.library()
        write(
            policies,
            "d.yaml",
            {
                "pack": "d",
                "title": "区",
                "extends": "national",
                "parameters": {"study.member_hours": {"value": "many"}},
            },
        )
        with pytest.raises(PackError):
            load_packs(policies)
        assert packs.library() is published  # loaded once; a broken edit does not half-apply
        packs.reset_library()
        with pytest.raises(PackError):
            packs.library()
        with pytest.raises(PackError):
            packs.library()  # still refused, never a partial set
    finally:
        packs.reset_library()


# Overlays ---------------------------------------------------------------------------------------------


def test_an_overlay_parameter_changes_every_rule_that_refers_to_it(policies):
    write(
        policies,
        "d.yaml",
        {
            "pack": "district",
            "title": "某区",
            "extends": "national",
            "parameters": {"org.branch_min_full": {"value": 4, "note": "本区从严"}},
        },
    )
    lib = load_packs(policies)
    rule = lib.get("district").rules["org.branch_min_full_members"].resolve(lib.get("district").values())
    assert rule.params["min"] == 4 and rule.refs == {"min": "org.branch_min_full"}
    assert rule.check({"full_members": 3}, dt.date(2025, 1, 1)).state == "violated"
    assert lib.get("district").parameters["org.branch_min_full"].origin == "district"
    assert lib.national.parameters["org.branch_min_full"].value == 3


def test_an_overlay_of_an_overlay_adds_rules_and_patches_others(policies):
    write(
        policies,
        "d.yaml",
        {
            "pack": "district",
            "title": "某区",
            "extends": "national",
            "parameters": {"study.member_hours": {"value": 40}},
        },
    )
    write(
        policies,
        "s.yaml",
        {
            "pack": "school",
            "title": "某校",
            "extends": "district",
            "parameters": {
                "study.member_hours": {"value": 24},
                "school.hours_leader": {
                    "type": "int",
                    "value": 60,
                    "title": "班子成员学时",
                    "source": "某校计划",
                    "confidence": "L",
                    "varies": "yes",
                },
            },
            "rules": [
                {"id": "org.branch_min_full_members", "severity": "warning", "params": {"min": 4}},
                {
                    "id": "study.member_hours",
                    "title": "党员学时",
                    "kind": "min_total",
                    "subject": "person",
                    "params": {"min": "$study.member_hours", "unit": "学时", "what": "集中学习培训"},
                    "severity": "warning",
                    "source": "某校计划",
                    "remedy": "补足学时",
                    "applies_to": {"statuses": ["full_member"]},
                    "examples": {
                        "pass": {"facts": {"total": 24}},
                        "fail": {"facts": {"total": 1}, "expect": "due_soon"},
                    },
                },
            ],
        },
    )
    lib = load_packs(policies)
    school = lib.get("school")
    assert school.chain == ("national", "district", "school")
    assert school.parameters["study.member_hours"].value == 24
    assert lib.get("district").parameters["study.member_hours"].value == 40
    patched = school.rules["org.branch_min_full_members"]
    assert patched.severity == "warning" and patched.params["min"] == 4 and patched.origin == "school"
    assert patched.params["metric"] == "full_members"  # the rest of the params stay
    assert "study.member_hours" in school.rules and "study.member_hours" not in lib.get("district").rules
    assert school.own_rules == ("org.branch_min_full_members", "study.member_hours")


def test_an_overlay_can_disable_a_rule(policies):
    write(
        policies,
        "d.yaml",
        {
            "pack": "d",
            "title": "区",
            "extends": "national",
            "rules": [{"id": "org.branch_min_full_members", "enabled": False}],
        },
    )
    pack = load_packs(policies).get("d")
    rule = pack.rules["org.branch_min_full_members"].resolve(pack.values())
    assert rule.check({"full_members": 0}, dt.date(2025, 1, 1)).state == "not_applicable"


def test_overlay_faults_name_the_overlay_file(policies):
    write(
        policies,
        "sub/d.yaml",
        {
            "pack": "d",
            "title": "区",
            "extends": "national",
            "rules": [{"id": "org.branch_min_full_members", "params": {"min": "lots"}}],
        },
    )
    assert has_fault(
        refused(policies), "policies/sub/d.yaml", "rules.org.branch_min_full_members.params.min", "整数"
    )


def test_policies_dir_prefers_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ZHIBU_POLICIES_DIR", str(tmp_path))
    assert packs.policies_dir() == tmp_path
    monkeypatch.delenv("ZHIBU_POLICIES_DIR")
    assert packs.policies_dir() == REPO_POLICIES


def test_base_national_is_not_mutated_by_tests():
    assert copy.deepcopy(base_national()) == base_national()
