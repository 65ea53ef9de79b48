"""Sign-off pages: managing an intern's supervisor, the supervisor's sign-in through a
link (a GET shows a page; only a POST from a real click signs in), asking for a new
link, the review queue and decisions."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import Blueprint, abort, flash, get_template_attribute, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy.orm import selectinload

from portfolio.db import db
from portfolio.errors import DomainError, ensure
from portfolio.journal.models import Entry, Task
from portfolio.notify.delivery import kick
from portfolio.people.access import load_membership
from portfolio.people.models import Membership, Role, User
from portfolio.signoff import notifications, operations, queries
from portfolio.signoff.forms import InviteForm, NewLinkForm, SignInForm
from portfolio.signoff.models import DecisionKind, SignInLink
from portfolio.templating import CSRF_SLOT, Formats, Memo, Numbers, with_csrf

bp = Blueprint("signoff", __name__)


def _intern(course_id: int, intern_id: int) -> Membership:
    return db.session.scalar(sa.select(Membership).where(
        Membership.course_id == course_id, Membership.user_id == intern_id, Membership.role == Role.intern)) or abort(404)


# --- the intern's supervisor, managed by the intern or an advisor --------------------------


@bp.get("/c/<int:course_id>/supervisor")
def mine(course_id: int):
    membership = load_membership(course_id)
    ensure(membership.role is Role.intern)
    return _supervisor_page(membership, membership)


@bp.get("/c/<int:course_id>/interns/<int:intern_id>/supervisor")
def of_intern(course_id: int, intern_id: int):
    membership = load_membership(course_id)
    intern = _intern(course_id, intern_id)
    ensure(operations.can_manage_supervisor(membership, intern_id))
    return _supervisor_page(membership, intern)


def _supervisor_page(membership: Membership, intern: Membership, form: InviteForm | None = None, status: int = 200):
    supervision = operations.current_supervision(intern.course_id, intern.user_id)
    link = None
    if supervision is not None:
        link = db.session.scalar(sa.select(SignInLink).where(SignInLink.supervision_id == supervision.id)
                                 .order_by(SignInLink.created_at.desc()).limit(1))
    form = form or InviteForm(locale=intern.user.effective_locale or "en")
    return render_template("signoff/supervisor_edit.html", course=membership.course, membership=membership,
                           intern=intern, supervision=supervision, link=link, form=form), status


@bp.post("/c/<int:course_id>/interns/<int:intern_id>/supervisor/invite")
def invite(course_id: int, intern_id: int):
    membership = load_membership(course_id)
    intern = _intern(course_id, intern_id)
    ensure(operations.can_manage_supervisor(membership, intern_id))
    form = InviteForm()
    if not form.validate_on_submit():
        return _supervisor_page(membership, intern, form, 422)
    invitation = operations.invite_supervisor(intern, name=form.name.data, email=form.email.data,
                                              locale=form.locale.data, by=membership)
    notifications.invitation(invitation.supervision, invitation.token, membership.user)
    db.session.commit()
    kick()
    flash(_("An invitation is on its way to %(email)s.", email=form.email.data), "success")
    return redirect(_back(membership, intern_id))


@bp.post("/c/<int:course_id>/interns/<int:intern_id>/supervisor/<action>")
def manage(course_id: int, intern_id: int, action: str):
    membership = load_membership(course_id)
    _intern(course_id, intern_id)
    supervision = operations.current_supervision(course_id, intern_id) or abort(404)
    if action == "resend":
        token = operations.issue_link(supervision, by=membership)
        notifications.new_link(supervision, token)
        message = _("A new link is on its way; the earlier one no longer works.")
    elif action == "revoke":
        operations.revoke_links(supervision, by=membership)
        message = _("The supervisor's links no longer work.")
    elif action == "end":
        operations.end_supervision(supervision, by=membership)
        message = _("%(name)s no longer supervises this intern.", name=supervision.supervisor.display_name)
    else:
        abort(404)
    db.session.commit()
    kick()
    flash(message, "success")
    return redirect(_back(membership, intern_id))


def _back(membership: Membership, intern_id: int) -> str:
    if membership.user_id == intern_id:
        return url_for(".mine", course_id=membership.course_id)
    return url_for(".of_intern", course_id=membership.course_id, intern_id=intern_id)


# --- signing in with a link ------------------------------------------------------------------


@bp.get("/signin/<token>")
def confirm(token: str):
    """Opening the link only shows this page: mail scanners that fetch links sign nobody in."""
    link = db.session.scalar(sa.select(SignInLink).where(SignInLink.token_hash == operations.token_hash(token)))
    supervision = link.supervision if link is not None else None
    return render_template("signoff/signin_confirm.html", form=SignInForm(), token=token, supervision=supervision)


@bp.post("/signin/<token>")
def sign_in(token: str):
    form = SignInForm()
    if not form.validate_on_submit():
        link = db.session.scalar(sa.select(SignInLink).where(SignInLink.token_hash == operations.token_hash(token)))
        return render_template("signoff/signin_confirm.html", form=form, token=token,
                               supervision=link.supervision if link else None), 422
    try:
        supervision = operations.redeem_link(token)
    except operations.LinkRefused as refused:
        db.session.rollback()
        return render_template("signoff/signin_request.html", form=NewLinkForm(), refused=refused.description), 410
    supervisor = db.session.get(User, supervision.supervisor_id)
    db.session.commit()
    login_user(supervisor)
    return redirect(url_for(".queue", course_id=supervision.course_id))


@bp.route("/signin", methods=["GET", "POST"])
def request_link():
    """Asking for a new link: the answer is the same whether the address is known or not."""
    form = NewLinkForm()
    if form.validate_on_submit():
        for supervision in operations.supervisions_for_email(form.email.data):
            token = operations.issue_link(supervision, by=None)
            notifications.new_link(supervision, token)
        db.session.commit()
        kick()
        return render_template("signoff/signin_request.html", form=None, sent=True)
    return render_template("signoff/signin_request.html", form=form, sent=False), 422 if request.method == "POST" else 200


# --- the review queue and decisions -------------------------------------------------------------


@bp.get("/c/<int:course_id>/review")
def queue(course_id: int):
    membership = load_membership(course_id)
    ensure(membership.role in (Role.supervisor, Role.advisor, Role.admin))
    entries, interns = queries.review_queue(membership)
    return render_template("signoff/review_queue.html", course=membership.course, membership=membership,
                           entries=entries, interns=interns, articles=_articles(membership.course, entries))


# Each waiting week's article as HTML, by everything it shows: a queue viewed again, or by
# another supervisor with the same language and time zone, renders only what changed. A
# submitted week cannot change until it is decided, so most views render none.
_ARTICLES = Memo(2_000)  # some 4 KB an article
_SHARED = Numbers(1_000)


def _articles(course, weeks: list[queries.WaitingWeek]) -> list[Markup]:
    formats = Formats()
    shown = _SHARED.of((course.id, request.script_root, formats.key))
    found, missing = [], []
    for week in weeks:
        key = (shown, week.id, week.revision, week.state, week.submitted_at, week.intern, week.reflection,
               week.reflection_html, week.content_hash, tuple(week.evidence),
               tuple((t.position, t.description, t.hours, tuple(t.objectives)) for t in week.tasks))
        found.append(_ARTICLES.get(key))
        if found[-1] is None:
            missing.append((len(found) - 1, key, week))
    if missing:
        article = get_template_attribute("signoff/_week.html", "week_article")
        texts = _queue_texts([week for _i, _key, week in missing], formats)
        for i, key, week in missing:
            found[i] = _ARTICLES.keep(key, article(week, course, texts, CSRF_SLOT))
    return [with_csrf(html) for html in found]


def _queue_texts(weeks: list[queries.WaitingWeek], formats: Formats) -> dict:
    """The queue's words, translated once, and its hours, weeks and times as the
    ``numberformat``, ``dateformat("medium")`` and ``datetimeformat("short")`` filters show
    them, each distinct value formatted once: the queue repeats the same few on every week
    and task."""
    hours = {week.hours for week in weeks} | {task.hours for week in weeks for task in week.tasks}
    return {
        "week_of": _("Week of %(date)s", date="%(date)s"), "submitted_on": _("submitted %(when)s", when="%(when)s"),
        "select": _("Select for approval"), "task": _("Task"), "objectives": _("Objectives"),
        "hours": _("Hours (correct if needed)"), "total": _("Total"), "comment": _("Comment for the intern"),
        "comment_hint": _("Required when you send the week back."), "approve": _("Approve"),
        "send_back": _("Send back"),
        "number": {value: formats.number(value) for value in hours},
        "week_date": {day: formats.date(day) for day in {week.week_start for week in weeks}},
        "moment": {when: formats.moment(when) if when else "" for when in {week.submitted_at for week in weeks}},
    }


def _hours(prefix: str, entry: Entry) -> dict[int, Decimal]:
    corrected = {}
    for task in entry.tasks:
        raw = (request.form.get(f"{prefix}{task.position}") or "").strip().replace(",", ".")
        if raw:
            try:
                corrected[task.position] = Decimal(raw)
            except InvalidOperation:
                raise DomainError(_("Corrected hours must be numbers, for example 7.5.")) from None
    return corrected


@bp.post("/c/<int:course_id>/entries/<int:entry_id>/decide")
def decide(course_id: int, entry_id: int):
    membership = load_membership(course_id)
    entry = db.session.scalar(sa.select(Entry).where(Entry.id == entry_id, Entry.course_id == course_id)
                              .options(selectinload(Entry.tasks).selectinload(Task.objectives))) or abort(404)
    choice = request.form.get("decision")
    kinds = {"approve": DecisionKind.approved, "request_changes": DecisionKind.changes_requested}
    if choice not in kinds:
        abort(400, description=_("Choose approve or send back."))
    decision = operations.decide(entry, kinds[choice], by=membership, shown_hash=request.form.get("content_hash", ""),
                                 comment=request.form.get("comment", ""), hours=_hours(f"hours-{entry.id}-", entry),
                                 via=_via(membership))
    notifications.decision_made(entry, decision)
    approved = decision.kind is DecisionKind.approved  # read before the commit expires it
    db.session.commit()
    kick()
    flash(_("The week is approved.") if approved else _("The week is sent back to the intern."), "success")
    return redirect(request.form.get("next") if (request.form.get("next") or "").startswith(f"/c/{course_id}/")
                    else url_for(".queue", course_id=course_id))


@bp.post("/c/<int:course_id>/review/approve")
def approve_many(course_id: int):
    """Approve several weeks at once; each still gets its own decision with its own hash."""
    membership = load_membership(course_id)
    ids = [int(i) for i in request.form.getlist("entry_ids") if i.isdigit()]
    if not ids:
        flash(_("Tick the weeks to approve."), "error")
        return redirect(url_for(".queue", course_id=course_id))
    entries = db.session.scalars(sa.select(Entry).where(Entry.id.in_(ids), Entry.course_id == course_id)).all()
    if len(entries) != len(set(ids)):
        abort(404)
    for entry in sorted(entries, key=lambda e: e.id):
        decision = operations.decide(entry, DecisionKind.approved, by=membership,
                                     shown_hash=request.form.get(f"content_hash-{entry.id}", ""), via=_via(membership))
        notifications.decision_made(entry, decision)
    db.session.commit()
    kick()
    flash(_("%(count)s weeks approved.", count=len(entries)), "success")
    return redirect(url_for(".queue", course_id=course_id))


def _via(membership: Membership) -> str:
    if membership.role is Role.supervisor:
        return "link" if current_user.platform_id is None else "launch"
    return "web"

