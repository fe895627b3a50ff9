"""Walk every URL pattern (pages and API) as a user of school A with school B's objects.

Nothing of school B may come back: parameterised routes answer 403/404 (or 405 for a method the route
does not take), and lists, exports and documents contain none of B's names. A new route whose parameter
this walker does not know fails the test until the walker learns it.
"""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

B_MARKERS = ("第二小学党总支", "钱七", "孙八", "SB-B1")
# Routes that serve no data of any school.
PUBLIC = {"healthz", "login/", "logout/", "password/done/"}
# Routes whose parameter is not an object of a school (the national calendar of a year).
SCHOOL_FREE_PARAMS = {"calendar/<int:year>/"}


def _patterns(resolver: URLResolver, prefix: str = "") -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            out += _patterns(p, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            out.append((prefix + str(p.pattern), p.name))
    return out


def _fill(route: str, values: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(2)
        if name not in values:
            raise AssertionError(f"the scoping walk does not know the parameter <{name}> of {route!r}")
        return values[name]

    route = re.sub(r"<(?:(\w+):)?(\w+)>", sub, route)
    return "/" + route.lstrip("^").rstrip("$")


def _text(response) -> str:  # type: ignore[no-untyped-def]
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:2] == b"PK":  # xlsx / docx / zip: read every member's text
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            return "".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())
    return content.decode("utf-8", "replace")


@pytest.mark.parametrize("persona", ["school_secretary", "branch_secretary", "member"])
def test_no_route_gives_school_a_anything_of_school_b(world, client_as, persona):
    from zhibu.life.ical import org_token
    from zhibu.orgs.models import Post

    b_post = Post.objects.get(org=world.sb_b1)
    b_note = _b_notification(world)
    b_doc = _b_development_document(world)
    b_meeting, b_vote, b_attachment = _b_meeting(world)
    b_values = {
        "code": world.sb_b1.code,
        "pk": str(world.people.outsider.pk),
        "person_id": str(world.people.outsider.pk),
        "id": str(world.people.outsider.pk),
        "post_id": str(b_post.pk),
        "token_id": "999999",
        "user_id": str(world.users.outsider.pk),
        "year": "2027",
        "notification_id": str(b_note.pk),
        "case_id": str(b_doc.step.case_id),
        "record_id": str(b_doc.step_id),
        "step_id": str(b_doc.step_id),
        "doc_id": str(b_doc.pk),
        "document_id": str(b_doc.pk),
        "meeting_id": str(b_meeting.pk),
        "vote_id": str(b_vote.pk),
        "attachment_id": str(b_attachment.pk),
        "attendance_id": str(b_meeting.attendances.first().pk),
        "talk_id": str(_b_talk(world).pk),
        "rectification_id": str(_b_rectification(world).pk),
        # A feed link to school B's branch signed as though it were made for this user of school A.
        "token": org_token(world.sb_b1.code, getattr(world.users, persona).pk),
    }
    client = client_as(getattr(world.users, persona))
    visited = 0
    for route, name in _patterns(get_resolver()):
        if route in PUBLIC or name in PUBLIC or "static" in route:
            continue
        url = _fill(route, b_values)
        has_params = "<" in route and route not in SCHOOL_FREE_PARAMS
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            visited += 1
            assert response.status_code != 500, (method, url)
            if has_params:
                assert response.status_code in (400, 403, 404, 405, 422), (method, url, response.status_code)
            if response.status_code == 200:
                text = _text(response)
                leaked = [m for m in B_MARKERS if m in text]
                assert not leaked, (method, url, leaked)
    assert visited > 20


def _b_notification(world):  # type: ignore[no-untyped-def]
    """A reminder of school B's outsider, with a failed e-mail: neither may show to school A."""
    import datetime as dt

    from zhibu.compliance.models import EmailDelivery, Notification

    delivery = EmailDelivery.objects.create(
        user=world.users.outsider,
        to_address="qian@example.cn",
        subject="支部提醒：钱七",
        body="第二小学党总支 SB-B1",
        state="failed",
        attempts=1,
        last_error="SB-B1 钱七",
    )
    return Notification.objects.create(
        user=world.users.outsider,
        day=dt.date(2026, 6, 30),
        rule_id="org.secretary",
        rule_title="配备书记",
        subject_type="person",
        subject_id=world.people.other.pk,
        subject_label="孙八",
        state="overdue",
        message="孙八 SB-B1",
        org=world.sb_b1,
        org_path=world.sb_b1.path,
        email=delivery,
    )


def _b_development_document(world):  # type: ignore[no-untyped-def]
    """A development case of school B with its application letter: its step and document stay in B."""
    import datetime as dt

    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import make_person
    from zhibu.core.scoping import system_scope
    from zhibu.development.models import StepDocument
    from zhibu.development.services import Upload, case_open
    from zhibu.people.models import Status

    applicant = make_person("孙八", world.sb_b1, status=Status.APPLICANT, birth_date=dt.date(2000, 1, 1))
    letter = SimpleUploadedFile("钱七.pdf", b"%PDF-1.4 SB-B1")
    case = case_open(
        actor=None,
        scope=system_scope(),
        person=applicant,
        applied_on=dt.date(2026, 3, 1),
        documents=[Upload("application_letter", letter)],
        today=dt.date(2026, 11, 23),
    )
    return StepDocument.objects.get(step__case=case)


def _b_meeting(world):  # type: ignore[no-untyped-def]
    """An assembly of school B's branch under way: its roll, an open vote and a photo named after B."""
    import datetime as dt

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from zhibu.core.scoping import system_scope
    from zhibu.life import services, voting

    scope = system_scope()
    meeting = services.meeting_create(
        actor=None,
        scope=scope,
        org=world.sb_b1,
        kind="general_assembly",
        title="第二小学党总支第一党支部党员大会",
        starts_at=timezone.now() - dt.timedelta(hours=1),
        now=timezone.now() - dt.timedelta(days=3),
    )
    present = {pk: "present" for pk in meeting.attendances.values_list("person_id", flat=True)}
    services.attendance_mark(actor=None, scope=scope, meeting=meeting, states=present)
    vote = voting.vote_open(actor=None, scope=scope, meeting=meeting, title="SB-B1 钱七", secret=False)
    photo = SimpleUploadedFile("钱七.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 16)
    attachment = services.attachment_add(actor=None, scope=scope, meeting=meeting, file=photo, title="钱七")
    return meeting, vote, attachment


def _b_talk(world):  # type: ignore[no-untyped-def]
    """A talk between school B's two people, its topic naming them."""
    import datetime as dt

    from zhibu.core.scoping import system_scope
    from zhibu.life.talks import talk_record

    return talk_record(
        actor=None,
        scope=system_scope(),
        org=world.sb_b1,
        held_on=dt.date(2026, 3, 2),
        person_a=world.people.outsider,
        person_b=world.people.other,
        topic="钱七与孙八 SB-B1",
        summary="孙八",
        today=dt.date(2026, 11, 23),
    )


def _b_rectification(world):  # type: ignore[no-untyped-def]
    """A rectification item of school B's life meeting, owned by its member and naming them."""
    import datetime as dt

    from django.utils import timezone

    from zhibu.core.scoping import system_scope
    from zhibu.life import services
    from zhibu.life.talks import rectification_add

    scope = system_scope()
    meeting = services.meeting_create(
        actor=None,
        scope=scope,
        org=world.sb_b1,
        kind="life_meeting",
        title="第二小学党总支第一党支部组织生活会",
        starts_at=timezone.now() - dt.timedelta(hours=1),
        now=timezone.now() - dt.timedelta(days=3),
    )
    return rectification_add(
        actor=None,
        scope=scope,
        meeting=meeting,
        item="钱七 SB-B1 整改",
        owner=world.people.outsider,
        due_on=timezone.localdate() + dt.timedelta(days=30),
    )


def test_every_listing_of_school_a_still_shows_school_a(world, client_as):
    """The walk above would pass vacuously if lists were empty; they are not."""
    client = client_as(world.users.school_secretary)
    assert "张三丰" in client.get("/people/").content.decode()
    assert "第一中学党委" in client.get("/orgs/").content.decode()
