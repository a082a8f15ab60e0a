"""A small SigV4 header signer whose every input can be wrong on purpose."""
import datetime
import hashlib
import hmac
import urllib.parse


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sign(method, host, path, access_key, secret_key, *, query="", headers=None,
         payload_hash="UNSIGNED-PAYLOAD", when=None, scope_date=None, region="us-east-1",
         service="s3", signed=None, amz_date=None):
    """Returns the headers (with Authorization) for the request."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz_date = amz_date or when.strftime("%Y%m%dT%H%M%SZ")
    scope_date = scope_date or when.strftime("%Y%m%d")
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    headers.setdefault("host", host)
    headers["x-amz-date"] = amz_date
    headers["x-amz-content-sha256"] = payload_hash
    signed = signed or sorted(headers)
    canonical_query = "&".join(sorted(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
        for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True)))
    canonical = "\n".join([
        method, urllib.parse.quote(path, safe="/-_.~"), canonical_query,
        "".join(f"{h}:{headers[h].strip()}\n" for h in signed),
        ";".join(signed), payload_hash])
    scope = f"{scope_date}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + secret_key).encode(), scope_date), region), service),
                "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                                f"SignedHeaders={';'.join(signed)}, Signature={signature}")
    return headers


def signing_parts(headers, secret_key, region="us-east-1", service="s3"):
    """The (key, amz_date, scope, seed signature) behind signed headers, for chunk signatures."""
    auth = headers["authorization"]
    scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/", 1)[1]
    seed = auth.rsplit("Signature=", 1)[1]
    date = scope.split("/", 1)[0]
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + secret_key).encode(), date), region), service),
                "aws4_request")
    return key, headers["x-amz-date"], scope, seed


def chunk_signature(key, amz_date, scope, previous, data):
    empty = hashlib.sha256(b"").hexdigest()
    to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, empty,
                         hashlib.sha256(data).hexdigest()])
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def trailer_signature(key, amz_date, scope, previous, canonical_trailers):
    to_sign = "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz_date, scope, previous,
                         hashlib.sha256(canonical_trailers).hexdigest()])
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
