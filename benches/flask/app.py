"""The same two routes as the Rust stacks, the way a Flask user protects them today:
Flask-Talisman (headers, CSP with a nonce) and Flask-SeaSurf (CSRF tokens), served by gunicorn.
GET / renders a form with the token (and starts the session); POST / checks it."""
from flask import Flask, request, session
from flask_seasurf import SeaSurf
from flask_talisman import Talisman

app = Flask(__name__)
app.secret_key = "bench-secret-key-bench-secret-key"
csrf = SeaSurf(app)
Talisman(app, force_https=False, content_security_policy={"default-src": "'self'", "script-src": "'self'"},
         content_security_policy_nonce_in=["script-src"], session_cookie_secure=False)


@app.get("/")
def index():
    session["user"] = "alice"
    return ('<script nonce="%s"></script><form><input type="hidden" name="_csrf_token" value="%s"></form>'
            % (request.csp_nonce, csrf._get_token()))


@app.post("/")
def post():
    return "%s by %s" % (request.form.get("text", ""), session.get("user", ""))
