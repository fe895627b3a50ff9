"""Demo district builder: `plan.py` plans a district (pure, deterministic), `build.py` writes it.

Planning needs no Django set-up; the writing half is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zhibu.demo.plan import REFERENCE_DATE, DistrictPlan, plan_district

if TYPE_CHECKING:
    from zhibu.demo.build import DemoResult, build_demo, demo_logins

DEMO_PASSWORD = "zhibu2026"  # noqa: S105  (printed on purpose: demo accounts only)

_BUILD_NAMES = ("DemoResult", "build_demo", "demo_logins")


def __getattr__(name: str) -> Any:
    if name in _BUILD_NAMES:
        from zhibu.demo import build

        return getattr(build, name)
    raise AttributeError(f"module 'zhibu.demo' has no attribute {name!r}")


__all__ = [
    "DEMO_PASSWORD",
    "REFERENCE_DATE",
    "DemoResult",
    "DistrictPlan",
    "build_demo",
    "demo_logins",
    "plan_district",
]
