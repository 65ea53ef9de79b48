"""A load test as a university runs it: gunicorn on PostgreSQL (and Redis when given),
a cohort of 2,000 interns with a year of journal, and 200 people at once for 60 seconds.

    .venv/bin/pip install -e '.[bench]'      # locust
    createdb -h 127.0.0.1 -U postgres scale_bench
    .venv/bin/python bench/load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scale_bench \\
        [--redis-url redis://127.0.0.1:6379/8] [--users 200] [--seconds 60] [--interns 2000]

The database is EMPTIED first. The people are simulated with locust, in this process:
interns (7 in 10) read their journal, write a week and submit it; workplace supervisors
(2 in 10) open their review queue and approve the oldest week; advisors (1 in 10) open
the cohort dashboard, then an intern's grade page, and save a grade. Each waits 2 to 6 s
between two steps, and before the first, as a person reading a page does; they arrive over
the first five seconds.

Every worker warms up at boot (portfolio.warmup) and the run waits for all of them; a few
reads of each page come before the clock starts. Prints requests per second, p50/p95/p99
per page, the errors, and a reconciliation: every write a simulated person saw succeed (a
redirect after the POST) must be in the database exactly once, and no write may be there
that nobody saw succeed. Exits 1 when any target is missed: zero errors, zero lost or
doubled writes, p95 under 300 ms on every page. ``BENCH_ACCESS_LOG=<file>`` keeps
gunicorn's access log, whose times are the server's own.
"""

from __future__ import annotations

# locust patches the standard library for gevent: it must come first.
from locust import FastHttpUser, between, events, task  # isort: skip

import argparse
import itertools
import os
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gevent  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench import cohort as cohort_module  # noqa: E402

P95_TARGET_MS = 300

CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
DECIDE_FORM = re.compile(r'action="/c/\d+/entries/(\d+)/decide".*?name="content_hash" value="([0-9a-f]{64})"', re.S)

# Filled in by main() before the users start; read by the users.
SETUP: dict = {}
WRITES: dict[str, list] = defaultdict(list)  # kind → what the person saw succeed
UNCERTAIN: Counter = Counter()  # writes whose answer never came (a timeout): not counted either way
CUT_OFF: Counter = Counter()  # writes still on their way when the run ended: not counted either way


def _csrf(text: str) -> str | None:
    found = CSRF.search(text)
    return found.group(1) if found else None


class Person(FastHttpUser):
    abstract = True
    wait_time = between(2, 6)
    network_timeout = 30.0
    connection_timeout = 10.0

    def arrive(self):
        """The first step comes after a think time too: people open the tool at their own
        moments, and two hundred of them do not all click in the same second."""
        self.wait()

    def as_user(self, user_id: int) -> dict:
        return cohort_module.headers_for(SETUP["cookies"][user_id])

    def get(self, path: str, name: str, user_id: int):
        with self.client.get(path, headers=self.as_user(user_id), name=name, allow_redirects=False,
                             catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
                return None
            return response.text

    def post(self, path: str, name: str, user_id: int, data: dict, redirect_to: str = ""):
        """A form POST; succeeds on the redirect that follows a saved change."""
        try:
            return self._post(path, name, user_id, data, redirect_to)
        except BaseException:  # the run ended while the answer was on its way: the server may have saved it
            CUT_OFF[name] += 1
            raise

    def _post(self, path: str, name: str, user_id: int, data: dict, redirect_to: str):
        with self.client.post(path, headers=self.as_user(user_id), data=data, name=name, allow_redirects=False,
                              catch_response=True) as response:
            if response.status_code == 0:
                UNCERTAIN[name] += 1
                response.failure("no answer")
                return None
            if response.status_code != 302 or redirect_to not in (response.headers.get("Location") or ""):
                response.failure(f"{response.status_code} {response.headers.get('Location', '')}")
                return None
            return response.headers["Location"]


class Intern(Person):
    weight = 7

    def on_start(self):
        self.interns = SETUP["intern_queue"]  # shared: each real intern is played by one user only
        self.next_intern()
        self.arrive()

    def next_intern(self):
        self.intern = next(self.interns)
        self.weeks = list(SETUP["free_weeks"])

    @task
    def write_and_submit_a_week(self):
        course = SETUP["course_id"]
        if self.get(f"/c/{course}/journal", "intern home", self.intern) is None:
            return
        self.wait()
        if not self.weeks:
            self.next_intern()
        week = self.weeks.pop(0).isoformat()
        page = self.get(f"/c/{course}/journal/weeks/{week}", "week: form", self.intern)
        if page is None or not _csrf(page):
            return
        marker = f"load-{self.intern}-{week}"
        data = {"csrf_token": _csrf(page), "reflection": f"This week I ran the supplier workshop. {marker}",
                "tasks-0-description": "Prepared the supplier workshop", "tasks-0-hours": "6",
                "tasks-0-objectives": str(SETUP["objectives"][0])}
        saved = self.post(f"/c/{course}/journal/weeks/{week}", "week: save draft", self.intern,
                          dict(data, action="save"), redirect_to="/edit")
        if saved is None:
            return
        entry_id = int(re.search(r"/entries/(\d+)/edit", saved).group(1))
        WRITES["draft"].append((self.intern, week, marker, entry_id))
        self.wait()
        page = self.get(f"/c/{course}/entries/{entry_id}/edit", "week: edit", self.intern)
        if page is None:
            return
        submitted = self.post(f"/c/{course}/entries/{entry_id}/edit", "week: submit", self.intern,
                              dict(data, action="submit", csrf_token=_csrf(page)), redirect_to=f"/entries/{entry_id}")
        if submitted is not None:
            WRITES["submit"].append(entry_id)


class Supervisor(Person):
    weight = 2

    def on_start(self):
        self.supervisor = next(SETUP["supervisor_queue"])
        self.arrive()

    @task
    def approve_the_oldest_week(self):
        course = SETUP["course_id"]
        page = self.get(f"/c/{course}/review", "review queue", self.supervisor)
        if page is None:
            return
        waiting = DECIDE_FORM.findall(page)
        if not waiting:
            self.supervisor = next(SETUP["supervisor_queue"])
            return
        entry_id, content_hash = waiting[0]
        self.wait()
        approved = self.post(f"/c/{course}/entries/{entry_id}/decide", "review: approve", self.supervisor,
                             {"csrf_token": _csrf(page), "decision": "approve", "content_hash": content_hash},
                             redirect_to="/review")
        if approved is not None:
            WRITES["approve"].append(int(entry_id))


class Advisor(Person):
    weight = 1

    def on_start(self):
        self.advisor = next(SETUP["advisor_queue"])
        self.graded = itertools.count()
        self.arrive()

    @task
    def dashboard_then_grade(self):
        course = SETUP["course_id"]
        if SETUP["dashboard"]:
            if self.get(f"/c/{course}/cohort", "cohort dashboard", self.advisor) is None:
                return
            self.wait()
        intern = next(SETUP["grade_queue"])
        page = self.get(f"/c/{course}/grades/{intern}", "grade: form", self.advisor)
        if page is None or not _csrf(page):
            return
        marker = f"load-grade-{intern}"
        data = {"csrf_token": _csrf(page), "comment": marker}
        for criterion, levels in SETUP["criteria"].items():
            data[f"level_{criterion}"] = str(levels[(intern + criterion) % len(levels)])
            data[f"feedback_{criterion}"] = "Clear and well evidenced."
        self.wait()
        if self.post(f"/c/{course}/grades/{intern}", "grade: save", self.advisor, data,
                     redirect_to=f"/grades/{intern}") is not None:
            WRITES["grade"].append((intern, marker))


def _log_requests(path: str):
    """``BENCH_REQUEST_LOG=<file>``: one line per request, its start (seconds into the run),
    name and response time in ms, as locust measured them."""
    log = open(path, "w")
    started = time.monotonic()

    @events.request.add_listener
    def _request(request_type, name, response_time, **_kwargs):
        log.write(f"{time.monotonic() - started - response_time / 1000:.3f} {request_type} {name!r} {response_time:.0f}\n")

    return log


def warm_up(base: str, cohort, workers: int) -> None:
    """A few reads of each page the people open, before the clock starts, so that every
    worker has run each statement once: the figures are a running deployment's, not those
    of its first second. Reads only: the reconciliation counts every write."""
    import requests

    course = cohort.course_id
    intern, supervisor, advisor = cohort.interns[-1], cohort.supervisors[-1], cohort.advisors[-1]
    pages = [(f"/c/{course}/journal", intern), (f"/c/{course}/journal/weeks/{cohort.free_weeks[0].isoformat()}", intern),
             (f"/c/{course}/review", supervisor), (f"/c/{course}/cohort", advisor),
             (f"/c/{course}/grades/{intern}", advisor)]
    for _ in range(3 * workers):  # a new connection each time: the kernel spreads them over the workers
        for path, user in pages:
            requests.get(base + path, headers=cohort_module.headers_for(SETUP["cookies"][user]), allow_redirects=False,
                         timeout=30)


def reconcile(app, cohort) -> list[str]:
    """What the database holds against what the people saw; returns the problems."""
    from portfolio.db import db
    from portfolio.grading.models import Grade
    from portfolio.journal.models import Entry, EntryState
    from portfolio.signoff.models import Decision, DecisionKind

    problems = []
    maybe = UNCERTAIN + CUT_OFF  # writes the server may or may not have made
    with app.app_context():
        rows = db.session.execute(sa.select(Entry.id, Entry.intern_id, Entry.week_start, Entry.state, Entry.reflection)
                                  .where(Entry.course_id == cohort.course_id,
                                         Entry.reflection.like("%load-%"))).all()
        by_marker = defaultdict(list)
        for row in rows:
            by_marker[row.reflection.rpartition(" ")[2]].append(row)
        seen = {marker for _i, _w, marker, _e in WRITES["draft"]}
        for intern, week, marker, entry_id in WRITES["draft"]:
            found = by_marker.get(marker, [])
            if len(found) != 1:
                problems.append(f"week {marker}: {len(found)} rows in the database, expected 1")
            elif (found[0].id, found[0].intern_id, found[0].week_start.isoformat()) != (entry_id, intern, week):
                problems.append(f"week {marker}: saved as another row")
        extra = set(by_marker) - seen
        if extra and len(extra) > sum(maybe.values()):
            problems.append(f"{len(extra)} weeks in the database that no one saw saved")
        states = dict(db.session.execute(sa.select(Entry.id, Entry.state).where(
            Entry.id.in_(WRITES["submit"] or [-1]))).all())
        for entry_id in WRITES["submit"]:
            if states.get(entry_id) not in (EntryState.submitted, EntryState.approved):
                problems.append(f"entry {entry_id}: submitted, but {states.get(entry_id)} in the database")

        approvals = Counter(db.session.scalars(sa.select(Decision.entry_id).where(
            Decision.kind == DecisionKind.approved, Decision.entry_id.in_(WRITES["approve"] or [-1]))).all())
        for entry_id in WRITES["approve"]:
            if approvals[entry_id] != 1:
                problems.append(f"entry {entry_id}: approved once, {approvals[entry_id]} approvals in the database")
        all_decisions = db.session.scalar(sa.select(sa.func.count()).select_from(Decision))
        if all_decisions - len(WRITES["approve"]) > maybe["review: approve"]:
            problems.append(f"{all_decisions} decisions in the database, {len(WRITES['approve'])} seen made")

        grades = Counter(db.session.scalars(sa.select(Grade.comment).where(
            Grade.course_id == cohort.course_id, Grade.comment.like("load-grade-%"))).all())
        for intern, marker in WRITES["grade"]:
            if grades[marker] != 1:
                problems.append(f"grade {marker}: {grades[marker]} rows in the database, expected 1")
        if set(grades) - {m for _i, m in WRITES["grade"]} and maybe["grade: save"] == 0:
            problems.append("grades in the database that no one saw saved")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/scale_bench")
    parser.add_argument("--redis-url", help="Celery's broker: background work goes to a worker started here")
    parser.add_argument("--interns", type=int, default=2000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--no-dashboard", action="store_true",
                        help="diagnosis only: advisors grade without opening the cohort dashboard")
    args = parser.parse_args()

    from locust.env import Environment
    from locust.stats import stats_printer  # noqa: F401  (registers the percentile settings)

    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        port = cohort_module.free_port()
        env = cohort_module.environment(args.database_url, tmp, port, redis_url=args.redis_url)
        cohort_module.fresh_database(args.database_url)
        app = cohort_module.migrated_app(env)
        print(f"building a cohort of {args.interns} interns with a year of journal …", flush=True)
        started = time.monotonic()
        cohort = cohort_module.build(app, interns=args.interns, log=lambda message: print(message, flush=True))
        print(f"  built in {time.monotonic() - started:.0f} s", flush=True)
        with app.app_context():
            from portfolio.db import db

            db.session.remove()
            db.engine.dispose()  # the servers get the database to themselves

        users = set(cohort.interns) | set(cohort.supervisors) | set(cohort.advisors)
        SETUP.update(
            course_id=cohort.course_id, dashboard=not args.no_dashboard, objectives=cohort.objectives, free_weeks=cohort.free_weeks,
            criteria=cohort.criteria, cookies={u: cohort_module.session_cookie(app, u) for u in users},
            intern_queue=iter(cohort.interns), supervisor_queue=itertools.cycle(cohort.supervisors),
            advisor_queue=itertools.cycle(cohort.advisors), grade_queue=iter(cohort.interns[::-1]))

        worker = None
        if args.redis_url:
            worker = cohort_module.CeleryWorker(env, log_path=f"{tmp}/worker.log")
        with cohort_module.Gunicorn(env, port, workers=args.workers, threads=args.threads,
                                    log_path=f"{tmp}/gunicorn.log"), (worker or _nothing()):
            environment = Environment(user_classes=[Intern, Supervisor, Advisor], events=events,
                                      host=f"http://127.0.0.1:{port}")
            runner = environment.create_local_runner()
            print(f"{args.users} people for {args.seconds} s against gunicorn ({args.workers} workers × "
                  f"{args.threads} threads) on {args.database_url.partition(':')[0]}"
                  f"{' and Redis' if args.redis_url else ''}"
                  f"{' (DIAGNOSIS: the cohort dashboard left out)' if args.no_dashboard else ''} …", flush=True)
            warm_up(f"http://127.0.0.1:{port}", cohort, args.workers)
            request_log = _log_requests(os.environ["BENCH_REQUEST_LOG"]) if os.environ.get("BENCH_REQUEST_LOG") else None
            runner.start(args.users, spawn_rate=args.users / 5)
            gevent.sleep(args.seconds)
            runner.quit()
            if request_log is not None:
                request_log.close()
            stats = environment.stats
            print(_table(stats, args.seconds))
            errors = [(f"{e.method} {e.name}", str(e.error), e.occurrences) for e in stats.errors.values()]

        print("\nerrors:", "none" if not errors else "")
        for what, error, count in errors:
            print(f"  {count} × {what}: {error}")
        problems = reconcile(app, cohort)
        writes = {kind: len(done) for kind, done in WRITES.items()}
        print(f"\nreconciliation: writes seen to succeed: {writes}; without an answer: {dict(UNCERTAIN) or 0}; "
              f"still on their way when the run ended: {dict(CUT_OFF) or 0}")
        print("  every write in the database exactly once" if not problems else "  PROBLEMS:")
        for problem in problems[:20]:
            print(f"    {problem}")
        slow = [e.name for e in stats.entries.values() if e.get_response_time_percentile(0.95) >= P95_TARGET_MS]
        print(f"\ntargets: zero errors {'met' if not errors else 'NOT met'}; "
              f"no lost or doubled write {'met' if not problems else 'NOT met'}; "
              f"p95 < {P95_TARGET_MS} ms on every page {'met' if not slow else 'NOT met: ' + ', '.join(slow)}")
        return 0 if not errors and not problems and not slow else 1


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _table(stats, seconds: int) -> str:
    lines = [f"\n{'page':<22} {'requests':>9} {'fails':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}"]
    for entry in sorted(stats.entries.values(), key=lambda e: e.name):
        lines.append(f"{entry.name:<22} {entry.num_requests:9d} {entry.num_failures:6d} "
                     f"{entry.get_response_time_percentile(0.5):7.0f} {entry.get_response_time_percentile(0.95):7.0f} "
                     f"{entry.get_response_time_percentile(0.99):7.0f} {entry.max_response_time:7.0f}")
    total = stats.total
    lines.append(f"{'all':<22} {total.num_requests:9d} {total.num_failures:6d} "
                 f"{total.get_response_time_percentile(0.5):7.0f} {total.get_response_time_percentile(0.95):7.0f} "
                 f"{total.get_response_time_percentile(0.99):7.0f} {total.max_response_time:7.0f}")
    lines.append(f"\nrequests per second: {total.num_requests / seconds:.1f}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
