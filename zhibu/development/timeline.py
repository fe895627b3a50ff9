"""Where a case stands: which steps count as done, what comes next, and each step's earliest and latest date.

Pure code over the recorded steps of one case and its resolved step definitions, so that the services
(which refuse a step recorded too early or out of order) and the pages (the timeline, the board, the
planning lists) read the same answer. No queries here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from zhibu.compliance.values import Duration, Frequency, add_months
from zhibu.development.steps import PROBATION_END, Development, StepDef

# Outcomes after which a step does not count as done (a failed vote, a failed political review).
FAILED_OUTCOMES = ("not_passed", "failed")
# The probation's decision steps run again after an approved extension (延长预备期).
ROUND_STEPS = ("confirmation_vote", "confirmation_approval")


class Recorded(Protocol):
    code: str
    done_on: dt.date
    outcome: str
    details: Any
    pk: Any


@dataclass(frozen=True)
class After:
    """What a window's date follows: an event (its label comes from the development's steps) on a day, and
    the duration counted from it. Kept as parts: the reason is written only where it is shown."""

    dev: Development
    event: str
    start: dt.date
    duration: Duration

    def text(self, template: str) -> str:
        return template.format(
            event=self.dev.event_label(self.event), start=self.start, duration=self.duration
        )


@dataclass
class Window:
    """When a step may be recorded: not before `earliest`, due by `latest`, never after `hard_latest`."""

    earliest: dt.date | None = None
    latest: dt.date | None = None
    hard_latest: dt.date | None = None
    earliest_after: After | None = None
    latest_after: After | None = None

    @property
    def earliest_reason(self) -> str:
        """Why not before `earliest`, e.g. “推荐和确定入党积极分子（2023-09-05）后满 1 年”."""
        if self.earliest_after is None:
            return ""
        return self.earliest_after.text("{event}（{start:%Y-%m-%d}）后满 {duration}")

    @property
    def latest_reason(self) -> str:
        """Why due by `latest`, e.g. “…接收预备党员（2024-11-10）后 3 个月内”."""
        if self.latest_after is None:
            return ""
        return self.latest_after.text("{event}（{start:%Y-%m-%d}）后 {duration}内")


@dataclass
class Row:
    step: StepDef
    records: list[Any]
    done: bool
    available: bool  # every prerequisite is done
    missing: list[StepDef]  # prerequisites not done yet
    window: Window
    next_due: dt.date | None = None  # for a repeated step: when the next one is owed


@dataclass(frozen=True)
class Deadline:
    """A date by which a step not yet done is owed: a deadline whose starting event has happened (the
    approval three months after the vote, even while the talk before it is still pending), or the next
    review of a repeated step while its stage lasts."""

    row: Row
    due: dt.date
    reason: str


@dataclass
class Timeline:
    rows: list[Row]
    events: dict[str, dt.date]
    counted: dict[str, list[Any]] = field(default_factory=dict)  # the records that count, per code
    next_steps: list[Row] = field(default_factory=list)

    def deadlines(self, stage: str) -> list[Deadline]:
        """Every pending deadline of the case, earliest first (`stage`: the case's current stage)."""
        out = []
        for r in self.rows:
            if r.done and not r.step.repeatable:
                continue
            if r.step.repeatable:
                if r.next_due is not None and r.step.stage == stage:
                    out.append(Deadline(r, r.next_due, f"{r.step.title}按{r.step.every}"))
            elif r.window.latest is not None:
                out.append(Deadline(r, r.window.latest, r.window.latest_reason))
        return sorted(out, key=lambda d: (d.due, d.row.step.number))

    @property
    def next(self) -> Row | None:
        return self.next_steps[0] if self.next_steps else None

    def row(self, code: str) -> Row:
        for r in self.rows:
            if r.step.code == code:
                return r
        raise KeyError(code)


def _last_extension_approval(records: Sequence[Recorded]) -> dt.date | None:
    dates = [
        r.done_on
        for r in records
        if r.code == "confirmation_approval" and (r.details or {}).get("decision") == "extend"
    ]
    return max(dates) if dates else None


def _ordered(records: Sequence[Recorded]) -> list[Recorded]:
    return sorted(records, key=lambda r: (r.done_on, r.pk or 0))


def _counting(ordered: Sequence[Recorded], since: dt.date | None) -> dict[str, list[Recorded]]:
    out: dict[str, list[Recorded]] = {}
    for r in ordered:
        if r.outcome in FAILED_OUTCOMES:
            continue
        if r.code in ROUND_STEPS and since is not None and r.done_on <= since:
            continue
        out.setdefault(r.code, []).append(r)
    return out


def counting(records: Sequence[Recorded]) -> dict[str, list[Recorded]]:
    """Per step code, the records that count: failed outcomes are left out, and after an approved extension
    of the probation the decision steps of the earlier round are left out too (they must be held again)."""
    return _counting(_ordered(records), _last_extension_approval(records))


def _event_dates(counted: dict[str, list[Recorded]], probation_ends_on: dt.date | None) -> dict[str, dt.date]:
    events = {code: rs[-1].done_on for code, rs in counted.items()}
    if probation_ends_on:
        events[PROBATION_END] = probation_ends_on
    return events


def event_dates(records: Sequence[Recorded], probation_ends_on: dt.date | None) -> dict[str, dt.date]:
    """The date each step happened (its latest counting record), and the probation's end."""
    return _event_dates(counting(records), probation_ends_on)


def frequency_months(freq: Frequency) -> int:
    months = freq.months
    if months is None:  # a semester rhythm: six months is the nearest honest reading
        return 6
    return months // freq.count if freq.count > 1 else months


def window(
    step: StepDef,
    events: dict[str, dt.date],
    dev: Development,
    add_workdays: Any = None,
) -> Window:
    w = Window()
    for nb in step.not_before:
        start = events.get(nb.after)
        if start is None or not isinstance(nb.duration, Duration):
            continue
        day = nb.duration.shift(start, add_workdays=add_workdays)
        if w.earliest is None or day > w.earliest:
            w.earliest = day
            w.earliest_after = After(dev, nb.after, start, nb.duration)
    if step.due is not None:
        start = events.get(step.due.after)
        if start is not None and isinstance(step.due.duration, Duration):
            w.latest = step.due.duration.shift(start, add_workdays=add_workdays)
            w.latest_after = After(dev, step.due.after, start, step.due.duration)
            if isinstance(step.due.max, Duration):
                w.hard_latest = step.due.max.shift(start, add_workdays=add_workdays)
    return w


def build(
    dev: Development,
    records: Sequence[Recorded],
    *,
    probation_ends_on: dt.date | None,
    add_workdays: Any = None,
) -> Timeline:
    """The case's steps in order with what is done, what may come next and when."""
    ordered = _ordered(records)
    counted = _counting(ordered, _last_extension_approval(records))
    events = _event_dates(counted, probation_ends_on)
    by_code: dict[str, list[Any]] = {}
    for r in ordered:
        by_code.setdefault(r.code, []).append(r)
    done_codes = set(counted)
    rows: list[Row] = []
    for step in dev.steps:
        missing = [dev.step(c) for c in step.requires if c not in done_codes]
        row = Row(
            step=step,
            records=by_code.get(step.code, []),
            done=step.code in done_codes,
            available=not missing,
            missing=missing,
            window=window(step, events, dev, add_workdays),
        )
        if step.repeatable and isinstance(step.every, Frequency) and row.available:
            last = counted[step.code][-1].done_on if step.code in counted else None
            start = last or (events.get(step.every_from) if step.every_from else _stage_start(step, events))
            if start is not None:
                row.next_due = add_months(start, frequency_months(step.every))
        rows.append(row)
    tl = Timeline(rows=rows, events=events, counted=dict(counted))
    # An optional (repeated) step is still next when a later step needs it once (the first review).
    needed = _needed(dev)
    tl.next_steps = [
        r for r in rows if not r.done and r.available and (not r.step.optional or r.step.code in needed)
    ]
    return tl


def _needed(dev: Development) -> frozenset[str]:
    """The codes some step requires, kept on the development (resolved once per policy, built for every
    case of a list): written into the instance's own dict, as functools.cached_property does."""
    needed = dev.__dict__.get("_timeline_needed")
    if needed is None:
        needed = frozenset(code for step in dev.steps for code in step.requires)
        object.__setattr__(dev, "_timeline_needed", needed)
    return needed  # type: ignore[no-any-return]


def _stage_start(step: StepDef, events: dict[str, dt.date]) -> dt.date | None:
    """The date a repeated step's rhythm starts from: the latest of its prerequisites."""
    dates = [events[c] for c in step.requires if c in events]
    return max(dates) if dates else None


def stage_of(dev: Development, records: Sequence[Recorded], default: str) -> str:
    """The stage of the latest step that counts (repeated steps do not move a case)."""
    counted = counting(records)
    stage = default
    for step in dev.steps:
        if step.code in counted and not step.repeatable:
            stage = step.stage
    return stage
