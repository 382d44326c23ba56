"""gunicorn settings. The portal writes one line per request itself (portal/logs.py); the
format below is only for an access log turned on with --access-logfile: the method, the path
without its query string (anonymous-login refresh tokens travel in it), the status, size and
time: no header, no body."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
# No access log: the portal logs each request itself (portal/logs.py, LOG_FORMAT plain or json).
accesslog = None
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
