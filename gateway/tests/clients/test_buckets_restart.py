"""After a restart, a bucket created through the API is still routed."""
from conftest import client


def test_a_created_bucket_survives_a_restart():
    s3 = client()
    assert "survives-restart" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert s3.get_object(Bucket="survives-restart", Key="kept")["Body"].read() == b"still here"
    s3.delete_object(Bucket="survives-restart", Key="kept")
    s3.delete_bucket(Bucket="survives-restart")
