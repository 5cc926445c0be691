"""Jobs under faults, against the real PostgreSQL and Redis.

1. Redis is unreachable while a user saves: the save succeeds, the job is recorded, and the
   notification is delivered once the broker is back (the periodic re-send job runs).
2. A worker process killed in the middle of a job: the message goes back to the queue (late
   acknowledgement, reject on worker lost), the rerun finishes it, and the result is the same
   as that of an uninterrupted run.

Django in the web process and the Celery worker run as separate processes, as in production.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from notifications.models import Notification, PendingTask
from tests.factories import CustomerFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL") or "postgres" not in os.environ.get("DATABASE_URL", ""),
        reason="needs DATABASE_URL (PostgreSQL) and REDIS_URL",
    ),
]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def proc_env(tmp_path):
    """Environment for Django/Celery subprocesses: the test database, a private queue."""
    db = settings.DATABASES["default"]
    queue = f"fault-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_QUEUE": queue,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    return env


def django_run(env: dict, code: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(BIN / "python"), "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


class Worker:
    def __init__(self, env: dict, tmp_path: Path):
        self.log = open(tmp_path / "worker.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [str(BIN / "celery"), "-A", "config", "worker", "--concurrency", "1",
             "--loglevel", "INFO", "--without-gossip", "--without-mingle",
             "--include", "tests.prod.fault_tasks", "--hostname", f"{uuid.uuid4().hex[:8]}@%h"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.path = tmp_path / "worker.log"

    def pool_children(self) -> list[int]:
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    children.append(int(entry.name))
        return children

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.log.close()


@pytest.fixture
def worker(proc_env, tmp_path):
    started = []

    def start() -> Worker:
        started.append(Worker(proc_env, tmp_path))
        return started[-1]

    yield start
    for w in started:
        w.stop()


def wait_until(condition, timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_save_succeeds_while_redis_is_down_and_the_job_runs_when_it_returns(
    proc_env, worker, head, manager
):
    customer = CustomerFactory(department=head.department, primary_manager=manager, notes="")
    down = {**proc_env, "REDIS_URL": f"redis://127.0.0.1:{closed_port()}/15"}
    started = time.monotonic()
    result = django_run(
        down,
        "from django.db import transaction\n"
        "from accounts.models import Customer\n"
        "from config.celery import enqueue_on_commit\n"
        "from notifications.tasks import notify_task\n"
        "with transaction.atomic():\n"
        f"    Customer.objects.filter(pk={customer.pk}).update(notes='complaint received')\n"
        f"    enqueue_on_commit(notify_task, {head.pk}, 'New complaint', dedup_key='c1')\n"
        "print('saved')\n",
    )
    assert "saved" in result.stdout
    assert time.monotonic() - started < 15
    customer.refresh_from_db()
    assert customer.notes == "complaint received"
    pending = PendingTask.objects.get()
    assert pending.task_name == "notifications.tasks.notify_task"
    assert not Notification.objects.filter(recipient=head).exists()

    # Redis is back: the periodic re-send job sends it; the worker delivers the notification.
    w = worker()
    django_run(proc_env, "from notifications.services import pending_tasks_resend\n"
                         "assert pending_tasks_resend() == 1\n")  # fmt: skip
    wait_until(
        lambda: Notification.objects.filter(recipient=head, message="New complaint").exists(),
        what="the notification after Redis returned",
    )
    assert not PendingTask.objects.exists()
    # Re-sending again sends nothing; a duplicate delivery would be deduplicated anyway.
    django_run(proc_env, "from notifications.services import pending_tasks_resend\n"
                         "assert pending_tasks_resend() == 0\n")  # fmt: skip
    assert Notification.objects.filter(recipient=head).count() == 1
    assert w.process.poll() is None


def test_a_worker_killed_mid_job_reruns_it_to_the_same_result(proc_env, worker, tmp_path):
    users = [UserFactory() for _ in range(6)]
    ids = [user.pk for user in users]
    w = worker()
    send = (
        "from tests.prod.fault_tasks import slow_notify_task\n"
        "slow_notify_task.delay({ids}, '{key}', {delay}, '{log}')\n"
    )
    # Uninterrupted run, for reference.
    ref_log = tmp_path / "reference.log"
    django_run(proc_env, send.format(ids=ids, key="ref", delay=0.05, log=ref_log))
    wait_until(lambda: Notification.objects.filter(message="Run ref").count() == 6, what="ref")

    # Interrupted run: kill the pool process that runs the job after two users were notified.
    log = tmp_path / "killed.log"
    django_run(proc_env, send.format(ids=ids, key="kill", delay=1.0, log=log))
    wait_until(lambda: Notification.objects.filter(message="Run kill").count() >= 2, what="start")
    children = w.pool_children()
    assert children, "no pool process found"
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    wait_until(
        lambda: Notification.objects.filter(message="Run kill").count() == 6,
        timeout=60,
        what="the rerun to finish",
    )
    time.sleep(1)
    assert log.read_text().count("start") == 2, "the job was not run again after the kill"
    reference = sorted(Notification.objects.filter(message="Run ref").values_list("recipient"))
    rerun = sorted(Notification.objects.filter(message="Run kill").values_list("recipient"))
    assert rerun == reference  # each user notified once, as in the uninterrupted run
    assert "WorkerLostError" in w.path.read_text()
