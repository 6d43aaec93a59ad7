#!/usr/bin/env python3
"""Writes the known-answer vectors Mitten's tests check against, by running the real
itsdangerous, Flask and werkzeug (versions pinned in requirements.txt).

usage: generate.py OUTPUT_DIR   (writes itsdangerous.json and werkzeug.json)

Everything is deterministic: fixed secrets, salts, payloads and timestamps.
"""
import json
import ntpath
import os
import posixpath
import sys
import types

import flask
import itsdangerous
import werkzeug
import werkzeug.security
import werkzeug.utils
from importlib.metadata import version

SECRET = "test-secret"
SALT = "test-salt"
TS = 1_700_000_000


def fixed_signer(timestamp):
    class Fixed(itsdangerous.TimestampSigner):
        def get_timestamp(self):
            return timestamp

    return Fixed


def signer_vectors():
    out = []
    for key_derivation in ["django-concat", "concat", "hmac", "none"]:
        for digest in ["sha1", "sha256", "sha512"]:
            for salt in [SALT, "itsdangerous.Signer", "cookie-session"]:
                for value in ["hello", "", "a.b.c", "héllo wörld", "x" * 200]:
                    signer = itsdangerous.Signer(
                        SECRET, salt=salt, key_derivation=key_derivation,
                        digest_method=getattr(__import__("hashlib"), digest))
                    out.append({
                        "secret": SECRET, "salt": salt, "key_derivation": key_derivation,
                        "digest": digest, "separator": ".", "value": value,
                        "token": signer.sign(value).decode("utf-8"),
                    })
    for sep in ["|", ":", "~", "!"]:
        signer = itsdangerous.Signer(SECRET, salt=SALT, sep=sep)
        out.append({
            "secret": SECRET, "salt": SALT, "key_derivation": "django-concat",
            "digest": "sha1", "separator": sep, "value": "hello",
            "token": signer.sign("hello").decode(),
        })
    return out


def timestamp_vectors():
    out = []
    for ts in [0, 1, 255, 256, TS, 2**32 + 5, 2**40]:
        for value in ["hello", "a.b"]:
            signer = fixed_signer(ts)(SECRET, salt=SALT)
            out.append({"secret": SECRET, "salt": SALT, "timestamp": ts, "value": value,
                        "token": signer.sign(value).decode()})
    return out


PAYLOADS = [
    {"user_id": 42},
    "hello",
    [1, 2, 3],
    {"data": "x" * 200},
    {"name": "Zoë", "emoji": "\U0001F600", "ctl": "a\nb\t\"c\\"},
    {"nested": {"list": [True, False, None, 1.5, -7]}},
    None,
    12345,
    "\u007f\u0080\u2028",
]


def sorted_keys(value):
    """Dict keys in sorted order, so that the payload serialises the same from a sorted map."""
    if isinstance(value, dict):
        return {k: sorted_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sorted_keys(v) for v in value]
    return value


def serializer_vectors():
    out = []
    for payload in map(sorted_keys, PAYLOADS):
        for kind in ["Serializer", "URLSafeSerializer"]:
            cls = getattr(itsdangerous, kind)
            out.append({"kind": kind, "secret": SECRET, "salt": SALT, "payload": payload,
                        "token": _text(cls(SECRET, salt=SALT).dumps(payload))})
        for kind in ["TimedSerializer", "URLSafeTimedSerializer"]:
            cls = getattr(itsdangerous, kind)
            serializer = cls(SECRET, salt=SALT, signer=fixed_signer(TS))
            out.append({"kind": kind, "secret": SECRET, "salt": SALT, "payload": payload,
                        "timestamp": TS, "token": _text(serializer.dumps(payload))})
    # Default salt, and key rotation: signed with the newest of two keys.
    out.append({"kind": "URLSafeSerializer", "secret": SECRET, "salt": "itsdangerous",
                "payload": {"user_id": 42},
                "token": itsdangerous.URLSafeSerializer(SECRET).dumps({"user_id": 42})})
    rotated = itsdangerous.URLSafeTimedSerializer(["old-secret", SECRET], salt=SALT,
                                                  signer=fixed_signer(TS))
    out.append({"kind": "URLSafeTimedSerializer", "secret": SECRET, "old_secrets": ["old-secret"],
                "salt": SALT, "payload": {"user_id": 42}, "timestamp": TS,
                "token": rotated.dumps({"user_id": 42})})
    old_only = itsdangerous.URLSafeTimedSerializer("old-secret", salt=SALT, signer=fixed_signer(TS))
    out.append({"kind": "URLSafeTimedSerializer", "secret": "old-secret", "salt": SALT,
                "payload": {"user_id": 7}, "timestamp": TS,
                "token": old_only.dumps({"user_id": 7}), "verifies_with_rotated_keyring": True})
    return out


def _text(token):
    return token.decode() if isinstance(token, bytes) else token


def flask_vectors():
    app = flask.Flask(__name__)
    app.secret_key = SECRET
    out = []
    sessions = [
        {"user_id": 42},
        {"user_id": 42, "csrf_token": "abc"},
        {"_fresh": True, "name": "Zoë", "cart": [1, 2, 3]},
        {"big": "y" * 300},
    ]
    with app.app_context():
        serializer = app.session_interface.get_signing_serializer(app)
        serializer.signer = fixed_signer(TS)
        for session in sessions:
            out.append({"secret": SECRET, "session": session, "timestamp": TS,
                        "cookie": serializer.dumps(session)})
        # Tagged types decode to plain JSON.
        import uuid
        from markupsafe import Markup
        tagged = {"t": (1, 2), "b": b"hi", "u": uuid.UUID(int=1), "m": Markup("<b>x</b>"),
                  "di": {" t": 5}}
        out.append({"secret": SECRET, "timestamp": TS, "cookie": serializer.dumps(tagged),
                    "decoded": {"t": [1, 2], "b": [104, 105], "u": "00000000000000000000000000000001",
                                "m": "<b>x</b>", "di": {" t": 5}}})
    return out


FILENAMES = [
    "My cool movie.mov", "../../../etc/passwd", "../../../etc/../passwd", "/etc/passwd",
    "..\\..\\windows\\system32\\cmd.exe", "C:\\Users\\x\\file.txt", "i contain cool ümläuts.txt",
    "résumé.pdf", "Ångström ﬁle.txt", "日本語.txt", "日本語", "фото.jpg", "CON", "con.txt", "NUL",
    "nul.tar.gz", "PRN.log", "COM1", "LPT9.doc", "CONIN$", "COM¹", "CON .txt", "  CON  ",
    "foo/CON", ".bashrc", "...hidden", "._DS_Store", "__init__.py", "_private_", "file...", "-rf",
    "", "..", "   ", "___", "...---...", "%2e%2e%2fetc%2fpasswd", "  leading and trailing  ",
    "tab\tseparated\nnewline.txt", "multiple   spaces.txt", "a b\xa0c.txt", "file<>:\"|?*.txt",
    "null\x00byte.txt", "émoji😀.png", "😀", "ﬀ.txt", "①②③.txt", "ｆｕｌｌｗｉｄｔｈ.txt",
    "a\x1cb\x1fc.txt", "AUX.txt", "aux", "lpt1.", "COM0", "COM10", "x.CON", "shell.php.jpg",
    "index.html", "image.svg", "UPPER.TXT", "a/b\\c/d.txt", "....", "._.", "-._-",
]

JOINS = [
    ["/var/www", ["index.html"]], ["/var/www", ["static", "css/app.css"]],
    ["/var/www", ["../etc/passwd"]], ["/var/www", [".."]], ["/var/www", ["a/../../etc/passwd"]],
    ["/var/www", ["a/../b.txt"]], ["/var/www", ["/etc/passwd"]], ["/var/www", ["//etc/passwd"]],
    ["/var/www", ["./a/./b"]], ["/var/www", ["a//b"]], ["/var/www", ["..foo"]],
    ["/var/www", ["foo.."]], ["/var/www", ["a/.."]], ["/var/www", ["."]], ["/var/www", [""]],
    ["/var/www", []], ["/var/www", ["a", "", "b"]], ["/var/www", ["a", "../b"]],
    ["/var/www", ["a", "/b"]], ["/var/www", ["..\\windows\\win.ini"]],
    ["/var/www", ["C:\\Windows\\win.ini"]], ["/var/www", ["C:/Windows/win.ini"]],
    ["/var/www", ["CON"]], ["/var/www", ["dir/NUL.txt"]], ["/var/www", ["file.txt:stream"]],
    ["/var/www", ["CON:"]], ["/var/www", ["%2e%2e/etc/passwd"]], ["/var/www", ["a/b/../../../x"]],
    ["", ["a.txt"]], ["", ["../a.txt"]], ["/var/www/", ["x"]], ["static", ["img/logo.png"]],
    ["/var/www", ["a/b/c/../../d"]], ["/var/www", ["com1.txt"]], ["/var/www", ["conin$"]],
    ["/var/www", ["x/aux.tar.gz"]], ["/var/www", ["lpt¹"]], ["/var/www", ["..."]],
    ["/var/www", ["a/./../b"]], ["/var/www", ["a\\b"]], ["/var/www", ["///x"]],
    ["/var/www", ["a/b/"]], ["/var/www", ["a", "b", "../../.."]],
]


def windows(fn, *args):
    """Runs a werkzeug helper as it behaves on Windows."""
    utils_os, security_os, alt = werkzeug.utils.os, werkzeug.security.os, werkzeug.security._os_alt_seps
    fake = types.SimpleNamespace(name="nt", sep="\\", altsep="/", path=ntpath)
    werkzeug.utils.os = fake
    werkzeug.security.os = fake
    werkzeug.security._os_alt_seps = ["\\"]
    try:
        return fn(*args)
    finally:
        werkzeug.utils.os, werkzeug.security.os = utils_os, security_os
        werkzeug.security._os_alt_seps = alt


def werkzeug_vectors():
    assert os.name == "posix" and posixpath is os.path
    names = [{"input": name,
              "posix": werkzeug.utils.secure_filename(name),
              "windows": windows(werkzeug.utils.secure_filename, name)} for name in FILENAMES]
    joins = [{"directory": d, "parts": parts,
              "posix": werkzeug.security.safe_join(d, *parts),
              "windows": windows(werkzeug.security.safe_join, d, *parts)} for d, parts in JOINS]
    return {"secure_filename": names, "safe_join": joins}


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    versions = {name: version(name) for name in ["itsdangerous", "flask", "werkzeug"]}
    write(os.path.join(out_dir, "itsdangerous.json"), {
        "generated_by": "scripts/vectors/generate.py", "versions": versions,
        "signer": signer_vectors(), "timestamp_signer": timestamp_vectors(),
        "serializer": serializer_vectors(), "flask_session": flask_vectors(),
    })
    write(os.path.join(out_dir, "werkzeug.json"), {
        "generated_by": "scripts/vectors/generate.py", "versions": versions, **werkzeug_vectors(),
    })


def write(path, data):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
