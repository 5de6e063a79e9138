"""Exit 0 only if this interpreter's email package refuses header injection through encoded words.

CVE-2024-6923: CPython before 3.11.10 / 3.12.5 / 3.13.0rc2 writes a CR/LF decoded from an RFC 2047 encoded
word out raw when it refolds a header, so a name like "=?utf-8?q?=0D=0ABcc:_x@y?=" adds a real header line.
Distributions backport the fix (Debian 12's python3.11 3.11.2-6+deb12u3 and later has it), so the version
number alone cannot tell: this script asks the interpreter itself. Used by scripts/bootstrap-debian.sh to
choose the interpreter of the venv and by the test suite (tests/delivery/test_header_injection.py).
"""
import email.policy
import sys
from email.message import EmailMessage


def injects() -> bool:
    msg = EmailMessage()
    msg["Subject"] = "Hi =?utf-8?q?=0D=0AX-Injected:_yes?= there"
    msg["To"] = "learner@example.edu"
    msg.set_content("x")
    try:
        generated = msg.as_bytes(policy=email.policy.SMTP)
    except Exception:  # a refusal (HeaderWriteError) is the fixed behaviour too
        return False
    head = generated.split(b"\r\n\r\n", 1)[0]
    return any(line.lower().startswith(b"x-injected") for line in head.split(b"\r\n"))


if __name__ == "__main__":
    bad = injects()
    print(f"{sys.executable} {sys.version.split()[0]}: "
          f"{'VULNERABLE to CVE-2024-6923 (email header injection)' if bad else 'email header refolding is safe'}")
    sys.exit(1 if bad else 0)
