"""A small OpenID Connect provider for tests, run in its own process (see `running_provider`).

It serves discovery, a JWKS and the authorization code flow with PKCE (S256) for one client,
signs ID tokens with RS256, and spends each code once. Whoever is "signed in at the identity
provider" is set by the test: `POST /next` with JSON `{"sub", "preferred_username", "amr"?, "acr"?,
"now"?, "expired"?, "forged"?}`; `now` is the provider's clock (Unix seconds), `expired` dates
the ID token in the past and `forged` signs it with a key the JWKS does not hold.
"""

import base64
import hashlib
import json
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlencode
from wsgiref.simple_server import WSGIRequestHandler, make_server

from joserfc import jwt
from joserfc.jwk import RSAKey

KEY_ID = "test-key"


class Provider:
    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.issuer = ""
        params = {"kid": KEY_ID, "use": "sig", "alg": "RS256"}
        self.key = RSAKey.generate_key(2048, parameters=params)
        # Same key id, other key: a token signed with it must fail the signature check.
        self.forger = RSAKey.generate_key(2048, parameters=params)
        self.next_user: dict = {}
        self.codes: dict[str, dict] = {}

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        method = environ["REQUEST_METHOD"]
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        if path == "/.well-known/openid-configuration":
            return self._json(start_response, 200, self._discovery())
        if path == "/jwks":
            return self._json(start_response, 200, {"keys": [self.key.as_dict(private=False)]})
        if path == "/next" and method == "POST":
            self.next_user = json.loads(body)
            return self._json(start_response, 200, {})
        if path == "/authorize":
            return self._authorize(start_response, query)
        if path == "/token" and method == "POST":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            return self._token(start_response, form, environ.get("HTTP_AUTHORIZATION", ""))
        return self._json(start_response, 404, {"error": "not_found"})

    def _discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def _authorize(self, start_response, query: dict):
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return self._json(start_response, 400, {"error": "invalid_request"})
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return self._json(start_response, 400, {"error": "invalid_request"})
        code = secrets.token_urlsafe(24)
        self.codes[code] = {
            "user": self.next_user,
            "redirect_uri": query["redirect_uri"],
            "nonce": query.get("nonce"),
            "challenge": query["code_challenge"],
        }
        location = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        start_response("302 Found", [("Location", location)])
        return [b""]

    def _token(self, start_response, form: dict, authorization: str):
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            return self._json(start_response, 401, {"error": "invalid_client"})
        # pop: a code is spent by its first use, a replay finds nothing.
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            return self._json(start_response, 400, {"error": "invalid_grant"})
        verifier = form.get("code_verifier", "").encode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        if challenge.decode() != grant["challenge"]:
            return self._json(start_response, 400, {"error": "invalid_grant"})
        user = grant["user"]
        now = int(user.get("now") or time.time())
        if user.get("expired"):
            now -= 3600
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            **{
                k: user[k]
                for k in ("sub", "preferred_username", "email", "amr", "acr")
                if k in user
            },
        }
        key = self.forger if user.get("forged") else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": KEY_ID}, claims, key)
        token = {
            "access_token": secrets.token_urlsafe(24),
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        }
        return self._json(start_response, 200, token)

    @staticmethod
    def _json(start_response, status: int, body: dict):
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}[status]
        start_response(f"{status} {reason}", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


@contextmanager
def running_provider(client_id: str, client_secret: str) -> Iterator[str]:
    """Start the provider in its own process on a free port; yield its issuer URL."""
    process = subprocess.Popen(  # noqa: S603
        # Run as a script: importing the package `testsupport` would need Django set up.
        [sys.executable, str(Path(__file__).resolve()), client_id, client_secret],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        issuer = process.stdout.readline().strip()
        if not issuer:
            raise RuntimeError("the test OpenID provider did not start")
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    provider = Provider(sys.argv[1], sys.argv[2])
    server = make_server("127.0.0.1", 0, provider, handler_class=_QuietHandler)
    provider.issuer = f"http://127.0.0.1:{server.server_port}"
    print(provider.issuer, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
