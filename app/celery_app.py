"""Celery wired to the Flask app, as in Flask's own Celery pattern."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask

from celery_config import celery_settings


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(celery_settings(app.config["CELERY_BROKER_URL"]))
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
