"""S3 traffic for the console test (tests/console.rs): writes and reads that
are allowed, and reads under `secret/` that the `no-secret-reads` forbid
policy (an `@id`) denies, so the console's decisions show its id."""
import botocore.exceptions
import pytest

from conftest import BUCKET, client


def test_allowed_and_denied_requests():
    s3 = client()
    s3.put_object(Bucket=BUCKET, Key="public/hello.txt", Body=b"hello")
    s3.put_object(Bucket=BUCKET, Key="secret/plans.txt", Body=b"classified")
    assert s3.get_object(Bucket=BUCKET, Key="public/hello.txt")["Body"].read() == b"hello"
    s3.list_objects_v2(Bucket=BUCKET)
    for _ in range(3):
        with pytest.raises(botocore.exceptions.ClientError) as denied:
            s3.get_object(Bucket=BUCKET, Key="secret/plans.txt")
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
