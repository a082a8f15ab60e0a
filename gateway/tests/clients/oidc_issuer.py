"""A test OIDC issuer on 127.0.0.1: its own RSA and EC keys, a discovery
document and a JWKS, and a helper that signs tokens the way CI systems'
issuers do (RS256 or ES256, with a `kid`).

Run as a program (`python oidc_issuer.py PORT`) it serves until killed,
and `GET /token` answers a fresh token for the default subject."""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa


class Key:
    def __init__(self, kid, alg):
        self.kid = kid
        self.alg = alg
        if alg == "RS256":
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        else:
            self.private = ec.generate_private_key(ec.SECP256R1())
            self.jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key()))
        self.jwk.update({"kid": kid, "alg": alg, "use": "sig"})


class Issuer:
    """Serves `/.well-known/openid-configuration` and `/jwks` for
    `http://127.0.0.1:<port>`; `published` lists the keys in the JWKS."""

    def __init__(self, port):
        self.url = f"http://127.0.0.1:{port}"
        self.keys = {"rsa-1": Key("rsa-1", "RS256"), "ec-1": Key("ec-1", "ES256")}
        self.published = ["rsa-1", "ec-1"]
        self.jwks_fetches = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": issuer.url + "/jwks"}
                elif self.path == "/jwks":
                    issuer.jwks_fetches += 1
                    body = issuer.jwks()
                elif self.path == "/token":
                    # A fresh RS256 token for the default subject (the
                    # conformance deployment's `sts.token_command`).
                    data = issuer.token().encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/jwt")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def jwks(self, kids=None):
        return {"keys": [self.keys[kid].jwk for kid in (kids or self.published)]}

    def add_key(self, kid, alg="RS256"):
        self.keys[kid] = Key(kid, alg)
        return self.keys[kid]

    def token(self, sub="repo:myorg/app:ref:refs/heads/main", kid="rsa-1", aud="sts.amazonaws.com",
              iss=None, lifetime=300, claims=None, omit=(), key=None, headers=None):
        now = int(time.time())
        payload = {"iss": iss or self.url, "sub": sub, "aud": aud, "iat": now, "nbf": now - 5,
                   "exp": now + lifetime, "repository": "myorg/app", "ref": "refs/heads/main",
                   "repository_owner": "myorg", "run_attempt": 1}
        payload.update(claims or {})
        for name in omit:
            payload.pop(name, None)
        signer = key or self.keys[kid]
        header = {"kid": kid}
        header.update(headers or {})
        return jwt.encode(payload, signer.private, algorithm=signer.alg, headers=header)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    Issuer(int(sys.argv[1])).thread.join()
