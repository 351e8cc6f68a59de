"""The Celery worker entry: `celery -A workers worker --concurrency=2 --loglevel=INFO`."""

from app import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
