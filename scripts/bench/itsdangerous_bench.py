#!/usr/bin/env python3
"""The Python side of the signing benchmark: itsdangerous's URLSafeTimedSerializer signing and
verifying the same 100-byte payload as crates/mitten-core/benches/signing.rs, and werkzeug's
secure_filename on the same 100-character name. Prints the median of several timeit runs.

usage: itsdangerous_bench.py   (with itsdangerous and werkzeug installed; .ci/vectors.sh makes a venv)
"""
import json
import statistics
import timeit

import itsdangerous
from werkzeug.utils import secure_filename

payload = {"user_id": 1234567, "name": "Ada Lovelace", "roles": ["admin", "editor"], "pad": "x" * 23}
assert len(json.dumps(payload, separators=(",", ":"))) == 100
serializer = itsdangerous.URLSafeTimedSerializer("bench-secret", salt="bench-salt")
token = serializer.dumps(payload)
name = ("Résumé für Ångström – ünïcödé ﬁle №1 " * 3)[:96] + ".pdf"
assert len(name) == 100


def median_ns(stmt, number=20000, repeat=7):
    runs = timeit.repeat(stmt, number=number, repeat=repeat)
    return statistics.median(runs) / number * 1e9


for label, stmt in [
    ("URLSafeTimedSerializer/dumps 100 B", lambda: serializer.dumps(payload)),
    ("URLSafeTimedSerializer/loads 100 B", lambda: serializer.loads(token, max_age=3600)),
    ("secure_filename/100 chars unicode", lambda: secure_filename(name)),
]:
    print(f"{label}: {median_ns(stmt) / 1000:.2f} µs (median of 7 runs)")
