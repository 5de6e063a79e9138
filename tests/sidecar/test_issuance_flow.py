"""From event to delivered credential: idempotency (also under concurrency), parking, sealing, storing."""
from __future__ import annotations

import hashlib
import json
import threading

from sqlalchemy import func, select

from bridge import worker
from bridge.app import create_app, stop_app
from bridge.edc.verifier import verify_credential
from bridge.registry.models import Credential, Delivery, Issuance
from tests.sidecar.conftest import STAFF_HEADERS, make_event, pilot_learner, pilot_spec, post_event, put_spec


def _count(ctx, table, *where) -> int:
    with ctx.registry.sessions() as s:
        return s.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def test_same_event_twice_gives_one_issuance_and_one_credential(client, ctx, channels):
    assert put_spec(client, 1, pilot_spec()).json["valid"] is True
    first = post_event(client, make_event())
    again = post_event(client, make_event())
    assert first.status_code == again.status_code == 202
    assert first.json["issuance_id"] == again.json["issuance_id"]
    assert again.json["duplicate"] is True
    assert worker.drain(ctx) == 1
    third = post_event(client, make_event())  # after issuing too
    assert third.json["issuance_id"] == first.json["issuance_id"] and third.json["status"] == "delivered"
    assert worker.drain(ctx) == 0
    assert _count(ctx, Credential) == 1
    assert [len(c.jobs) for c in channels.values()] == [1, 1]


def test_two_concurrent_copies_give_one_issuance(app, ctx):
    put_spec(app.test_client(), 1, pilot_spec())
    results, barrier = [], threading.Barrier(8)

    def send():
        client = app.test_client()
        barrier.wait()
        results.append(post_event(client, make_event()))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [202] * 8, [r.get_data(as_text=True) for r in results]
    assert len({r.json["issuance_id"] for r in results}) == 1
    assert sum(not r.json["duplicate"] for r in results) == 1
    assert _count(ctx, Issuance) == 1
    assert worker.drain(ctx) == 1
    assert _count(ctx, Credential) == 1


def test_issued_credential_is_stored_compactly_byte_exact_and_verifies(client, ctx, ec_token):
    put_spec(client, 3, pilot_spec("cyber201"))
    learners = ["ona-jonaite", "jonas-petraitis", "maria-garcia", "liam-obrien", "ruta-zemaitiene"]
    for name in learners:
        assert post_event(client, make_event(3, pilot_learner(name))).status_code == 202
    assert worker.drain(ctx) == len(learners)
    listing = client.get("/api/v1/credentials?course=3", headers=STAFF_HEADERS).json
    assert listing["total"] == len(learners)
    for item in listing["items"]:
        xml = client.get(f"/api/v1/credentials/{item['id']}.xml", headers=STAFF_HEADERS)
        assert xml.status_code == 200
        assert hashlib.sha256(xml.data).hexdigest() == item["sha256"] == xml.headers["X-Content-SHA256"]
        report = verify_credential(xml.data, trust_anchors=[ec_token.ca_cert])
        assert report.valid, report.problems
        assert report.credential_id == item["id"]
    # each credential, the first included, costs a small fraction of its size next to the course dictionary
    assert all(i["stored_size"] < i["size"] / 10 for i in listing["items"]), \
        [(i["size"], i["stored_size"]) for i in listing["items"]]
    # ... and the dictionary every credential of the course depends on holds no learner's data
    from bridge.registry.compression import unpack_dictionary
    from bridge.registry.models import CompressionDictionary

    with ctx.registry.reading() as s:
        dictionaries = [unpack_dictionary(d.data) for d in s.execute(select(CompressionDictionary)).scalars()]
    assert len(dictionaries) == 1 and b"Placeholder" in dictionaries[0]
    for name in learners:
        person = pilot_learner(name)
        for value in (person["email"], person["family_name"], person["given_names"]):
            assert value.encode() not in dictionaries[0], value


def test_missing_then_incomplete_then_complete_description(client, ctx, channels):
    issuance = post_event(client, make_event(2)).json["issuance_id"]
    worker.drain(ctx)
    row = client.get(f"/api/v1/issuances/{issuance}", headers=STAFF_HEADERS).json
    assert row["status"] == "parked" and "no credential description" in row["parked_reason"][0]["message"]

    incomplete = pilot_spec()
    del incomplete["eqf_level"], incomplete["learning_outcomes"]
    answer = put_spec(client, 2, incomplete).json
    assert answer["valid"] is False and answer["resumed"] == 0
    assert {"/eqf_level", "/learning_outcomes"} <= {p["pointer"] for p in answer["problems"]}
    worker.drain(ctx)
    row = client.get(f"/api/v1/issuances/{issuance}", headers=STAFF_HEADERS).json
    assert row["status"] == "parked"

    answer = put_spec(client, 2, pilot_spec()).json
    assert answer == {"site": "demo", "course": 2, "valid": True, "problems": [], "resumed": 1}
    assert worker.drain(ctx) == 1
    row = client.get(f"/api/v1/issuances/{issuance}", headers=STAFF_HEADERS).json
    assert row["status"] == "delivered" and row["credential_id"]


def test_moodle_status_poll(client, ctx):
    from tests.sidecar.conftest import signed

    put_spec(client, 1, pilot_spec())
    post_event(client, make_event(1, pilot_learner("ona-jonaite")))
    post_event(client, make_event(1, pilot_learner("liam-obrien")))
    worker.drain(ctx)
    post_event(client, make_event(1, pilot_learner("maria-garcia")))
    r = client.get("/api/v1/issuances?site=demo&course=1",
                   headers=signed("GET", "/api/v1/issuances", query="site=demo&course=1"))
    assert r.status_code == 200, r.json
    by_user = {i["userid"]: i["status"] for i in r.json["issuances"]}
    assert sorted(by_user.values()) == ["delivered", "delivered", "queued"]
    assert client.get("/api/v1/issuances?site=demo&course=1").status_code == 401
    bad = client.get("/api/v1/issuances?site=demo", headers=signed("GET", "/api/v1/issuances", query="site=demo"))
    assert bad.status_code == 400 and bad.json["problems"][0]["pointer"] == "?course"


def test_delivery_retries_then_parks_as_failed_then_retry_by_api(client, ctx, channels):
    from bridge.delivery import DeliveryError

    put_spec(client, 1, pilot_spec())
    post_event(client, make_event())
    channels["moodle"].fail = DeliveryError("Moodle answered 500", retryable=True)
    assert worker.drain(ctx) == 1
    import time

    for _ in range(50):  # backoff 0.01 s, 0.02 s: three attempts, then parked
        time.sleep(0.03)
        worker.deliver_due(ctx)
    failed = client.get("/api/v1/deliveries?state=failed", headers=STAFF_HEADERS).json
    assert failed["total"] == 1
    item = failed["items"][0]
    assert item["channel"] == "moodle" and item["attempts"] == 3 and "500" in item["last_error"]
    status = client.get(f"/api/v1/credentials/{item['credential_id']}", headers=STAFF_HEADERS).json
    assert {d["channel"]: d["state"] for d in status["deliveries"]} == {"email": "sent", "moodle": "failed"}
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'edc_deliveries{channel="moodle",state="failed"} 1.0' in metrics

    channels["moodle"].fail = None
    assert client.post(f"/api/v1/deliveries/{item['id']}/retry", headers=STAFF_HEADERS).status_code == 202
    worker.deliver_due(ctx)
    status = client.get(f"/api/v1/credentials/{item['credential_id']}", headers=STAFF_HEADERS).json
    assert {d["channel"]: d["state"] for d in status["deliveries"]} == {"email": "sent", "moodle": "sent"}
    issuance = client.get(f"/api/v1/issuances/{status['issuance_id']}", headers=STAFF_HEADERS).json
    assert issuance["status"] == "delivered"


def test_expired_lease_is_requeued_and_a_late_worker_stores_nothing(client, ctx):
    import datetime as dt

    from sqlalchemy import update

    put_spec(client, 1, pilot_spec())
    post_event(client, make_event())
    claimed = worker.claim_issuance(ctx, "crashed-worker")
    with ctx.registry.transaction() as s:  # the crashed worker's lease runs out
        s.execute(update(Issuance).values(claimed_until=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
    assert worker.requeue_expired_leases(ctx) == 1
    assert worker.claim_issuance(ctx, "live-worker") == claimed
    assert worker.process_issuance(ctx, claimed, "crashed-worker") is None  # woke up late: not its row any more
    assert worker.process_issuance(ctx, claimed, "live-worker")
    assert _count(ctx, Credential) == 1


def test_worker_threads_issue_and_deliver_by_themselves(settings, channels):
    import dataclasses
    import time

    app = create_app(dataclasses.replace(settings, start_background=True, workers=2), channels=channels)
    try:
        client = app.test_client()
        put_spec(client, 1, pilot_spec())
        ids = {post_event(client, make_event(1, pilot_learner(n))).json["issuance_id"]
               for n in ("ona-jonaite", "liam-obrien", "maria-garcia")}
        deadline = time.time() + 30
        while time.time() < deadline:
            statuses = {client.get(f"/api/v1/issuances/{i}", headers=STAFF_HEADERS).json["status"] for i in ids}
            if statuses == {"delivered"}:
                break
            time.sleep(0.1)
        assert statuses == {"delivered"}
        assert len(channels["email"].jobs) == 3
        job = channels["email"].jobs[0]
        assert job.filename.startswith("credential-") and job.filename.endswith(".xml")
        assert job.verify_url.startswith(f"https://edc.example.test/verify/{job.credential_id}?t=")
        assert job.document.startswith(b"<")
        assert job.title["lt"] and job.issuer_name
        assert job.view_url.startswith("https://edc.example.test/credentials/") and "?t=" in job.view_url
    finally:
        stop_app(app)
        app.extensions["edc"].registry.dispose()


def _learner(n: int) -> dict:
    learner = dict(pilot_learner())
    learner.update(id=7000 + n, email=f"batch{n}@example.test")
    return learner


def test_a_batch_is_claimed_together_and_a_second_worker_takes_the_rest(client, ctx):
    put_spec(client, 1, pilot_spec())
    for n in range(5):
        assert post_event(client, make_event(learner=_learner(n))).status_code == 202
    first = worker.claim_issuances(ctx, "worker-a", 3)
    second = worker.claim_issuances(ctx, "worker-b", 3)
    assert len(first) == 3 and len(second) == 2 and not set(first) & set(second)
    assert worker.claim_issuances(ctx, "worker-c", 3) == []
    made = worker.process_issuances(ctx, first, "worker-a")
    assert len(made) == 3 and _count(ctx, Credential) == 3
    # worker-a cannot store worker-b's rows, and a row it lost mid-batch is dropped alone
    assert worker.process_issuances(ctx, second, "worker-a") == []
    assert len(worker.process_issuances(ctx, second, "worker-b")) == 2
    assert _count(ctx, Credential) == 5 and _count(ctx, Delivery) == 10
    from bridge.registry import audit
    from bridge.registry.models import AuditEntry

    with ctx.registry.reading() as s:  # five credentials stored in two transactions: one unbroken chain
        entries = s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
    assert audit.verify_chain(entries).ok
    assert sum(e.action == "credential.issued" for e in entries) == 5


def test_one_row_that_cannot_be_stored_does_not_hold_back_its_batch(client, ctx):
    put_spec(client, 1, pilot_spec())
    post_event(client, make_event(learner=_learner(0)))
    assert worker.drain(ctx) == 1
    with ctx.registry.reading() as s:
        original = s.execute(select(Credential.id)).scalar_one()
    reissue = client.post(f"/api/v1/credentials/{original}/reissue", json={"reason": "typo"}, headers=STAFF_HEADERS)
    assert reissue.status_code == 202, reissue.get_data(as_text=True)
    for n in range(1, 4):
        post_event(client, make_event(learner=_learner(n)))
    claimed = worker.claim_issuances(ctx, "worker-a", 8)
    assert len(claimed) == 4
    # The original is revoked while its re-issue is being sealed: storing the re-issue must fail ...
    worker.revoke(ctx, original, "withdrawn by the registrar", "staff")
    made = worker.process_issuances(ctx, claimed, "worker-a")
    # ... and the three other credentials of the batch are stored all the same.
    assert len(made) == 3
    assert _count(ctx, Credential) == 4
    assert _count(ctx, Issuance, Issuance.status == "sealing") == 1  # left to its lease, as a lone row would be


def test_deliveries_go_in_batches_and_a_stop_gives_the_unsent_back_at_once(client, ctx, channels):
    put_spec(client, 1, pilot_spec())
    for n in range(3):
        post_event(client, make_event(learner=_learner(n)))
    made = worker.process_issuances(ctx, worker.claim_issuances(ctx, "w", 8), "w")
    assert len(made) == 3
    stop, woken = threading.Event(), []
    channels["email"].deliver = lambda job, _orig=channels["email"].deliver: (_orig(job), stop.set())
    assert worker.deliver_continuously(ctx, stop, batch=4, on_full_batch=lambda: woken.append(1)) == 1
    assert woken == [1]  # a full batch was claimed: a peer is told more may be due
    with ctx.registry.reading() as s:
        rows = s.execute(select(Delivery).order_by(Delivery.id)).scalars().all()
    assert sum(r.state == "sent" for r in rows) == 1
    assert all(r.claimed_until is None for r in rows), "unsent deliveries must not wait for their lease"
    stop.clear()
    channels["email"].deliver = channels["email"].__class__.deliver.__get__(channels["email"])
    assert worker.deliver_continuously(ctx, stop, batch=4) == 5
    with ctx.registry.reading() as s:
        assert {r.state for r in s.execute(select(Delivery)).scalars()} == {"sent"}
        assert {r.status for r in s.execute(select(Issuance)).scalars()} == {"delivered"}
