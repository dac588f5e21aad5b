"""The RQ worker class of the project: a job that fails or times out costs itself, never the jobs after it.

    manage.py rqworker routing notifications --worker-class routing.worker.RoutingWorker
"""

import logging

from django.db import close_old_connections, connections
from psycopg.pq import TransactionStatus
from rq.job import JobStatus
from rq.timeouts import BaseTimeoutException, UnixSignalDeathPenalty
from rq.worker import SimpleWorker

logger = logging.getLogger("routing")

CANCEL_TIMEOUT_SECONDS = 5  # a cancel request is one round trip; a database gone does not hold the worker long


class CancellingDeathPenalty(UnixSignalDeathPenalty):
    """RQ's job timeout (SIGALRM), which first asks PostgreSQL to stop the job's running query.

    The timeout's exception leaves the query running on the server: closing the socket afterwards is not
    enough, PostgreSQL notices only when the query ends, and until then it holds its locks (the leads a batch
    locked, a rule's row), keeping every other worker off them.
    """

    fired = False

    def handle_death_penalty(self, signum, frame):
        self.fired = True
        cancel_running_queries()
        super().handle_death_penalty(signum, frame)

    def __exit__(self, exc_type, exc_value, traceback):
        super().__exit__(exc_type, exc_value, traceback)
        if self.fired and exc_type is not None and not issubclass(exc_type, BaseTimeoutException):
            # The timeout's exception interrupted a cleanup (a COMMIT, Django resetting autocommit in atomic()'s
            # exit) that then failed on the half-used connection and replaced it: the job still ran out of time.
            raise self._exception(f"Task exceeded maximum timeout value ({self._timeout} seconds)") from exc_value
        return False


class RoutingWorker(SimpleWorker):
    """SimpleWorker (jobs run in the worker process: no fork sharing a connection) that hands every job a sound
    database connection.

    RQ stops a job at its timeout by raising JobTimeoutException from SIGALRM wherever the job is, often
    inside a psycopg call or inside `transaction.atomic()` between setting Django's flags and talking to the
    server. The connection is then mid-protocol ("another command is already in progress") or Django still
    believes it is inside a transaction block, so `close_old_connections()` cannot drop it (a connection closed
    inside an atomic block stays attached, "the connection is closed"): every later job on the worker failed.
    So after a job that failed, for whatever reason, every connection is discarded, Django's state with it.
    """

    death_penalty_class = CancellingDeathPenalty

    def execute_job(self, job, queue):
        # What Django does around a request: drop connections past CONN_MAX_AGE or left unusable.
        close_old_connections()
        try:
            super().execute_job(job, queue)
        finally:
            if job.get_status(refresh=False) == JobStatus.FINISHED:
                close_old_connections()
            else:
                discard_database_connections()


def cancel_running_queries() -> None:
    """Sends PostgreSQL a cancel request for each connection of this thread that has a command in progress."""
    for connection in connections.all(initialized_only=True):
        raw = connection.connection
        if connection.vendor != "postgresql" or raw is None or raw.closed:
            continue
        if raw.info.transaction_status == TransactionStatus.ACTIVE:
            try:
                raw.cancel_safe(timeout=CANCEL_TIMEOUT_SECONDS)
            except Exception as error:  # noqa: BLE001 — the timeout must fire even when the database is gone
                logger.warning("Could not cancel the query of a timed-out job on %r: %s", connection.alias, error)


def discard_database_connections() -> None:
    """Closes every database connection of this thread and forgets it: the next query opens a fresh one."""
    for connection in connections.all(initialized_only=True):
        try:
            # Closes the socket even inside an atomic block (where Django would keep the closed connection).
            connection.close()
        except Exception as error:  # noqa: BLE001 — a broken connection may fail to close; it is dropped anyway
            logger.warning("Closing database connection %r after a failed job: %s", connection.alias, error)
        # A fresh wrapper next time: no atomic block, savepoint or on_commit callback of the failed job survives.
        del connections[connection.alias]
