"""The cohort as a spreadsheet: the rows the advisor is looking at, in the viewer's time
zone. Any text cell a spreadsheet would read as a formula (= + - @, or a leading tab or
carriage return) gets a leading apostrophe, so a name like ``=HYPERLINK(…)`` stays text."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from flask_babel import gettext as _, to_user_timezone

from portfolio.cohort.summary import GRADE_LABELS, SYNC_LABELS, InternRow
from portfolio.objectives.models import Objective
from portfolio.placements.countries import country_name

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def guard(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _local(moment: datetime | None) -> str:
    return to_user_timezone(moment).isoformat(timespec="minutes") if moment else ""


def cohort_csv(rows: list[InternRow], objectives: list[Objective], now: datetime) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([guard(h) for h in [
        _("Name"), _("Email"), _("Opened the tool"), _("Host organisation"), _("City"), _("Country"),
        _("Start"), _("End"), _("Weeks approved"), _("Weeks waiting"), _("Weeks missing"),
        _("Oldest waiting since"), _("Days waiting"), _("Hours logged"), _("Hours expected to date"),
        _("Grade"), _("Sent to the LMS"),
        *[f"{o.code} {o.title}" for o in objectives],
    ]])
    for row in rows:
        p = row.placement
        writer.writerow([guard(v) for v in [
            row.name, row.user.email or "", _("no") if row.never_launched else _("yes"),
            p.host_organisation if p else "", p.city if p else "", country_name(p.country) if p else "",
            p.start_date.isoformat() if p else "", p.end_date.isoformat() if p else "",
            row.approved, row.submitted, row.missing,
            _local(row.waiting_since), (now - row.waiting_since).days if row.waiting_since else "",
            f"{row.hours_logged:.2f}", f"{row.hours_expected:.2f}" if p else "",
            str(GRADE_LABELS[row.grade]), str(SYNC_LABELS[row.sync]) if row.sync else "",
            *[row.coverage.get(o.id, 0) for o in objectives],
        ]])
    return out.getvalue()
