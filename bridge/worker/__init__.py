"""Issuance off the request path: claim queued events, seal, store, deliver; retry and recover.

A newcomer's map, in the order the data flows:
- `context.py`: what every part shares (settings, registry, seal, channels) and the errors.
- `issuing.py`: inbox rows claimed in batches under a lease, sealed, stored with their deliveries.
- `delivering.py`: each delivery sent once per channel (email exactly once), retried, parked.
- `corrections.py`: what staff do afterwards: revoke, re-issue, retry, resend.
- `service.py`: the threads and the scheduled jobs that run all of the above (`Worker`), and `drain`
  for tests and the demo.
The names below are what the rest of the sidecar and the tests use.
"""
from bridge.registry.models import utcnow
from bridge.worker.context import Conflict, Context, InvalidRequest, NotFound, backoff
from bridge.worker.corrections import reissue, resend_delivery, retry_delivery, revoke
from bridge.worker.delivering import (RECOVERED_NOTE, deliver_continuously, deliver_due,
                                      recover_handed_over)
from bridge.worker.issuing import (claim_issuance, claim_issuances, dictionary_seed, process_issuance,
                                   process_issuances, requeue_expired_leases)
from bridge.worker.service import Worker, drain, warn_security_contact

__all__ = ["Conflict", "Context", "InvalidRequest", "NotFound", "RECOVERED_NOTE", "Worker", "backoff",
           "claim_issuance", "claim_issuances", "deliver_continuously", "deliver_due", "dictionary_seed",
           "drain", "process_issuance", "process_issuances", "recover_handed_over", "reissue",
           "requeue_expired_leases", "resend_delivery", "retry_delivery", "revoke", "utcnow",
           "warn_security_contact"]
