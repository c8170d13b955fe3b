"""The Celery application; tasks are discovered in every installed app's tasks.py."""

import os

from celery import Celery

from ops.logs import connect_celery_signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("mcp_index")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
connect_celery_signals()  # the task id joins the log context while a task runs
