"""Stacked credentials: the pilot programme (Digital Skills Certificate = DATA101 + CYBER201 + AIETH800, all
three, at least 12 ECTS, within three years) issued automatically, exactly once, naming its parts, delivered
like any other credential; a revoked part flags it for review. On SQLite and PostgreSQL."""
from __future__ import annotations

import json
import threading

import pytest
from lxml import etree
from sqlalchemy import func, select

from bridge import worker
from bridge.edc.verifier import verify_credential
from bridge.registry.models import AuditEntry, Credential, Issuance, ProgrammeAward, ProgrammeCheck
from bridge.worker import programmes as service
from tests.sidecar.conftest import STAFF_HEADERS, make_event, pilot_learner, post_event, put_spec

from .conftest import COURSE_IDS, PILOT, PROGRAMME, programme_doc

DATA, CYBER, ETHICS, GREEN = COURSE_IDS["data101"], COURSE_IDS["cyber201"], COURSE_IDS["aieth800"], COURSE_IDS["green310"]
SNB = "{http://data.europa.eu/snb}"


@pytest.fixture
def pilot(client):
    """The pilot as `make run` loads it: the five courses, then the programme over three of them."""
    for name, course in COURSE_IDS.items():
        assert put_spec(client, course, json.loads((PILOT / "courses" / f"{name}.json").read_text())).json["valid"]
    stored = client.put(f"/api/v1/programmes/demo/{PROGRAMME}", json=programme_doc(), headers=STAFF_HEADERS)
    assert stored.status_code == 200 and stored.json["valid"] is True, stored.json
    return client


def _complete(client, ctx, course: int, learner: str = "ona-jonaite", when: str = "2026-11-28T10:00:00Z") -> None:
    assert post_event(client, make_event(course, pilot_learner(learner), completed_at=when)).status_code == 202
    worker.drain(ctx)


def _count(ctx, table, *where) -> int:
    with ctx.registry.reading() as session:
        return session.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def _programme_credentials(ctx, learner_id: str) -> list[Credential]:
    with ctx.registry.reading() as session:
        return session.execute(select(Credential).join(ProgrammeAward, ProgrammeAward.issuance_id == Credential.issuance_id)
                               .where(ProgrammeAward.learner_id == learner_id)).scalars().all()


def _course_credential(ctx, course: int, learner_id: str) -> str:
    with ctx.registry.reading() as session:
        return session.execute(select(Credential.id).where(
            Credential.course_id == course, Credential.learner_id == learner_id, Credential.status == "issued",
            ~Credential.title.like("%Digital Skills%"))).scalar_one()


def test_three_parts_in_any_order_with_a_reissued_one_give_one_programme_credential(pilot, ctx, channels, ec_token):
    ona = str(pilot_learner("ona-jonaite")["id"])
    _complete(pilot, ctx, ETHICS, when="2026-03-01T10:00:00Z")
    first = _course_credential(ctx, ETHICS, ona)
    reissued = pilot.post(f"/api/v1/credentials/{first}/reissue", json={"learner": {"family_name": "Jonaitė-Petraitienė"}},
                          headers=STAFF_HEADERS)
    assert reissued.status_code == 202
    worker.drain(ctx)
    replacement = _course_credential(ctx, ETHICS, ona)
    assert replacement != first
    _complete(pilot, ctx, DATA, when="2026-10-10T10:00:00Z")
    assert _programme_credentials(ctx, ona) == []  # two of three: not yet
    _complete(pilot, ctx, CYBER, when="2026-06-01T10:00:00Z")
    [programme] = _programme_credentials(ctx, ona)
    parts = [_course_credential(ctx, course, ona) for course in (DATA, CYBER, ETHICS)]
    # It names its parts, the re-issued one and not the one it replaced, in the programme's order.
    xml = pilot.get(f"/api/v1/credentials/{programme.id}.xml", headers=STAFF_HEADERS).data
    root = etree.fromstring(xml)
    named = [e.text for e in root.iterfind(f".//{SNB}hasPart/{SNB}learningAchievement/{SNB}identifier")]
    assert named == parts and first not in named
    assert root.find(f".//{SNB}credentialSubject/{SNB}achievements/{SNB}learningAchievement/{SNB}title/{SNB}text").text \
        == "Digital Skills Certificate"
    report = verify_credential(xml, trust_anchors=[ec_token.ca_cert])
    assert report.valid, report.problems
    # Delivered like any other: by mail and to Moodle, in the course whose completion finished it.
    for channel in channels.values():
        assert [job.course_id for job in channel.jobs if job.credential_id == programme.id] == [DATA]
    # More completions, checks and drains change nothing: exactly once.
    _complete(pilot, ctx, CYBER, when="2026-11-01T10:00:00Z")
    with ctx.registry.transaction() as session:
        session.add(ProgrammeCheck(site_id="demo", learner_id=ona))
    service.run_checks(ctx)
    worker.drain(ctx)
    assert len(_programme_credentials(ctx, ona)) == 1
    assert _count(ctx, ProgrammeCheck) == 0
    assert _count(ctx, AuditEntry, AuditEntry.action == "programme.awarded") == 1


def test_two_parts_do_not_give_the_programme_credential(pilot, ctx):
    jonas = str(pilot_learner("jonas-petraitis")["id"])
    for course in (DATA, CYBER, GREEN):  # two parts and a course that is no part
        _complete(pilot, ctx, course, "jonas-petraitis")
    assert _programme_credentials(ctx, jonas) == []
    assert _count(ctx, ProgrammeAward) == 0 and _count(ctx, ProgrammeCheck) == 0


def test_a_revoked_or_superseded_part_does_not_count(pilot, ctx):
    maria = str(pilot_learner("maria-garcia")["id"])
    _complete(pilot, ctx, DATA, "maria-garcia")
    _complete(pilot, ctx, CYBER, "maria-garcia")
    revoked = pilot.post(f"/api/v1/credentials/{_course_credential(ctx, DATA, maria)}/revoke",
                         json={"reason": "issued in error"}, headers=STAFF_HEADERS)
    assert revoked.status_code == 200
    _complete(pilot, ctx, ETHICS, "maria-garcia")
    assert _programme_credentials(ctx, maria) == []  # the revoked DATA101 is not held
    _complete(pilot, ctx, DATA, "maria-garcia", when="2026-12-01T10:00:00Z")  # earned again
    assert len(_programme_credentials(ctx, maria)) == 1


def test_the_time_window_is_kept(pilot, ctx):
    liam = str(pilot_learner("liam-obrien")["id"])
    _complete(pilot, ctx, DATA, "liam-obrien", when="2020-01-01T10:00:00Z")
    _complete(pilot, ctx, CYBER, "liam-obrien", when="2026-01-01T10:00:00Z")
    _complete(pilot, ctx, ETHICS, "liam-obrien", when="2026-02-01T10:00:00Z")
    assert _programme_credentials(ctx, liam) == []  # six years apart, the rule says three


def test_revoking_a_part_flags_the_programme_credential_for_review_and_never_revokes_it(pilot, ctx, channels):
    ona = str(pilot_learner("ona-jonaite")["id"])
    for course in (DATA, CYBER, ETHICS):
        _complete(pilot, ctx, course)
    [programme] = _programme_credentials(ctx, ona)
    part = _course_credential(ctx, CYBER, ona)
    assert pilot.post(f"/api/v1/credentials/{part}/revoke", json={"reason": "plagiarism found"},
                      headers=STAFF_HEADERS).status_code == 200
    worker.drain(ctx)
    with ctx.registry.reading() as session:
        award = session.execute(select(ProgrammeAward)).scalar_one()
        assert session.get(Credential, programme.id).status == "issued"  # not silently revoked
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "programme.review_needed")).scalar_one()
    assert award.status == "review" and json.loads(award.review_reasons)[0]["reason"] == "plagiarism found"
    assert entry.subject == programme.id and json.loads(entry.details)["revoked_part"] == part
    assert not any(j.kind == "revoked" and j.credential_id == programme.id for j in channels["email"].jobs)
    listed = pilot.get("/api/v1/programme-awards?status=review", headers=STAFF_HEADERS).json["items"]
    assert [(a["credential_id"], a["review_reasons"][0]["credential_id"]) for a in listed] == [(programme.id, part)]
    done = pilot.post(f"/api/v1/programme-awards/{award.id}/reviewed", json={"note": "kept: re-assessed"},
                      headers=STAFF_HEADERS)
    assert done.status_code == 200 and done.json["status"] == "reviewed" and done.json["reviewed_by"] == "staff"
    assert pilot.post(f"/api/v1/programme-awards/{award.id}/reviewed", json={}, headers=STAFF_HEADERS).status_code == 409
    assert _count(ctx, AuditEntry, AuditEntry.action == "programme.reviewed") == 1


def test_a_programme_stored_after_its_parts_were_earned_is_awarded(client, ctx):
    for name, course in COURSE_IDS.items():
        put_spec(client, course, json.loads((PILOT / "courses" / f"{name}.json").read_text()))
    for course in (DATA, CYBER, ETHICS):
        _complete(client, ctx, course, "ruta-zemaitiene")
    stored = client.put(f"/api/v1/programmes/demo/{PROGRAMME}", json=programme_doc(), headers=STAFF_HEADERS)
    assert stored.json["learners_checked"] == 1
    worker.drain(ctx)
    service.run_checks(ctx)
    worker.drain(ctx)
    assert len(_programme_credentials(ctx, str(pilot_learner("ruta-zemaitiene")["id"]))) == 1


def test_a_crash_between_storing_and_checking_loses_nothing(pilot, ctx, monkeypatch):
    """The check row commits with the credential; a check that never ran is run later, once."""
    ona = str(pilot_learner("ona-jonaite")["id"])
    for course in (DATA, CYBER):
        _complete(pilot, ctx, course)

    def crash(*_args, **_kwargs):
        raise RuntimeError("the process died before checking")

    monkeypatch.setattr(service, "run_checks", crash)
    _complete(pilot, ctx, ETHICS)
    assert _count(ctx, ProgrammeCheck) == 1 and _programme_credentials(ctx, ona) == []
    monkeypatch.undo()
    assert service.run_checks(ctx) == 1  # what the scheduler does every few seconds
    worker.drain(ctx)
    assert len(_programme_credentials(ctx, ona)) == 1 and _count(ctx, ProgrammeCheck) == 0


def test_concurrent_checks_award_once(pilot, ctx, settings, monkeypatch):
    """Several workers checking the same learner at once: one award (the unique key; PostgreSQL's row locks)."""
    ona = str(pilot_learner("ona-jonaite")["id"])
    for course in (DATA, CYBER):
        _complete(pilot, ctx, course)
    with ctx.registry.transaction() as session:  # the last part stored, its check not yet run
        session.add(Issuance(id="33333333-3333-4333-8333-333333333333", idempotency_key="manual-ethics", event_id="m",
                             kind="course_completed", site_id="demo", course_id=ETHICS, learner_id=ona,
                             payload=json.dumps(make_event(ETHICS)), status="queued", attempts=0))
    monkeypatch.setattr(service, "run_checks", lambda *a, **k: 0)
    worker.drain(ctx)
    monkeypatch.undo()
    assert _count(ctx, ProgrammeCheck) == 1
    if settings.database_url.startswith("postgresql"):
        # Both transactions read the learner's credentials before either inserts its award.
        barrier, real = threading.Barrier(2, timeout=20), service.programmes.choose

        def choose_then_wait(*args):
            chosen = real(*args)
            barrier.wait()
            return chosen

        monkeypatch.setattr(service.programmes, "choose", choose_then_wait)
        results, errors = [], []

        def race():
            try:
                with ctx.registry.transaction() as session:
                    results.append(service.check_learner_in(session, "demo", ona))
            except Exception as exc:  # noqa: BLE001 - recorded and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=race) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert errors == [] and sorted(len(r) for r in results) == [0, 1]
    else:
        threads = [threading.Thread(target=service.run_checks, args=(ctx,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    service.run_checks(ctx)
    assert _count(ctx, ProgrammeAward) == 1
    assert _count(ctx, Issuance, Issuance.kind == "programme") == 1


def test_the_programme_credential_is_issued_in_the_programmes_format_naming_its_parts(client, ctx, ec_token):
    from bridge.edc import formats
    from bridge.edc.shacl_check import ElmShapes
    from tests.europass.conftest import SHACL_DIR

    for name, course in COURSE_IDS.items():
        put_spec(client, course, json.loads((PILOT / "courses" / f"{name}.json").read_text()))
    doc = programme_doc()
    doc["credential"]["format"] = "elm3-jsonld"  # its parts are EDC XML (the site's default)
    assert client.put(f"/api/v1/programmes/demo/{PROGRAMME}", json=doc, headers=STAFF_HEADERS).json["valid"]
    for course in (DATA, CYBER, ETHICS):
        _complete(client, ctx, course)
    ona = str(pilot_learner("ona-jonaite")["id"])
    [programme] = _programme_credentials(ctx, ona)
    assert programme.format == "elm3-jsonld"
    sealed = client.get(f"/api/v1/credentials/{programme.id}.xml", headers=STAFF_HEADERS).data
    payload = formats.get("elm3-jsonld").read(sealed)
    claim = payload["credentialSubject"]["hasClaim"]
    assert [p["identifier"][0]["notation"] for p in claim["hasPart"]] == \
        [_course_credential(ctx, course, ona) for course in (DATA, CYBER, ETHICS)]
    assert [p["specifiedBy"]["creditPoint"][0]["point"] for p in claim["hasPart"]] == ["3", "5", "4"]
    assert ElmShapes.from_dir(SHACL_DIR).problems(payload) == []
    report = formats.verify(sealed, trust_anchors=[ec_token.ca_cert])
    assert report.valid, report.problems


def test_a_check_that_fails_holds_up_no_other(pilot, ctx, monkeypatch):
    """A batch whose check fails is taken one by one: the failing learner's check stays, the others are done."""
    for learner in ("ona-jonaite", "jonas-petraitis"):
        for course in (DATA, CYBER, ETHICS):
            post_event(pilot, make_event(course, pilot_learner(learner)))
    monkeypatch.setattr(service, "run_checks", lambda *a, **k: 0)
    worker.drain(ctx)
    monkeypatch.undo()
    ona = str(pilot_learner("ona-jonaite")["id"])
    real = service.check_learner_in

    def failing_for_ona(session, site_id, learner_id):
        if learner_id == ona:
            raise RuntimeError("a broken row")
        return real(session, site_id, learner_id)

    monkeypatch.setattr(service, "check_learner_in", failing_for_ona)
    assert service.run_checks(ctx) == 1  # Jonas's
    with ctx.registry.reading() as session:
        left = {c.learner_id for c in session.execute(select(ProgrammeCheck)).scalars()}
    assert left == {ona}
    monkeypatch.undo()
    assert service.run_checks(ctx) == 1 and _count(ctx, ProgrammeCheck) == 0
