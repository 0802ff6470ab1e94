"""The `ocr` global concurrency limit on a real Prefect API (the test harness)."""
from __future__ import annotations

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.exceptions import ObjectNotFound

from tasks.limits import OCR_LIMIT, ocr_slot


@pytest.fixture
def client(prefect_harness):
    with get_client(sync_client=True) as client:
        yield client
        try:
            client.delete_global_concurrency_limit_by_name(OCR_LIMIT)
        except ObjectNotFound:
            pass


def test_without_the_limit_the_slot_holds_nothing_and_waits_for_nothing(client):
    with pytest.raises(ObjectNotFound):
        client.read_global_concurrency_limit_by_name(OCR_LIMIT)
    with ocr_slot():
        ran = True
    assert ran


def test_the_slot_is_held_while_ocr_runs_and_given_back_after(client):
    client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=OCR_LIMIT, limit=2))
    with ocr_slot():
        assert client.read_global_concurrency_limit_by_name(OCR_LIMIT).active_slots == 1
        with ocr_slot():
            assert client.read_global_concurrency_limit_by_name(OCR_LIMIT).active_slots == 2
    assert client.read_global_concurrency_limit_by_name(OCR_LIMIT).active_slots == 0


def test_on_a_temporary_api_the_slot_asks_nothing_of_the_api():
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_ALLOW_EPHEMERAL_MODE, temporary_settings

    # no API at all: asking for a slot would have to start or reach one
    with temporary_settings(updates={PREFECT_API_URL: None, PREFECT_SERVER_ALLOW_EPHEMERAL_MODE: False}):
        with ocr_slot():
            ran = True
    assert ran
