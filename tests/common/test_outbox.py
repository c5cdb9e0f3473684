"""The transactional outbox behind enqueue_on_commit, on the real Redis broker (a queue private to each test)."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.models import OutboxMessage
from common.outbox import outbox_purge, outbox_relay_pending
from common.tasks import enqueue_on_commit
from config.celery import app
from tests.factories import UserFactory
from users.services import user_register
from users.tasks import send_welcome_email

pytestmark = pytest.mark.django_db

TASK = "users.tasks.send_welcome_email"


def make_rows(count: int, *, age: timedelta = timedelta(minutes=1), published: bool = False) -> list[OutboxMessage]:
    created = timezone.now() - age
    return OutboxMessage.objects.bulk_create(
        OutboxMessage(
            task=TASK,
            kwargs={"user_id": n},
            created_at=created + timedelta(milliseconds=n),
            published_at=created if published else None,
        )
        for n in range(count)
    )


# --- enqueue_on_commit ----------------------------------------------------------------------------


def test_the_message_is_written_in_the_transaction_and_published_after_the_commit(
    broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        enqueue_on_commit(send_welcome_email, user_id=7)
        message = OutboxMessage.objects.get()
        assert (message.task, message.kwargs, message.published_at) == (TASK, {"user_id": 7}, None)
        assert broker.task_ids() == []

    message.refresh_from_db()
    assert message.published_at is not None and message.attempts == 1
    assert broker.task_ids() == [str(message.pk)]  # the row's id is the Celery task id


def test_a_rolled_back_transaction_queues_nothing(broker, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks(execute=True)
    with capture as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(send_welcome_email, user_id=7)
        raise RuntimeError

    assert callbacks == []
    assert not OutboxMessage.objects.exists()
    assert broker.task_ids() == []


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_row_is_written_then_published_at_once(broker):
    enqueue_on_commit(send_welcome_email, user_id=7)

    message = OutboxMessage.objects.get()
    assert message.published_at is not None
    assert broker.task_ids() == [str(message.pk)]


@pytest.mark.django_db(transaction=True)
def test_after_the_commit_the_relay_publishes_and_marks_in_one_statement_without_reading_the_row(broker):
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        enqueue_on_commit(send_welcome_email, user_id=7)

    sql = [q["sql"].strip() for q in queries.captured_queries]
    assert sql[0] == "BEGIN" and sql[2] == "COMMIT"
    assert sql[1].startswith('INSERT INTO "common_outboxmessage"')
    assert len(sql) == 4 and sql[3].startswith("WITH async_commit")
    message = OutboxMessage.objects.get()
    assert (message.published_at is not None, message.attempts, message.last_error) == (True, 1, "")
    assert broker.task_ids() == [str(message.pk)]


@pytest.mark.django_db(transaction=True)
def test_the_marks_relaxed_durability_ends_with_its_statement(broker):
    enqueue_on_commit(send_welcome_email, user_id=7)

    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)
    with transaction.atomic(), connection.cursor() as cursor:  # and in the next transaction
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)
    assert OutboxMessage.objects.get().published_at is not None


def test_inside_a_callers_transaction_the_mark_leaves_its_durability_alone(broker, django_capture_on_commit_callbacks):
    # The test's own transaction stays open around the commit hooks, as an outer caller's would.
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(send_welcome_email, user_id=7)

    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)
    assert OutboxMessage.objects.get().published_at is not None


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_caller_succeeds_and_the_row_waits(dead_broker):
    with transaction.atomic():
        enqueue_on_commit(send_welcome_email, user_id=7)

    message = OutboxMessage.objects.get()
    assert message.published_at is None
    assert message.attempts == 1
    assert "Error" in message.last_error


def test_eager_celery_writes_no_row_and_runs_the_task_after_the_commit(django_capture_on_commit_callbacks):
    assert app.conf.task_always_eager  # the suite's default, like `make run`
    with django_capture_on_commit_callbacks(execute=True):
        user_register(email="eager@example.com", password="A-long-enough-passw0rd!")

    assert not OutboxMessage.objects.exists()
    assert [m.to for m in mail.outbox] == [["eager@example.com"]]


# --- The sweep -------------------------------------------------------------------------------------


def test_the_sweep_publishes_old_unpublished_rows_in_batches_and_leaves_young_ones_to_the_relay(broker):
    old = make_rows(5)
    young = make_rows(1, age=timedelta(seconds=0))
    make_rows(2, published=True)

    published = outbox_relay_pending(grace=timedelta(seconds=10), batch_size=2)

    assert published == 5
    assert broker.task_ids() == [str(row.pk) for row in old]
    assert list(OutboxMessage.objects.filter(published_at__isnull=True)) == young


def test_the_sweep_stops_at_a_dead_broker_and_keeps_every_row(dead_broker):
    make_rows(3)

    assert outbox_relay_pending(grace=timedelta(0)) == 0

    assert OutboxMessage.objects.filter(published_at__isnull=True).count() == 3
    assert sorted(OutboxMessage.objects.values_list("attempts", flat=True)) == [0, 0, 1]  # stopped at the first


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_publish_each_message_exactly_once(broker):
    rows = make_rows(40)
    barrier = threading.Barrier(4)
    counts = []

    def sweep():
        try:
            barrier.wait()
            counts.append(outbox_relay_pending(grace=timedelta(0), batch_size=5))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(counts) == 40
    assert sorted(broker.task_ids()) == sorted(str(row.pk) for row in rows)
    assert not OutboxMessage.objects.filter(published_at__isnull=True).exists()


def test_the_purge_drops_only_published_rows_past_the_retention():
    old_published = make_rows(2, age=timedelta(days=8), published=True)
    recent = make_rows(1, age=timedelta(days=1), published=True)
    old_unpublished = make_rows(1, age=timedelta(days=30))

    assert outbox_purge() == len(old_published)

    assert set(OutboxMessage.objects.all()) == {*recent, *old_unpublished}


def test_the_sweep_and_the_purge_are_scheduled_by_beat():
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["common.tasks.relay_outbox"] <= 60
    assert "common.tasks.purge_outbox" in schedule


# --- Admin -----------------------------------------------------------------------------------------


def test_staff_see_the_backlog_read_only():
    make_rows(1)
    make_rows(1, published=True)
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    backlog = client.get("/admin/common/outboxmessage/", {"published": "no"})

    assert backlog.status_code == 200
    assert backlog.context["cl"].result_count == 1
    assert client.get("/admin/common/outboxmessage/add/").status_code == 403
    row = OutboxMessage.objects.first()
    assert client.post(f"/admin/common/outboxmessage/{row.pk}/delete/", {"post": "yes"}).status_code == 403
