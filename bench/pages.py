"""How long the main pages take, against a Flask hello-world served by the same gunicorn
in the same run: the intern's home (a year of journal), a supervisor's review queue and
the cohort dashboard of a course of 500 interns.

    .venv/bin/python bench/pages.py [--database-url postgresql+psycopg://postgres@127.0.0.1/scale_bench]
                                    [--interns 500] [--rounds 200]

Without ``--database-url`` it runs on a throw-away SQLite file. The database is EMPTIED
first. One gunicorn worker with one thread serves everything, and one client asks for
the pages in turn over a kept-alive connection, so each figure is the time of one request
with nothing else running. Prints p50 and p95 per page and the p50 as a multiple of the
hello-world's p50 (target: each main page within 5×).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import cohort as cohort_module  # noqa: E402

TARGET = 5.0


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--interns", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--server-log", help="keep gunicorn's log in this file")
    args = parser.parse_args()

    import requests

    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        database_url = args.database_url or f"sqlite:///{tmp}/portfolio.db"
        port = cohort_module.free_port()
        env = cohort_module.environment(database_url, tmp, port)
        cohort_module.fresh_database(database_url)
        app = cohort_module.migrated_app(env)
        print(f"building a course of {args.interns} interns with a year of journal on "
              f"{database_url.partition(':')[0]} …", flush=True)
        started = time.monotonic()
        cohort = cohort_module.build(app, interns=args.interns, log=lambda *a: None)
        print(f"  built in {time.monotonic() - started:.0f} s", flush=True)

        intern = cohort.interns[len(cohort.interns) // 2]
        supervisor = cohort.supervisor_of[intern]
        advisor = cohort.advisors[0]
        course = cohort.course_id
        pages = [
            ("hello world (bare Flask)", "/hello/", None),
            ("intern home (journal)", f"/c/{course}/journal", intern),
            ("review queue (supervisor)", f"/c/{course}/review", supervisor),
            (f"cohort dashboard ({args.interns} interns)", f"/c/{course}/cohort", advisor),
        ]
        cookies = {user: cohort_module.session_cookie(app, user) for _, _, user in pages if user}

        with cohort_module.Gunicorn(env, port, workers=1, threads=1, log_path=args.server_log or f"{tmp}/gunicorn.log"):
            session = requests.Session()
            retried: list[str] = []
            base = f"http://127.0.0.1:{port}"

            def fetch(path: str, user: int | None) -> float:
                headers = cohort_module.headers_for(cookies[user]) if user else {"User-Agent": cohort_module.USER_AGENT}
                begin = time.perf_counter()
                try:
                    response = session.get(base + path, headers=headers, allow_redirects=False)
                except requests.ConnectionError:  # a kept-alive connection closed under us: once more, said
                    retried.append(path)
                    begin = time.perf_counter()
                    response = session.get(base + path, headers=headers, allow_redirects=False)
                elapsed = time.perf_counter() - begin
                if response.status_code != 200:
                    raise SystemExit(f"GET {path} answered {response.status_code}")
                return elapsed * 1000

            for _ in range(20):  # warm the caches: templates, the pool, the database's pages
                for _, path, user in pages:
                    fetch(path, user)
            samples: dict[str, list[float]] = {name: [] for name, _, _ in pages}
            for _ in range(args.rounds):  # interleaved, so a hiccup hits every page alike
                for name, path, user in pages:
                    samples[name].append(fetch(path, user))

        hello = statistics.median(samples[pages[0][0]])
        print(f"\n{args.rounds} requests per page, one at a time, gunicorn (1 worker, 1 thread), "
              f"{database_url.partition(':')[0]}\n")
        print(f"{'page':<34} {'p50 ms':>8} {'p95 ms':>8} {'× hello':>8}")
        worst = 0.0
        for name, _, _ in pages:
            p50 = statistics.median(samples[name])
            ratio = p50 / hello
            if name != pages[0][0]:
                worst = max(worst, ratio)
            print(f"{name:<34} {p50:8.1f} {percentile(samples[name], 95):8.1f} {ratio:8.1f}")
        if retried:
            print(f"\n{len(retried)} requests retried after the server closed a kept-alive connection")
        print(f"\ntarget: every main page within {TARGET:.0f}× the hello world: "
              f"{'met' if worst <= TARGET else 'NOT met'} (worst {worst:.1f}×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
