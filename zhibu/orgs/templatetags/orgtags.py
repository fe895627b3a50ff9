from typing import Any

from django import template

register = template.Library()


@register.filter
def children_of(by_parent: dict[int, list[Any]], pk: int) -> list[Any]:
    return by_parent.get(pk, [])


@register.filter
def get_item(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key)
