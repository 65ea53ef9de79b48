"""The statements behind the cohort dashboard. Each one answers for the whole course at
once (grouped per intern, or per intern and week), so the page costs the same number of
queries for five interns as for five hundred."""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa

from portfolio.cohort.models import InternStanding
from portfolio.db import UTCDateTime
from portfolio.grading.models import DeliveryState, Grade, GradeState, ScoreDelivery
from portfolio.journal.models import Entry, EntryState, Task, task_objective
from portfolio.people.models import Membership, Role, User
from portfolio.placements.models import Placement

HOURS = sa.Numeric(10, 2)

# The statements a view runs on every visit are built once, with these in place of the
# values, and run with the values given (``course_id=…``): building and keying a statement
# of six tables costs more than running it.
COURSE = sa.bindparam("course_id", type_=sa.Integer)
NOW = sa.bindparam("now", type_=UTCDateTime())
NEEDLE = sa.bindparam("needle", type_=sa.String)  # a LIKE pattern: see ``like_pattern``


def interns(course_id) -> sa.Select:
    """One plain row per intern membership: who they are, their placement (or NULLs), the
    grade's and the delivery's state, and the kept figures (``intern_standing``, or NULLs)."""
    return (
        sa.select(
            User.id, User.name, User.email, User.last_seen_at,
            Placement.id.label("placement_id"), Placement.host_organisation, Placement.city, Placement.country,
            Placement.start_date, Placement.end_date, Placement.timezone, Placement.hours_per_week,
            Grade.state.label("grade_state"), ScoreDelivery.state.label("delivery_state"),
            InternStanding.version, InternStanding.computed_version, InternStanding.valid_until,
            InternStanding.approved, InternStanding.submitted, InternStanding.missing, InternStanding.waiting_since,
            InternStanding.hours_logged, InternStanding.hours_expected,
            # as text: parsed only for the rows a page shows, or when sorting by an objective
            sa.cast(InternStanding.coverage, sa.Text).label("coverage"),
        )
        .select_from(Membership)
        .join(User, User.id == Membership.user_id)
        .outerjoin(Placement, sa.and_(Placement.course_id == Membership.course_id,
                                      Placement.intern_id == Membership.user_id))
        .outerjoin(Grade, sa.and_(Grade.course_id == Membership.course_id, Grade.intern_id == Membership.user_id))
        .outerjoin(ScoreDelivery, ScoreDelivery.grade_id == Grade.id)
        .outerjoin(InternStanding, sa.and_(InternStanding.course_id == Membership.course_id,
                                           InternStanding.intern_id == Membership.user_id))
        .where(Membership.course_id == course_id, Membership.role == Role.intern)
        .order_by(User.id)
    )


# The names of ``interns``'s columns, in order: the dashboard reads its rows by position.
INTERN_FIELDS = tuple(column.key for column in interns(COURSE).selected_columns)


def _out_of_date(now):
    return sa.or_(InternStanding.computed_version.is_(None), InternStanding.computed_version != InternStanding.version,
                  InternStanding.valid_until <= now)


def _any_stale() -> sa.Exists:
    return sa.exists(
        sa.select(Membership.id)
        .outerjoin(InternStanding, sa.and_(InternStanding.course_id == Membership.course_id,
                                           InternStanding.intern_id == Membership.user_id))
        .where(Membership.course_id == COURSE, Membership.role == Role.intern, _out_of_date(NOW)))


@lru_cache(maxsize=1)
def any_stale() -> sa.Select:
    """Whether any intern's kept figures are missing or out of date (run with ``course_id``
    and ``now``): two tables, not six, since most views find none."""
    return sa.select(_any_stale())


def stale_ids(course_id: int, now) -> sa.Select:
    """The interns whose kept figures are missing or out of date, from two tables."""
    return (sa.select(Membership.user_id)
            .outerjoin(InternStanding, sa.and_(InternStanding.course_id == Membership.course_id,
                                               InternStanding.intern_id == Membership.user_id))
            .where(Membership.course_id == course_id, Membership.role == Role.intern, _out_of_date(now)))


IDS = sa.bindparam("intern_ids", expanding=True)  # a list of intern ids


@lru_cache(maxsize=2)
def stale_of(narrowed: bool) -> sa.Select:
    """``stale`` built once (run with ``course_id``, ``now`` and, when ``narrowed``,
    ``intern_ids``): a view that computes a few interns' figures asks it every time."""
    return stale(COURSE, NOW, IDS if narrowed else None)


@lru_cache(maxsize=2)
def live_weeks_of(narrowed: bool) -> sa.Select:
    """``live_weeks`` built once: run with ``course_id`` and, when ``narrowed``, ``intern_ids``."""
    return live_weeks(COURSE, IDS if narrowed else None)


@lru_cache(maxsize=2)
def objective_counts_of(narrowed: bool) -> sa.Select:
    """``objective_counts`` built once: run with ``course_id`` and, when ``narrowed``, ``intern_ids``."""
    return objective_counts(COURSE, IDS if narrowed else None)


def stale(course_id: int, now, intern_ids: set[int] | None = None) -> sa.Select:
    """``interns`` narrowed to those whose kept figures are missing or out of date (among
    ``intern_ids`` when given): found from two tables first, since a cohort of thousands
    has a few dozen at a time."""
    ids = stale_ids(course_id, now)
    if intern_ids is not None:
        ids = ids.where(Membership.user_id.in_(intern_ids))
    return interns(course_id).where(Membership.user_id.in_(ids.scalar_subquery()))


# --- what the dashboard lists: filtered, sorted and paged in the database ---------------------

# ``User.display_name``: the name, else the email, else "Participant <id>".
DISPLAY_NAME = sa.func.coalesce(sa.func.nullif(User.name, ""), sa.func.nullif(User.email, ""),
                                sa.literal("Participant ") + sa.cast(User.id, sa.String))
_released = Grade.state == GradeState.released

FILTERS = {
    "waiting": InternStanding.waiting_since.is_not(None),
    "missing": InternStanding.missing > 0,
    "never_launched": User.last_seen_at.is_(None),
    "not_graded": Grade.id.is_(None),
    "sync_failed": sa.and_(_released, ScoreDelivery.state == DeliveryState.failed),
}

SORTS = {
    "name": sa.func.lower(DISPLAY_NAME),
    "placement": sa.func.lower(Placement.host_organisation),
    "dates": Placement.start_date,
    "approved": sa.func.coalesce(InternStanding.approved, 0),
    "submitted": sa.func.coalesce(InternStanding.submitted, 0),
    "missing": sa.func.coalesce(InternStanding.missing, 0),
    "waiting": InternStanding.waiting_since,  # ascending: the longest wait first
    "hours": sa.case((Placement.id.is_not(None), InternStanding.hours_logged - InternStanding.hours_expected)),
    "grade": sa.case((_released, 2), (Grade.id.is_not(None), 1), else_=0),
}


def sort_column(name: str, objective_ids: set[int]):
    """The column a sort name stands for (an objective's: ``objective-<id>``), else None."""
    if name in SORTS:
        return SORTS[name]
    if name.startswith("objective-") and name.removeprefix("objective-").isdigit():
        objective_id = int(name.removeprefix("objective-"))
        if objective_id in objective_ids:
            return sa.func.coalesce(InternStanding.coverage[str(objective_id)].as_integer(), 0)
    return None


def like_pattern(text: str) -> str:
    """``NEEDLE``'s value: the text anywhere, in any case, its wildcards taken literally."""
    return "%" + text.lower().replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def matching(course_id, text: str | bool = "", status: str = "") -> sa.Select:
    """``interns`` narrowed by the search text (in the name or the email) and a status
    filter. ``text=True`` searches for ``NEEDLE``, given when the statement runs."""
    stmt = interns(course_id)
    if text:
        needle = NEEDLE if text is True else like_pattern(text)
        stmt = stmt.where(sa.or_(sa.func.lower(DISPLAY_NAME).like(needle, escape="/"),
                                 sa.func.lower(sa.func.coalesce(User.email, "")).like(needle, escape="/")))
    if status in FILTERS:
        stmt = stmt.where(FILTERS[status])
    return stmt


def arranged(stmt: sa.Select, column, descending: bool) -> sa.Select:
    """Sorted by ``column``; rows without a value come last either way, and ties keep name order."""
    return stmt.order_by(None).order_by(column.is_(None), column.desc() if descending else column.asc(),
                                        SORTS["name"], User.id)


def count(stmt: sa.Select) -> sa.Select:
    return sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())


@lru_cache(maxsize=256)
def page(sort: str, descending: bool, status: str, searching: bool) -> sa.Select:
    """One page of the listing, sorted by ``sort`` (a name ``sort_column`` knows), with on
    every row how many rows match over all pages (``matching``), how many interns the
    course has (``total``) and whether any intern's kept figures are out of date
    (``stale``): one statement, not four. Built once per way of asking; run with
    ``course_id``, ``now``, ``limit``, ``offset`` and, when ``searching``, ``needle``.

    The page's interns are chosen first, from only what the filter and the order need
    (PostgreSQL drops the joins nothing uses), and only those fifty rows are joined to
    everything the page shows: sorting the whole cohort's full rows cost twice as much."""
    column = SORTS.get(sort)
    if column is None:
        column = sa.func.coalesce(InternStanding.coverage[sort.removeprefix("objective-")].as_integer(), 0)
    narrowed = searching or status in FILTERS
    total = count(interns(COURSE)).scalar_subquery() if narrowed else sa.func.count().over()
    # Every intern is in the window unless the listing is narrowed: whether any is out of
    # date is then read from the rows already joined, not from a second pass over them.
    stale = _any_stale() if narrowed else \
        (sa.func.max(sa.case((_out_of_date(NOW), 1), else_=0)).over() == 1)
    by_name = sort == "name"  # the name is never missing, and is its own tie-break: worked out once a row
    ordered = (matching(COURSE, searching, status).order_by(None).order_by(
        column.desc() if descending else column.asc(), User.id) if by_name
        else arranged(matching(COURSE, searching, status), column, descending))
    keys = [column.label("value")] if by_name else [column.is_(None).label("no_value"), column.label("value"),
                                                    SORTS["name"].label("name_key")]
    chosen = (ordered
              .with_only_columns(Membership.user_id.label("intern_id"), *keys,
                                 sa.func.count().over().label("matching"), total.label("total"),
                                 stale.label("stale"))
              .limit(sa.bindparam("limit", type_=sa.Integer)).offset(sa.bindparam("offset", type_=sa.Integer))
              .subquery("chosen"))
    value = chosen.c.value.desc() if descending else chosen.c.value.asc()
    order = [value] if by_name else [chosen.c.no_value, value, chosen.c.name_key]
    return (interns(COURSE).join(chosen, chosen.c.intern_id == Membership.user_id)
            .add_columns(chosen.c.matching, chosen.c.total, chosen.c.stale)
            .order_by(None).order_by(*order, chosen.c.intern_id))


def _narrowed(intern_ids: set[int] | None) -> list:
    """The extra condition that keeps only some interns' entries (none: every intern)."""
    return [] if intern_ids is None else [Entry.intern_id.in_(intern_ids)]


def _live(course_id: int, intern_ids: set[int] | None):
    """The live (newest) revision of every week, with whether any revision of the week was
    approved. Window functions rather than a join back on (intern, week, revision), which
    PostgreSQL estimates at one row and answers with a nested loop over every task."""
    week = (Entry.intern_id, Entry.week_start)
    ranked = (
        sa.select(
            Entry.id, Entry.intern_id, Entry.week_start, Entry.state, Entry.submitted_at,
            sa.case((Entry.reflection == "", 0), else_=1).label("has_reflection"),
            sa.func.row_number().over(partition_by=week, order_by=Entry.revision.desc()).label("newest"),
            sa.func.max(sa.case((Entry.state == EntryState.approved, 1), else_=0))
            .over(partition_by=week).label("ever_approved"),
        )
        .where(Entry.course_id == course_id, *_narrowed(intern_ids))
        .subquery("ranked")
    )
    return ranked


def live_weeks(course_id: int, intern_ids: set[int] | None = None) -> sa.Select:
    """One row per intern and week with an entry: the live revision's state, when it was
    submitted, whether it holds anything, its hours, and whether the week was ever approved.
    ``intern_ids`` narrows it to those interns."""
    live = _live(course_id, intern_ids)
    return (
        sa.select(
            live.c.intern_id, live.c.week_start, live.c.state, live.c.submitted_at, live.c.has_reflection,
            live.c.ever_approved, sa.func.count(Task.id).label("tasks"),
            sa.func.coalesce(sa.func.sum(Task.hours), 0, type_=HOURS).label("hours"),
        )
        .outerjoin(Task, Task.entry_id == live.c.id)
        .where(live.c.newest == 1)
        .group_by(live.c.id, live.c.intern_id, live.c.week_start, live.c.state, live.c.submitted_at,
                  live.c.has_reflection, live.c.ever_approved)
    )


def objective_counts(course_id: int, intern_ids: set[int] | None = None) -> sa.Select:
    """(intern id, objective id, tasks) over the live revision of every week."""
    live = _live(course_id, intern_ids)
    return (
        sa.select(live.c.intern_id, task_objective.c.objective_id, sa.func.count(Task.id).label("tasks"))
        .join(Task, Task.entry_id == live.c.id)
        .join(task_objective, task_objective.c.task_id == Task.id)
        .where(live.c.newest == 1)
        .group_by(live.c.intern_id, task_objective.c.objective_id)
    )
