"""Programmes for staff: storing one through the API (refusals named), and the staff page that lists the
programmes, the programme credentials awarded and those flagged for review, en and lt."""
from __future__ import annotations

import json
import re

from bridge import worker
from tests.europass.conftest import staff_login
from tests.sidecar.conftest import STAFF_HEADERS, make_event, post_event, put_spec
from tests.sidecar.test_openapi import Checked

from .conftest import COURSE_IDS, PILOT, PROGRAMME, programme_doc


def _load_courses(client):
    for name, course in COURSE_IDS.items():
        put_spec(client, course, json.loads((PILOT / "courses" / f"{name}.json").read_text()))


def test_a_programme_is_refused_naming_what_is_wrong_and_stored_for_correction(client):
    _load_courses(client)
    path = f"/api/v1/programmes/demo/{PROGRAMME}"
    wrong = programme_doc()
    wrong["parts"][0]["course"] = COURSE_IDS["green310"]  # says DATA101
    del wrong["credential"]["assessment"]
    answer = client.put(path, json=wrong, headers=STAFF_HEADERS)
    assert answer.status_code == 200 and answer.json["valid"] is False
    assert [p["pointer"] for p in answer.json["problems"]] == ["/credential/assessment"]
    del wrong["credential"]
    wrong["credential"] = programme_doc()["credential"]
    answer = client.put(path, json=wrong, headers=STAFF_HEADERS)
    assert answer.json["problems"] == [{"pointer": "/parts/0/code", "message": "course 4 is GREEN310, not DATA101"}]
    listed = client.get("/api/v1/programmes", headers=STAFF_HEADERS).json["items"]
    assert [(p["programme"], p["valid"], p["parts"]) for p in listed] == [(PROGRAMME, False, [4, 2, 1])]
    assert client.put(path, json=programme_doc()).status_code == 401
    assert client.put("/api/v1/programmes/demo/NO", json=programme_doc(), headers=STAFF_HEADERS).status_code == 400
    assert client.put(path, data=b"{", headers={**STAFF_HEADERS, "Content-Type": "application/json"}).status_code == 400


def test_the_staff_page_shows_programmes_awards_and_the_review_flag(client, ctx):
    check = Checked()
    _load_courses(client)
    check("/api/v1/programmes/{site}/{programme}", "put",
          client.put(f"/api/v1/programmes/demo/{PROGRAMME}", json=programme_doc(), headers=STAFF_HEADERS), 200)
    for course in (COURSE_IDS["data101"], COURSE_IDS["cyber201"], COURSE_IDS["aieth800"]):
        post_event(client, make_event(course))
        worker.drain(ctx)
    awards = check("/api/v1/programme-awards", "get", client.get("/api/v1/programme-awards", headers=STAFF_HEADERS), 200)
    [award] = awards.json["items"]
    assert award["status"] == "awarded" and len(award["parts"]) == 3 and award["credential_id"]
    staff_login(client)
    page = client.get("/staff/programmes?lang=en").get_data(as_text=True)
    assert "Digital Skills Certificate" in page and "all 3 courses, at least 12 ECTS, within P3Y" in page
    assert "No programme credential waits for review." in page and award["credential_id"] in page
    part = award["parts"][1]["credential_id"]
    assert client.post(f"/api/v1/credentials/{part}/revoke", json={"reason": "exam annulled"},
                       headers=STAFF_HEADERS).status_code == 200
    flagged = client.get("/staff/programmes?lang=lt").get_data(as_text=True)
    assert "Laukia peržiūros" in flagged and f"dalis {part} atšaukta: exam annulled" in flagged
    form = re.search(r'action="(/staff/programmes/awards/[^"]+/reviewed)".*?name="csrf_token" value="([^"]+)"', flagged, re.S)
    assert client.post(form.group(1), data={"note": "kept"}).status_code == 303  # no CSRF token: refused
    assert "Laukia peržiūros" in client.get("/staff/programmes?lang=lt").get_data(as_text=True)
    assert client.get("/api/v1/programme-awards?status=review", headers=STAFF_HEADERS).json["items"]
    done = client.post(form.group(1), data={"note": "kept after the re-exam", "csrf_token": form.group(2)})
    assert done.status_code == 303
    after = client.get("/staff/programmes?lang=en").get_data(as_text=True)
    assert "Pažymėta kaip peržiūrėta." in after and "kept after the re-exam" in after  # flashed in the cookie's lt
    assert client.get("/api/v1/programme-awards?status=review", headers=STAFF_HEADERS).json["items"] == []
    again = client.post(form.group(1), data={"note": "", "csrf_token": form.group(2)})
    assert "That programme credential is not waiting for review." in client.get(again.headers["Location"]).get_data(as_text=True)
    reviewed = "/api/v1/programme-awards/{award_id}/reviewed"
    check(reviewed, "post", client.post(f"/api/v1/programme-awards/{award['id']}/reviewed", json={},
                                        headers=STAFF_HEADERS), 409)
    check(reviewed, "post", client.post(f"/api/v1/programme-awards/{award['id']}/reviewed", json=[1],
                                        headers=STAFF_HEADERS), 400)
    check(reviewed, "post", client.post(f"/api/v1/programme-awards/{award['id']}/reviewed", json={}), 401)
    check("/api/v1/programmes", "get", client.get("/api/v1/programmes"), 401)


def test_make_run_loads_the_pilot_programme_over_its_courses(tmp_path):
    """The demo's course ids (1..5, alphabetical) are the ones the pilot programme's parts name (codes checked)."""
    from bridge.commands.server import load_pilot_courses
    from bridge.registry import Registry

    registry = Registry(f"sqlite:///{tmp_path}/demo.sqlite3")
    try:
        loaded = load_pilot_courses(registry)
    finally:
        registry.dispose()
    assert loaded == ["1=aieth800", "2=cyber201", "3=data101", "4=green310", "5=ltlang01", "programme digital-skills"]


def test_a_programme_credential_reads_on_the_staff_and_public_pages(client, ctx):
    _load_courses(client)
    client.put(f"/api/v1/programmes/demo/{PROGRAMME}", json=programme_doc(), headers=STAFF_HEADERS)
    for course in (COURSE_IDS["data101"], COURSE_IDS["cyber201"], COURSE_IDS["aieth800"]):
        post_event(client, make_event(course))
        worker.drain(ctx)
    [award] = client.get("/api/v1/programme-awards", headers=STAFF_HEADERS).json["items"]
    staff_login(client)
    page = client.get(f"/staff/credentials/{award['credential_id']}")
    assert page.status_code == 200 and "Digital Skills Certificate" in page.get_data(as_text=True)
    from bridge.registry.links import page_url

    with ctx.registry.reading() as session:
        url = page_url(session, award["credential_id"], ctx.settings.public_url)
    public = client.get(url.removeprefix(ctx.settings.public_url))
    assert public.status_code == 200 and "Digital Skills Certificate" in public.get_data(as_text=True)
