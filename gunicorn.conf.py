"""gunicorn settings (`make run`, and the systemd unit in deploy/).

gthread workers: a connection gets a thread, not a whole worker process, so a client that sends
its headers or body slowly holds one of WEB_THREADS threads while the others go on serving. In
production nginx sits in front (deploy/nginx/) and passes gunicorn only complete requests.

The access log has the method, the path without its query string (anonymous-login refresh
tokens travel in it), the status, size and time: no header, no body; control characters in any
field are escaped, so a request cannot forge log lines."""

import os

from portal.logescape import EscapingGunicornLogger

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
# Per worker. Idle threads cost little; database connections are pooled per worker
# (DATABASE_POOL_MAX_SIZE in portal/settings.py), not held per thread.
threads = int(os.environ.get("WEB_THREADS", "64"))
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
logger_class = EscapingGunicornLogger
errorlog = "-"
# gunicorn's control socket has one path per user ($HOME/.gunicorn): several servers on one
# machine (tests, benchmarks) would take each other's, and systemd's ProtectHome hides it.
# Reload with HUP, stop with TERM.
control_socket_disable = True
