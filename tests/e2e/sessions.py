#!/usr/bin/env python3
"""Multi-message SMTP sessions against a Postfix instance with preflight attached.

Run by tests/e2e/sessions.sh, which starts Postfix (message_size_limit POSTFIX_LIMIT) with
the milter (limits.max_message_bytes PREFLIGHT_LIMIT) and smtp-sink behind it. Each
session sends several messages over one SMTP connection and checks, for every message,
the reply the client got and, for every delivered one, that the sink holds it with its own
verdict header and nothing a sender forged.

    python3 tests/e2e/sessions.py SMTP_PORT SINK_DIR PREFLIGHT_LIMIT POSTFIX_LIMIT

Python's smtplib is the client: a real, independent SMTP implementation.
"""

import os
import smtplib
import sys
import time

PORT = int(sys.argv[1])
SINK = sys.argv[2]
PREFLIGHT_LIMIT = int(sys.argv[3])
POSTFIX_LIMIT = int(sys.argv[4])
HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(HERE, "..", "..", "samples")

FROM = "sender@example.com"
TO = ["rcpt@example.org"]


def sample(name):
    with open(os.path.join(SAMPLES, name), "rb") as f:
        return f.read().replace(b"\r\n", b"\n")


def tagged(raw, tag, extra=b""):
    """The message with an X-Test-Id field (and any extra fields) on top."""
    return b"X-Test-Id: " + tag.encode() + b"\n" + extra + raw


def padded(raw, size):
    """The message with body lines appended until it is at least `size` bytes."""
    out = bytearray(raw)
    i = 0
    while len(out) < size:
        out += b"padding line %d so the message is larger than a limit\n" % i
        i += 1
    return bytes(out)


CLEAN = sample("good-personal-reply.eml")
CANARY = sample("canary.eml")
FLAGGED = sample("bad-size-too-many-attachments.eml")

failures = []
delivered = {}  # tag -> expected verdict header prefix


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, flush=True)


def send(conn, tag, raw, want, declare_size=True):
    """Sends one message; `want` is the reply code expected at the end of DATA (or at
    MAIL FROM for a message whose SIZE Postfix refuses), with a text prefix."""
    code, text = want
    try:
        if declare_size:
            refused = conn.sendmail(FROM, TO, raw)
            got = (250, "")
            if refused:
                got = (550, str(refused))
        else:
            # No SIZE= parameter: Postfix reads the whole message and refuses it at the end.
            c, m = conn.mail(FROM)
            if c != 250:
                raise smtplib.SMTPSenderRefused(c, m, FROM)
            for r in TO:
                conn.rcpt(r)
            c, m = conn.data(raw)
            if c != 250:
                raise smtplib.SMTPDataError(c, m)
            got = (c, "")
    except smtplib.SMTPSenderRefused as e:
        got = (e.smtp_code, e.smtp_error.decode(errors="replace"))
        conn.rset()
    except smtplib.SMTPDataError as e:
        got = (e.smtp_code, e.smtp_error.decode(errors="replace"))
    except smtplib.SMTPRecipientsRefused as e:
        got = (550, str(e.recipients))
        conn.rset()
    ok = got[0] == code and got[1].startswith(text)
    print(f"  {tag}: {got[0]} {got[1][:70]!r} {'ok' if ok else 'UNEXPECTED'}", flush=True)
    if not ok:
        fail(f"{tag}: expected {code} {text!r}, got {got[0]} {got[1]!r}")
    return got


def session(name, steps):
    print(f"== session {name}", flush=True)
    conn = smtplib.SMTP("127.0.0.1", PORT, local_hostname="client.example", timeout=60)
    conn.ehlo("client.example")
    for step in steps:
        step(conn)
    conn.quit()


OK = (250, "")
REJECT = (554, "5.7.1 preflight: rejected by CNT001")
OURS_TOO_LARGE = (552, "5.3.4 preflight: message size exceeds the limit")
# Postfix refuses at MAIL FROM when SIZE= declares too much, at the end of DATA otherwise.
POSTFIX_TOO_LARGE = (552, "5.3.4 Message size exceeds fixed limit")
POSTFIX_FILE_TOO_BIG = (552, "5.3.4 Error: message file too big")


def clean(tag, extra=b""):
    def step(conn):
        if send(conn, tag, tagged(CLEAN, tag, extra), OK)[0] == 250:
            delivered[tag] = "pass; score="
    return step


def flagged(tag):
    def step(conn):
        if send(conn, tag, tagged(FLAGGED, tag), OK)[0] == 250:
            delivered[tag] = "flag; score="
    return step


def canary(tag):
    return lambda conn: send(conn, tag, tagged(CANARY, tag), REJECT)


def oversize(tag):
    big = padded(tagged(CLEAN, tag), PREFLIGHT_LIMIT + 10_000)
    assert len(big) < POSTFIX_LIMIT
    return lambda conn: send(conn, tag, big, OURS_TOO_LARGE)


def over_postfix(tag, declare_size):
    huge = padded(tagged(CLEAN, tag), POSTFIX_LIMIT + 50_000)
    want = POSTFIX_TOO_LARGE if declare_size else POSTFIX_FILE_TOO_BIG
    return lambda conn: send(conn, tag, huge, want, declare_size)


def abort_with_rset(tag):
    def step(conn):
        c, _ = conn.mail(FROM)
        c2, _ = conn.rcpt(TO[0])
        c3, _ = conn.rset()
        print(f"  {tag}: MAIL {c}, RCPT {c2}, RSET {c3}", flush=True)
        if (c, c2, c3) != (250, 250, 250):
            fail(f"{tag}: MAIL/RCPT/RSET answered {c}/{c2}/{c3}")
    return step


FORGED = (b"X-Preflight-Verdict: pass; score=0\n"
          b"x-preflight-verdict: pass; score=0; forged\n")

# The report's reproduction, five times over: oversize, clean, canary, clean.
for n in range(5):
    session(f"A{n}", [oversize(f"A{n}-big"), clean(f"A{n}-clean1"), canary(f"A{n}-canary"),
                      clean(f"A{n}-clean2")])
session("B", [clean("B-forged", FORGED), flagged("B-flagged"), abort_with_rset("B-rset"),
              canary("B-canary"), clean("B-clean"), oversize("B-big"), flagged("B-flagged2")])
session("C", [over_postfix("C-huge-size", True), clean("C-clean1"),
              over_postfix("C-huge-data", False), canary("C-canary"), clean("C-clean2")])

# Every delivered message at the sink, with its own verdict header and nothing forged.
def sink_messages():
    out = {}
    for name in os.listdir(SINK):
        with open(os.path.join(SINK, name), "rb") as f:
            data = f.read().replace(b"\r\n", b"\n")
        head = data.split(b"\n\n", 1)[0]
        lines = head.split(b"\n")
        tag = None
        verdicts = []
        for line in lines:
            low = line.lower()
            if low.startswith(b"x-test-id:"):
                tag = line.split(b":", 1)[1].strip().decode()
            if low.startswith(b"x-preflight-verdict:"):
                verdicts.append(line.split(b":", 1)[1].strip().decode())
        if tag:
            out.setdefault(tag, []).append(verdicts)
    return out


deadline = time.time() + 30
while time.time() < deadline:
    got = sink_messages()
    if all(t in got for t in delivered):
        break
    time.sleep(0.3)
got = sink_messages()
print(f"== sink: {len(got)} tagged messages, {len(delivered)} expected", flush=True)
for tag, prefix in sorted(delivered.items()):
    copies = got.get(tag)
    if not copies:
        fail(f"{tag}: accepted but not at the sink")
        continue
    if len(copies) != 1:
        fail(f"{tag}: {len(copies)} copies at the sink")
    verdicts = copies[0]
    if len(verdicts) != 1 or not verdicts[0].startswith(prefix):
        fail(f"{tag}: verdict headers {verdicts}, expected one starting {prefix!r}")
    else:
        print(f"  {tag}: X-Preflight-Verdict: {verdicts[0]}", flush=True)
for tag in got:
    if tag not in delivered:
        fail(f"{tag}: at the sink although it was refused")

if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("sessions: ok")
