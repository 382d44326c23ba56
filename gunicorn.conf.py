"""gunicorn settings (`make run`, and the systemd unit in deploy/).

gthread workers: a connection gets a thread, not a whole worker process, so a client that sends
its headers or body slowly holds one of WEB_THREADS threads while the others go on serving. In
production nginx sits in front (deploy/nginx/) and passes gunicorn only complete requests.

The portal writes one line per request itself (kernel/logs.py, LOG_FORMAT plain or json), so
gunicorn's access log is off; the format below is only for one turned on with --access-logfile:
the method, the path without its query string (anonymous-login refresh tokens travel in it),
the status, size and time, no header, no body, control characters escaped in every field."""

import importlib
import os
import sys

# gunicorn runs this file again on HUP (`systemctl reload`) in the master, whose new workers are
# forked from it and import the new code: a kernel.logescape (or kernel.handoff) the master
# imported before the new code was deployed would be handed to them as it was (an upgrade that
# changed it would have its workers fail to boot, and the master stop). So they are read again too.
for _module in ("kernel.logescape", "kernel.acceptshare", "kernel.handoff", "kernel.metricsdir"):
    if _module in sys.modules:
        importlib.reload(sys.modules[_module])
from kernel import metricsdir  # noqa: E402
from kernel.acceptshare import ConnectionShares  # noqa: E402
from kernel.handoff import Handoff, HandoffThreadWorker, warm_up  # noqa: E402
from kernel.logescape import EscapingGunicornLogger  # noqa: E402

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gunicorn's gthread worker that, on a reload, goes on serving until the new workers are ready
# (kernel/handoff.py), so that a reload under load does not stall requests.
worker_class = HandoffThreadWorker
# Per worker. Idle threads cost little; database connections are pooled per worker
# (DATABASE_POOL_MAX_SIZE in portal/settings.py), not held per thread.
threads = int(os.environ.get("WEB_THREADS", "64"))
# No access log: the portal logs each request itself (kernel/logs.py).
accesslog = None
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
logger_class = EscapingGunicornLogger
errorlog = "-"
# gunicorn's control socket has one path per user ($HOME/.gunicorn): several servers on one
# machine (tests, benchmarks) would take each other's, and systemd's ProtectHome hides it.
# Reload with HUP, stop with TERM.
control_socket_disable = True


# --- Reloads without a stall (kernel/handoff.py) ------------------------------------------------


def on_starting(server) -> None:
    # Before the first fork, so that every worker shares it; kept on the master across reloads.
    server.handoff = Handoff()
    # The workers' connection counts, so that kept-alive connections spread evenly over them
    # (kernel/acceptshare.py).
    server.shares = ConnectionShares()
    # The workers' metrics files, added up by /metrics: a fresh directory per server start
    # (kernel/metricsdir.py, docs/metrics.md).
    server.metrics_dir = metricsdir.prepare()


def child_exit(server, worker) -> None:
    # However it ended (SIGKILL included), its connections no longer count.
    server.shares.leave(ConnectionShares.slot(worker.age))
    # An ended worker's gauges (its database pool) no longer count; its counters do.
    metricsdir.worker_ended(worker.pid)


def on_exit(server) -> None:
    metricsdir.remove(server.metrics_dir)


def on_reload(server) -> None:
    # Runs before the new workers are forked: those alive now are the old generation.
    server.handoff.reload_started(newest_age=server.worker_age, workers=server.num_workers)


def pre_fork(server, worker) -> None:
    worker.handoff = server.handoff
    worker.shares = server.shares


def post_worker_init(worker) -> None:
    # The application is loaded; warm it before the worker accepts (and says it is ready).
    warm_up()
    # Its database pool, now open, sampled for /metrics (kernel/metrics.py).
    from kernel.metrics import worker_started

    worker_started()


def worker_exit(server, worker) -> None:
    # Hand on the usage this worker counted and has not handed on yet (kernel/usage.py), before
    # it goes (its atexit does too; this does not depend on how the worker ends).
    from kernel import usage

    usage.stop()
