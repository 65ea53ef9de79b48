"""gunicorn's configuration for the portfolio: ``gunicorn -c gunicorn.conf.py portfolio.wsgi:app``.

Every value can be overridden from the environment (``GUNICORN_*``) or the command line,
so one file serves the laptop-sized server and each machine of a larger deployment.
The app process keeps no state of its own (sessions are signed cookies, LTI launch data
and nonces live in the database), so any number of these servers can stand behind one
load balancer.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")

# Sync workers with a few threads each: requests wait mostly on the database, and
# threads share a process's connection pool. Two processes per core is a good start.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = "gthread"

# A PDF export runs in a background job, never in a request, so no request should take
# long: a worker stuck for 60 s is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30  # on restart, requests in flight get this long to finish
# Behind a proxy that reuses its connections, an idle one must stay open here longer than
# the proxy keeps it: otherwise the proxy may send a request just as this end closes it, and
# a form POST, which it cannot safely send again, fails with a 502. Set it above the
# proxy's or load balancer's idle timeout (deploy/compose.yaml's Caddy keeps them 2 minutes).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 75))

# Replace each worker after a few thousand requests (with jitter, so they do not all
# restart together): bounds the damage of any slow leak in a C library.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 5000))
max_requests_jitter = 500

# Each worker builds its own app, hence its own database pool: nothing opened before the
# fork is shared between processes.
preload_app = False

# The https proxy in front sets X-Forwarded-Proto; trust it only from where it runs.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# Logs go to stdout/stderr for journald or the container runtime. The access log carries
# the request id the app sends back as X-Request-Id, the same one its own log lines show.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'

# gunicorn ≥ 25 opens a control socket at one fixed path per user: several servers on one
# machine would fight over it, and nothing here uses it (restart with signals: HUP reloads).
control_socket_disable = True


def post_worker_init(worker):
    """Each worker compiles its templates and opens its connections before its first
    request (portfolio.warmup), not during it."""
    from portfolio.warmup import warm
    from portfolio.wsgi import app  # already loaded by this worker: no second app

    warm(app, connections=worker.cfg.threads)
