"""Intake: the signed requests from Moodle (events, course descriptions, status polls).

auth.py checks the HMAC signature and single-use nonce (schemas/intake-auth.md); events.py validates an
event and stores it once, however many copies arrive.
"""
