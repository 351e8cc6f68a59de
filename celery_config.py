"""Celery settings. The broker is `CELERY_BROKER_URL` (Redis); without it, tasks run in process.

Delivery is at least once: a task is acknowledged after it finishes (`task_acks_late`), and a
task whose worker process dies is handed back to the broker (`task_reject_on_worker_lost`).
Every task is idempotent: chunks and phases are claimed in the database and resume from their
checkpoints, so a second delivery never stages or decides a row twice.

Redelivery after a whole worker is killed: Redis keeps an unacknowledged message invisible for
`VISIBILITY_TIMEOUT` seconds; after that, the next worker that restores unacked messages (at
start and then on kombu's timer) hands it out again, so expect the timeout plus up to a couple
of minutes. Tasks are short (one chunk of ids, or a phase that renews its run lease with every
batch), so a second delivery of a task that is still running finds the chunk or run held and
retries later instead of working twice. `flask legacy resume --run=ID` does not wait for any of
this: it takes over as soon as the dead worker's lease (LEGACY_LEASE_SECONDS, 30 s) expires.
"""

from __future__ import annotations

from typing import Any

VISIBILITY_TIMEOUT = 600


def celery_settings(broker_url: str | None) -> dict[str, Any]:
    if not broker_url:
        return {"task_always_eager": True, "task_eager_propagates": True, "task_ignore_result": True}
    return {
        "broker_url": broker_url,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {"visibility_timeout": VISIBILITY_TIMEOUT},
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "worker_hijack_root_logger": False,
        "task_default_queue": "legacy_import",
    }
