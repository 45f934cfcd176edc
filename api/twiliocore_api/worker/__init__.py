"""Durable work: a job queue interface, its embedded implementation, and the worker.

Long or timed work (bulk sends; next, releasing a number at expiry) is a record first
(its own rows) and a queue job second: the job only says "work on this", and when. See
:mod:`twiliocore_api.worker.queue` for the lease protocol and
:mod:`twiliocore_api.worker.runner` for the worker that runs inside the service.
"""

from twiliocore_api.worker.queue import ExpiredJob, JobQueue, Lease, SqlJobQueue
from twiliocore_api.worker.runner import Abandon, Handler, RetryLater, Worker, worker_id

__all__ = [
    "Abandon",
    "ExpiredJob",
    "Handler",
    "JobQueue",
    "Lease",
    "RetryLater",
    "SqlJobQueue",
    "Worker",
    "worker_id",
]
