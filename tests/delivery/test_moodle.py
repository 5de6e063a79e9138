"""The Moodle channel against a real HTTP server that answers like Moodle's REST endpoint."""
from __future__ import annotations

import base64
import logging
import socket
import threading
import time

import pytest

from bridge.delivery import DeliveryError, SealedFile
from bridge.delivery.moodle import SET_STATUS, STORE, MoodleChannel

from .conftest import CREDENTIAL_ID, SEALED, make_job
from .sinks import DECLARED, FakeMoodle, free_port


def channel_for(moodle, **kwargs) -> MoodleChannel:
    return MoodleChannel(moodle.url, moodle.token, timeout=5, **kwargs)


def test_issued_stores_the_file_and_marks_it_delivered_in_one_call(moodle, job):
    before = int(time.time())
    channel_for(moodle).deliver(job)

    assert moodle.files[(CREDENTIAL_ID, "edc-xml")] == SEALED
    assert moodle.stored[CREDENTIAL_ID] == 1
    assert moodle.statuses[(34, 12)][1:] == ("delivered", CREDENTIAL_ID)
    (store,) = moodle.requests  # one web service call: every call boots Moodle
    assert store["path"] == "/webservice/rest/server.php"
    assert store["query"] == ""  # the token never travels in the URL
    assert store["content_type"] == "application/x-www-form-urlencoded"
    assert store["form"]["wsfunction"] == STORE
    # exactly the declared parameters, no more (the fake refuses unknown ones, this pins the full set)
    declared_store = set(DECLARED[STORE]["required"]) | {"format", "deliveredat"}
    assert set(store["form"]) - {"wstoken", "wsfunction", "moodlewsrestformat"} == declared_store
    assert store["form"]["format"] == "edc-xml"
    assert base64.b64decode(store["form"]["content"]) == SEALED
    assert store["form"]["verifyurl"] == job.verify_url
    assert before <= int(store["form"]["deliveredat"]) <= time.time()
    assert moodle.status_calls == []


def test_an_older_plugin_gets_two_calls_from_its_first_refusal_on(job, caplog):
    """A plugin from before deliveredat refuses it (Moodle refuses every undeclared key): the channel stores
    without it, sets the status, and asks no more for the rest of its life."""
    older = FakeMoodle(users={34, 35}, courses={12}, older_plugin=("deliveredat",)).start()
    try:
        channel = channel_for(older)
        with caplog.at_level(logging.INFO, logger="bridge.delivery.moodle"):
            channel.deliver(job)
            channel.deliver(make_job(credential_id="urn:credential:0000-second", learner_moodle_id=35))
        calls = [(r["form"]["wsfunction"], "deliveredat" in r["form"]) for r in older.requests]
        assert calls == [(STORE, True), (STORE, False), (SET_STATUS, False),  # refused, then the two calls
                         (STORE, False), (SET_STATUS, False)]  # and only the two from then on
        assert older.stored[CREDENTIAL_ID] == 1 and older.statuses[(34, 12)][1:] == ("delivered", CREDENTIAL_ID)
        assert older.statuses[(35, 12)][1] == "delivered"
        assert channel.one_call is False
        assert sum("predates" in r.getMessage() for r in caplog.records) == 1
    finally:
        older.stop()


def test_a_parameter_refused_for_another_reason_stays_an_error_and_one_call_stays(moodle):
    channel = channel_for(moodle)
    with pytest.raises(DeliveryError) as err:  # a file name the fake refuses as invalidparameter, whatever the age
        channel.deliver(make_job(document=b"x", filename="a/b.xml"))
    assert not err.value.retryable and "invalidparameter" in str(err.value)
    assert channel.one_call is True
    channel.deliver(make_job())
    assert moodle.requests[-1]["form"].get("deliveredat")


def test_a_course_with_two_formats_says_delivered_with_the_last_file(moodle):
    elm = SealedFile(format="elm3-jsonld", filename="credential.json", media_type="application/ld+json",
                     content=b'{"sealed": true}')
    channel_for(moodle).deliver(make_job(files=(elm,)))
    calls = [(r["form"]["format"], "deliveredat" in r["form"]) for r in moodle.requests]
    assert calls == [("edc-xml", False), ("elm3-jsonld", True)]
    assert moodle.files[(CREDENTIAL_ID, "elm3-jsonld")] == b'{"sealed": true}'
    assert moodle.statuses[(34, 12)][1] == "delivered"


def test_sending_twice_stores_once(moodle, job):
    channel = channel_for(moodle)
    channel.deliver(job)
    channel.deliver(job)  # a retry after a crash between Moodle's answer and our commit
    assert moodle.store_calls[CREDENTIAL_ID] == 2
    assert moodle.stored[CREDENTIAL_ID] == 1


def test_revocation_sets_the_status_with_the_reason(moodle):
    channel_for(moodle).deliver(make_job(kind="revoked", document=b"", reason="Issued by mistake"))
    (call,) = moodle.status_calls
    assert call["status"] == "revoked" and call["message"] == "Issued by mistake"
    assert moodle.files == {}


def test_a_superseded_credential_names_its_successor_and_an_ordinary_revocation_does_not(moodle):
    channel_for(moodle).deliver(make_job(kind="revoked", document=b"", reason="name corrected",
                                         superseded_by="urn:credential:0000-new"))
    channel_for(moodle).deliver(make_job(kind="revoked", document=b"", reason="issued in error"))
    superseded, revoked = moodle.status_calls
    assert superseded["supersededby"] == "urn:credential:0000-new" and superseded["message"] == "name corrected"
    assert "supersededby" not in revoked  # an older plugin refuses a parameter it does not declare


@pytest.mark.parametrize("token", ["wrong-token"])
def test_invalid_token_is_not_retryable_and_not_shown(moodle, job, token, caplog):
    channel = MoodleChannel(moodle.url, token, timeout=5)
    with caplog.at_level(logging.DEBUG), pytest.raises(DeliveryError) as err:
        channel.deliver(job)
    assert not err.value.retryable
    assert "invalidtoken" in str(err.value)
    assert token not in str(err.value) + repr(channel) + caplog.text
    assert moodle.files == {}


@pytest.mark.parametrize("changes, code", [
    ({"learner_moodle_id": 99}, "invaliduser"),
    ({"course_id": 77}, "invalidcourse"),
])
def test_moodle_refusals_are_parked_not_retried(moodle, changes, code):
    with pytest.raises(DeliveryError) as err:
        channel_for(moodle).deliver(make_job(**changes))
    assert not err.value.retryable and code in str(err.value)


def test_conflicting_bytes_under_the_same_id_are_refused(moodle, job):
    channel_for(moodle).deliver(job)
    with pytest.raises(DeliveryError) as err:
        channel_for(moodle).deliver(make_job(document=SEALED + b"<!-- changed -->"))
    assert not err.value.retryable and "credentialconflict" in str(err.value)


def test_access_exception_is_not_retryable(moodle, job):
    moodle._dispatch = lambda form: {"exception": "required_capability_exception", "errorcode": "nopermissions",
                                     "message": "Sorry, but you do not currently have permissions to do that"}
    with pytest.raises(DeliveryError) as err:
        channel_for(moodle).deliver(job)
    assert not err.value.retryable and "nopermissions" in str(err.value)


def test_http_500_is_retryable_then_succeeds(moodle, job):
    moodle.fail_next(1, 500)
    with pytest.raises(DeliveryError) as err:
        channel_for(moodle).deliver(job)
    assert err.value.retryable and "HTTP 500" in str(err.value)
    assert moodle.files == {}
    channel_for(moodle).deliver(job)
    assert moodle.stored[CREDENTIAL_ID] == 1


def test_failure_between_store_and_status_is_retryable_and_heals(moodle, job):
    """Moodle stored the file, then failed before recording "delivered" (its database went away): the
    retry stores nothing new and records the status."""
    channel = channel_for(moodle)
    original = moodle._dispatch
    failures = iter([True])

    def flaky(form):
        if next(failures, False):
            original({k: v for k, v in form.items() if k != "deliveredat"})  # the file is stored...
            return {"exception": "dml_write_exception", "errorcode": "dmlwriteexception",
                    "message": "Error writing to database"}  # ...the status is not
        return original(form)

    moodle._dispatch = flaky
    with pytest.raises(DeliveryError) as err:
        channel.deliver(job)
    assert err.value.retryable
    assert moodle.stored[CREDENTIAL_ID] == 1 and moodle.statuses[(34, 12)][1] == "issued"
    channel.deliver(job)
    assert moodle.stored[CREDENTIAL_ID] == 1
    assert moodle.statuses[(34, 12)][1] == "delivered"


def test_with_an_older_plugin_a_failure_between_store_and_status_heals(job):
    older = FakeMoodle(users={34, 35}, courses={12}, older_plugin=("deliveredat",)).start()
    try:
        channel = channel_for(older)
        channel.one_call = False  # already learnt from an earlier delivery
        original = older._dispatch
        answers = iter([None, {"exception": "dml_write_exception", "errorcode": "dmlwriteexception",
                               "message": "Error writing to database"}])

        def flaky(form):
            scripted = next(answers, None)
            return scripted if scripted is not None else original(form)

        older._dispatch = flaky
        with pytest.raises(DeliveryError) as err:
            channel.deliver(job)
        assert err.value.retryable
        channel.deliver(job)
        assert older.stored[CREDENTIAL_ID] == 1
        assert older.statuses[(34, 12)][1] == "delivered"
    finally:
        older.stop()


def test_moodle_down_is_retryable(job):
    channel = MoodleChannel(f"http://127.0.0.1:{free_port()}", "t", timeout=2)
    with pytest.raises(DeliveryError) as err:
        channel.deliver(job)
    assert err.value.retryable and "cannot connect" in str(err.value)


def test_slow_moodle_times_out_retryably(job):
    listener = socket.create_server(("127.0.0.1", 0))
    held = []  # keep the accepted connection open (and silent) until the test ends
    threading.Thread(target=lambda: held.append(listener.accept()), daemon=True).start()
    try:
        channel = MoodleChannel(f"http://127.0.0.1:{listener.getsockname()[1]}", "t", timeout=0.5)
        with pytest.raises(DeliveryError) as err:
            channel.deliver(job)
        assert err.value.retryable and "within 0.5 s" in str(err.value)
    finally:
        listener.close()


def test_a_job_without_moodle_user_is_refused():
    with pytest.raises(DeliveryError) as err:
        MoodleChannel("https://moodle.example.edu", "t").deliver(make_job(learner_moodle_id=None))
    assert not err.value.retryable


@pytest.mark.parametrize("url, token, words", [("moodle.example.edu", "t", "EDC_MOODLE_URL"),
                                               ("https://moodle.example.edu", "", "EDC_MOODLE_TOKEN")])
def test_bad_configuration_is_named(url, token, words):
    with pytest.raises(ValueError) as err:
        MoodleChannel(url, token)
    assert words in str(err.value)


def test_the_fake_checks_what_the_plugin_declares():
    """The fake reads the plugin's PHP declarations; if they drift from what the channel sends, the tests above fail."""
    assert set(DECLARED[STORE]["required"]) == {"userid", "courseid", "credentialid", "filename", "content",
                                                "verifyurl"}
    assert set(DECLARED[SET_STATUS]["required"]) == {"userid", "courseid", "credentialid", "status", "timestamp"}
    assert DECLARED[STORE]["required"]["userid"] is int and DECLARED[SET_STATUS]["optional"] == {"message": str, "supersededby": str}
    assert DECLARED[STORE]["optional"] == {"format": str, "deliveredat": int}


@pytest.mark.parametrize("value", [
    base64.b64encode(bytes(range(256)) * 120).decode("ascii"),  # every base64 character, long: the fast path
    "Žemaitė O'Brien & García López = 100% +1 /x",  # short, non-ASCII, reserved characters
    "A" * 300 + "é",  # long but not base64
    "",
])
def test_form_body_is_exactly_what_urlencode_writes(value):
    from urllib.parse import urlencode

    from bridge.delivery.moodle import form_body

    form = {"wstoken": "t0k", "wsfunction": "block_edcissuer_store_credential", "content": value}
    assert form_body(form) == urlencode(form)
