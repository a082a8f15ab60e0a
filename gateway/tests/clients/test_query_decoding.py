"""One query decoding against a real gateway: a presigned URL whose query is
re-encoded either fails its signature or means exactly what was signed."""
import xml.etree.ElementTree as ET
from urllib.parse import unquote

import urllib3

from conftest import BUCKET, client

http = urllib3.PoolManager(retries=False, timeout=30)
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def seed(prefix):
    s3 = client()
    s3.put_object(Bucket=BUCKET, Key=prefix + "team a/only-space.txt", Body=b"space")
    s3.put_object(Bucket=BUCKET, Key=prefix + "team+a/only-plus.txt", Body=b"plus")


def listing_url(prefix):
    return client(signature_version="s3v4").generate_presigned_url(
        "list_objects_v2", Params={"Bucket": BUCKET, "Prefix": prefix}, ExpiresIn=300)


def names(response):
    root = ET.fromstring(response.data)
    return sorted(unquote(key.text).rsplit("/", 1)[-1] for key in root.iter(NS + "Key"))


def signature_failure(response):
    if response.status not in (401, 403):
        return False
    return ET.fromstring(response.data).find("Code").text == "SignatureDoesNotMatch"


def test_a_space_rewritten_as_plus_never_lists_the_plus_prefix(prefix):
    seed(prefix)
    url = listing_url(prefix + "team a/")
    assert "team%20a%2F" in url, url
    r = http.request("GET", url)
    assert r.status == 200, r.data
    assert names(r) == ["only-space.txt"]
    rewritten = url.replace("%20", "+")
    assert rewritten != url
    r = http.request("GET", rewritten)
    assert signature_failure(r) or (r.status == 200 and names(r) == ["only-space.txt"]), r.data


def test_a_plus_rewritten_as_literal_plus_never_lists_the_space_prefix(prefix):
    seed(prefix)
    url = listing_url(prefix + "team+a/")
    assert "team%2Ba%2F" in url, url
    r = http.request("GET", url)
    assert r.status == 200, r.data
    assert names(r) == ["only-plus.txt"]
    r = http.request("GET", url.replace("%2B", "+"))
    assert signature_failure(r) or (r.status == 200 and names(r) == ["only-plus.txt"]), r.data
