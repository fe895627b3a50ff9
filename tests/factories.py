"""Factories that build records directly (fast); tests of services call the services themselves."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from zhibu.accounts.models import Grant, User
from zhibu.core import idcard
from zhibu.core.crypto import digest
from zhibu.orgs.models import Organization, OrgKind, Post
from zhibu.orgs.services import org_path_for
from zhibu.people import pinyin
from zhibu.people.models import Person, Status, StatusChange

_seq = itertools.count(1)


def make_org(code: str, name: str, kind: str, parent: Organization | None = None, **kw: Any) -> Organization:
    path = org_path_for(parent, code)
    return Organization.objects.create(
        code=code, name=name, kind=kind, parent=parent, path=path, depth=path.count("/") - 2, **kw
    )


def valid_id_number(
    birth: dt.date = dt.date(1985, 6, 1), serial: int | None = None, male: bool = True
) -> str:
    """A checksum-valid ID number (region 110105) for a birth date."""
    n = serial if serial is not None else next(_seq)
    seq = (n * 2 + (1 if male else 0)) % 1000
    first17 = f"110105{birth:%Y%m%d}{seq:03d}"
    return first17 + idcard.check_character(first17)


def make_person(name: str, org: Organization, status: str = Status.FULL_MEMBER, **kw: Any) -> Person:
    id_number = kw.pop("id_number", None)
    if id_number is None:
        id_number = valid_id_number(kw.get("birth_date") or dt.date(1985, 6, 1))
    kw.setdefault("gender", idcard.gender(id_number) if id_number else "male")
    if id_number:
        kw.setdefault("birth_date", idcard.birth_date(id_number))
    person = Person.objects.create(
        name=name,
        org=org,
        status=status,
        id_number=id_number,
        id_number_digest=digest(id_number) if id_number else None,
        name_pinyin=pinyin.full_pinyin(name),
        name_initials=pinyin.initials(name),
        **kw,
    )
    StatusChange.objects.create(
        person=person, to_status=status, effective_on=dt.date(2020, 1, 1), reason="建档"
    )
    return person


def make_user(username: str, person: Person | None = None, **kw: Any) -> User:
    user = User.objects.create_user(username=username, password="correct-horse-9", person=person, **kw)
    return user


def make_post(
    org: Organization, person: Person, role: str, started_on: dt.date = dt.date(2024, 1, 1)
) -> Post:
    return Post.objects.create(org=org, person=person, role=role, started_on=started_on)


def grant(user: User, org: Organization, role: str = "manage") -> Grant:
    return Grant.objects.create(user=user, org=org, role=role)


__all__ = [
    "OrgKind",
    "Status",
    "grant",
    "make_org",
    "make_person",
    "make_post",
    "make_user",
    "valid_id_number",
]
