"""Verify a Switchboard webhook (Standard Webhooks) with Python's standard library.

Use `verify(secret, headers, body)` in your receiver, on the raw body, before parsing
it. Run as a script, it reads {"secret", "headers", "body"} as JSON on stdin and
prints true or false (the test suite checks real deliveries with it).
"""
import base64
import hashlib
import hmac
import json
import sys
import time


def verify(secret: str, headers: dict, body: bytes, tolerance: int = 300) -> bool:
    """True if `body` was signed by Switchboard with `secret` (a `whsec_…` string)."""
    msg_id, ts = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(ts)) > tolerance:
        return False  # too old, or from the future: a replayed request
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{ts}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    # During a secret rotation there are several signatures: any one will do.
    return any(
        hmac.compare_digest(sig.removeprefix("v1,"), expected)
        for sig in headers["webhook-signature"].split()
        if sig.startswith("v1,")
    )


if __name__ == "__main__":
    given = json.load(sys.stdin)
    ok = verify(given["secret"], given["headers"], given["body"].encode())
    print("true" if ok else "false")
