"""A town hall's Flask application signing people in through Relais with Authlib, as its
documentation shows, every setting at its default but the client's own.

Started by the Rust e2e test `authlib` (crates/relais/tests/e2e/authlib.rs) with:

    RELAIS_ISSUER      the hub's issuer (discovery is read from it)
    CLIENT_ID          the registered client
    CLIENT_SECRET      its secret (client_secret_basic, Authlib's default)
    REDIRECT_URI       its registered redirect URI
    SCOPE              the scopes to ask for
    TOKEN_AUTH         optional: client_secret_post for a client registered so

It prints "listening on <port>" once it accepts connections. `/login` sends the browser to
the hub; `/callback` exchanges the code (Authlib checks the ID token: signature from the JWKS,
`iss`, `aud`, `nonce`, `exp`), then calls userinfo with the access token, which Authlib refuses
to send when it counts the token as expired (60 s before `expires_in`); it answers the result
as JSON. `/logout` goes to the hub's end-session endpoint with the ID token as hint.
"""

import base64
import json
import os
from urllib.parse import urlencode

from authlib.integrations.flask_client import OAuth
from flask import Flask, jsonify, redirect, session
from werkzeug.serving import make_server

app = Flask(__name__)
app.secret_key = os.urandom(32)
# Its own name: the test's browser shares 127.0.0.1 cookies with the mock IdPs.
app.config["SESSION_COOKIE_NAME"] = "mairie_session"
oauth = OAuth(app)
issuer = os.environ["RELAIS_ISSUER"]
oauth.register(
    "relais",
    client_id=os.environ["CLIENT_ID"],
    client_secret=os.environ["CLIENT_SECRET"],
    server_metadata_url=issuer + "/.well-known/openid-configuration",
    client_kwargs={
        "scope": os.environ["SCOPE"],
        "code_challenge_method": "S256",
        **({"token_endpoint_auth_method": os.environ["TOKEN_AUTH"]} if os.environ.get("TOKEN_AUTH") else {}),
    },
)


@app.route("/login")
def login():
    return oauth.relais.authorize_redirect(os.environ["REDIRECT_URI"])


@app.route("/callback")
def callback():
    token = oauth.relais.authorize_access_token()
    claims = token["userinfo"]
    session["id_token"] = token["id_token"]
    session["token"] = {k: token[k] for k in ("access_token", "token_type", "expires_at")}
    userinfo = oauth.relais.userinfo(token=token)
    header = token["id_token"].split(".")[0]
    alg = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["alg"]
    return jsonify(
        alg=alg,
        sub=claims["sub"],
        acr=claims.get("acr"),
        expires_in=token["expires_in"],
        userinfo=dict(userinfo),
    )


@app.route("/userinfo")
def userinfo_again():
    """Userinfo with the token kept in the session (after a logout, say)."""
    try:
        return jsonify(userinfo=dict(oauth.relais.userinfo(token=session["token"])))
    except Exception as error:  # the hub's refusal, as the application sees it
        return jsonify(error=type(error).__name__, detail=str(error)), 401


@app.route("/logout")
def logout():
    metadata = oauth.relais.load_server_metadata()
    query = urlencode({"id_token_hint": session["id_token"]})
    return redirect(metadata["end_session_endpoint"] + "?" + query)


@app.errorhandler(Exception)
def failed(error):
    return jsonify(error=type(error).__name__, detail=str(error)), 500


if __name__ == "__main__":
    server = make_server("127.0.0.1", 0, app)
    print(f"listening on {server.server_port}", flush=True)
    server.serve_forever()
