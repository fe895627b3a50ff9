from typing import Any

from django.apps import AppConfig
from django.core import checks


class ComplianceConfig(AppConfig):
    name = "zhibu.compliance"
    label = "compliance"
    verbose_name = "制度与检查"

    def ready(self) -> None:
        checks.register(policy_packs_load, checks.Tags.compatibility)


def policy_packs_load(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """`manage.py check` (and so every start) refuses packs that do not validate, naming each fault."""
    from zhibu.compliance.packs import PackError, load_packs, policies_dir

    try:
        load_packs(policies_dir())
    except PackError as exc:
        return [checks.Error(str(f), id="compliance.E001") for f in exc.faults]
    return []
