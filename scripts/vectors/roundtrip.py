#!/usr/bin/env python3
"""The Python side of the itsdangerous round trip (driven by crates/mitten-core/tests/python_roundtrip.rs).

Reads {"verify": [...], "sign": [...]} on stdin: verifies every token Rust made with the real
itsdangerous / Flask, signs every request for Rust to verify, and prints
{"verified": [payload or {"error": "..."}], "signed": [token]} on stdout.
"""
import json
import sys

import flask
import itsdangerous

MAX_AGE = 3600


def serializer(item):
    kind = item["kind"]
    keys = item.get("old_secrets", []) + [item["secret"]]
    if kind == "FlaskSession":
        app = flask.Flask(__name__)
        app.secret_key = item["secret"]
        return app, app.session_interface.get_signing_serializer(app)
    cls = getattr(itsdangerous, kind)
    return None, cls(keys, salt=item["salt"])


def verify(item):
    app, s = serializer(item)
    try:
        if app is not None:
            with app.app_context():
                return s.loads(item["token"], max_age=MAX_AGE)
        if "Timed" in item["kind"]:
            return s.loads(item["token"], max_age=MAX_AGE)
        return s.loads(item["token"])
    except itsdangerous.BadData as error:
        return {"error": type(error).__name__}


def sign(item):
    app, s = serializer(item)
    if app is not None:
        with app.app_context():
            return s.dumps(item["payload"])
    token = s.dumps(item["payload"])
    return token.decode() if isinstance(token, bytes) else token


def main():
    request = json.load(sys.stdin)
    json.dump({"verified": [verify(i) for i in request["verify"]],
               "signed": [sign(i) for i in request["sign"]]}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
