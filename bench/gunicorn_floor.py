"""gunicorn settings for the bare floor in its own fastest configuration (issue 22: compare
against the strongest baseline): sync workers, as many as the portal runs (WEB_CONCURRENCY). A
sync worker serves one connection at a time and closes it after each answer, which for a short
request costs less than the gthread worker's poller and thread hand-off. `make bench` runs the
floor both ways and takes, each round, the faster as the floor."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
accesslog = None
errorlog = "-"
control_socket_disable = True
