"""boto3 and checksums through a real gateway on the filesystem backend:
checksums stored and returned, multipart checksums, GetObjectAttributes,
part-number reads and the multipart completion details."""
import base64
import hashlib
import os
import zlib

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from conftest import BUCKET, client

MIB = 1024 * 1024


def error_of(excinfo):
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def b64(digest):
    return base64.b64encode(digest).decode()


def reflected_crc(data, poly, width):
    """A reflected CRC with all-ones init and final XOR, bit by bit (small data only)."""
    mask = (1 << width) - 1
    crc = mask
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return (crc ^ mask).to_bytes(width // 8, "big")


CHECKSUMS = {
    "CRC32": lambda d: b64(zlib.crc32(d).to_bytes(4, "big")),
    "CRC32C": lambda d: b64(reflected_crc(d, 0x82F63B78, 32)),
    "CRC64NVME": lambda d: b64(reflected_crc(d, 0x9A6C9329AC4BC9B5, 64)),
    "SHA1": lambda d: b64(hashlib.sha1(d).digest()),
    "SHA256": lambda d: b64(hashlib.sha256(d).digest()),
}


def test_reference_crcs_match_the_catalogue():
    assert CHECKSUMS["CRC32C"](b"123456789") == b64(bytes.fromhex("e3069283"))
    assert CHECKSUMS["CRC64NVME"](b"123456789") == b64(bytes.fromhex("ae8b14860a799888"))


@pytest.mark.parametrize("algorithm", sorted(CHECKSUMS))
def test_every_algorithm_is_stored_and_returned(s3, prefix, algorithm):
    key = prefix + algorithm
    body = b"checksummed by " + algorithm.encode()
    value = CHECKSUMS[algorithm](body)
    put = s3.put_object(Bucket=BUCKET, Key=key, Body=body, **{"Checksum" + algorithm: value})
    assert put["Checksum" + algorithm] == value
    assert put["ChecksumType"] == "FULL_OBJECT"
    head = s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert head["Checksum" + algorithm] == value
    assert head["ChecksumType"] == "FULL_OBJECT"
    got = s3.get_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got["Checksum" + algorithm] == value
    plain = s3.head_object(Bucket=BUCKET, Key=key)
    assert not any(name.startswith("Checksum") for name in plain), "only with checksum mode"
    ranged = s3.get_object(Bucket=BUCKET, Key=key, Range="bytes=0-3", ChecksumMode="ENABLED")
    assert not any(name.startswith("Checksum") for name in ranged), "never on a range"


def test_a_wrong_checksum_is_bad_digest_and_stores_nothing(s3, prefix):
    key = prefix + "bad"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"abc", ChecksumSHA256=CHECKSUMS["SHA256"](b"x"))
    assert error_of(e) == ("BadDigest", 400)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=BUCKET, Key=key)


def test_boto3_defaults_send_crc32_and_validate_what_comes_back(s3, prefix):
    key = prefix + "default"
    body = os.urandom(70 * 1024)
    put = s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    assert put["ChecksumCRC32"] == CHECKSUMS["CRC32"](body)
    # With checksum mode, botocore checks the body against the CRC32.
    got = s3.get_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got["ChecksumCRC32"] == CHECKSUMS["CRC32"](body)


def test_objects_written_without_a_checksum_get_crc64nvme(prefix):
    bare = client(request_checksum_calculation="when_required",
                  response_checksum_validation="when_required")
    key = prefix + "bare"
    bare.put_object(Bucket=BUCKET, Key=key, Body=b"123456789")
    head = bare.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert head["ChecksumCRC64NVME"] == CHECKSUMS["CRC64NVME"](b"123456789")
    assert head["ChecksumType"] == "FULL_OBJECT"


def _multipart(s3, key, algorithm, checksum_type=None, parts=None):
    """Creates an upload with `algorithm`, uploads `parts` with their
    checksums, answers (upload id, listed parts, part data)."""
    extra = {"ChecksumType": checksum_type} if checksum_type else {}
    created = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm=algorithm, **extra)
    assert created["ChecksumAlgorithm"] == algorithm
    assert created["ChecksumType"] == (checksum_type or "COMPOSITE")
    uid = created["UploadId"]
    parts = parts or [os.urandom(5 * MIB), os.urandom(1000)]
    listed = []
    for number, data in enumerate(parts, start=1):
        value = CHECKSUMS[algorithm](data)
        answer = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=number,
                                Body=data, **{"Checksum" + algorithm: value})
        assert answer["Checksum" + algorithm] == value
        listed.append({"PartNumber": number, "ETag": answer["ETag"], "Checksum" + algorithm: value})
    return uid, listed, parts


def test_multipart_composite_checksum(s3, prefix):
    key = prefix + "composite"
    uid, listed, parts = _multipart(s3, key, "SHA256")
    shown = s3.list_parts(Bucket=BUCKET, Key=key, UploadId=uid)["Parts"]
    assert [p["ChecksumSHA256"] for p in shown] == [p["ChecksumSHA256"] for p in listed]
    missing = [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in listed]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid,
                                     MultipartUpload={"Parts": missing})
    assert error_of(e) == ("InvalidRequest", 400)
    done = s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid,
                                        MultipartUpload={"Parts": listed})
    digests = b"".join(hashlib.sha256(d).digest() for d in parts)
    expected = "%s-2" % b64(hashlib.sha256(digests).digest())
    assert done["ChecksumSHA256"] == expected
    assert done["ChecksumType"] == "COMPOSITE"
    head = s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == expected
    assert head["ChecksumType"] == "COMPOSITE"


def test_multipart_full_object_crc(s3, prefix):
    key = prefix + "full"
    uid, listed, parts = _multipart(s3, key, "CRC32", "FULL_OBJECT")
    whole = b"".join(parts)
    done = s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid,
                                        MultipartUpload={"Parts": listed},
                                        ChecksumCRC32=CHECKSUMS["CRC32"](whole),
                                        ChecksumType="FULL_OBJECT")
    assert done["ChecksumCRC32"] == CHECKSUMS["CRC32"](whole)
    assert done["ChecksumType"] == "FULL_OBJECT"
    got = s3.get_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert got["Body"].read() == whole


def test_checksum_type_rules(s3, prefix):
    for algorithm, checksum_type in [("CRC64NVME", "COMPOSITE"), ("SHA1", "FULL_OBJECT")]:
        with pytest.raises(ClientError) as e:
            s3.create_multipart_upload(Bucket=BUCKET, Key=prefix + "x", ChecksumAlgorithm=algorithm,
                                       ChecksumType=checksum_type)
        assert error_of(e) == ("InvalidRequest", 400)
    created = s3.create_multipart_upload(Bucket=BUCKET, Key=prefix + "y", ChecksumAlgorithm="CRC64NVME")
    assert created["ChecksumType"] == "FULL_OBJECT"
    uid = created["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=BUCKET, Key=prefix + "y", UploadId=uid, PartNumber=1, Body=b"abc",
                       ChecksumSHA1=CHECKSUMS["SHA1"](b"abc"))
    assert error_of(e) == ("InvalidRequest", 400)
    s3.abort_multipart_upload(Bucket=BUCKET, Key=prefix + "y", UploadId=uid)


def test_upload_file_and_download_through_the_transfer_manager(s3, prefix, tmp_path):
    source = tmp_path / "source.bin"
    data = os.urandom(12 * MIB)
    source.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    s3.upload_file(str(source), BUCKET, prefix + "big", Config=config)
    target = tmp_path / "target.bin"
    s3.download_file(BUCKET, prefix + "big", str(target), Config=config)
    assert target.read_bytes() == data
    head = s3.head_object(Bucket=BUCKET, Key=prefix + "big", ChecksumMode="ENABLED")
    assert head["ETag"].endswith('-3"')


def test_get_object_attributes(s3, prefix):
    key = prefix + "attrs"
    uid, listed, parts = _multipart(s3, key, "CRC32")
    done = s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid,
                                        MultipartUpload={"Parts": listed})
    names = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]
    first = s3.get_object_attributes(Bucket=BUCKET, Key=key, ObjectAttributes=names, MaxParts=1)
    assert '"%s"' % first["ETag"] == done["ETag"]
    assert first["ObjectSize"] == sum(len(p) for p in parts)
    assert first["StorageClass"] == "STANDARD"
    assert first["Checksum"]["ChecksumCRC32"] == done["ChecksumCRC32"].split("-")[0]
    assert first["Checksum"]["ChecksumType"] == "COMPOSITE"
    page = first["ObjectParts"]
    assert (page["TotalPartsCount"], page["IsTruncated"], page["NextPartNumberMarker"]) == (2, True, 1)
    assert [(p["PartNumber"], p["Size"], p["ChecksumCRC32"]) for p in page["Parts"]] == [
        (1, len(parts[0]), listed[0]["ChecksumCRC32"])]
    rest = s3.get_object_attributes(Bucket=BUCKET, Key=key, ObjectAttributes=["ObjectParts"],
                                    PartNumberMarker=1)
    assert [p["PartNumber"] for p in rest["ObjectParts"]["Parts"]] == [2]
    assert "ETag" not in rest
    with pytest.raises(ClientError) as e:
        s3.get_object_attributes(Bucket=BUCKET, Key=prefix + "missing", ObjectAttributes=["ETag"])
    assert error_of(e) == ("NoSuchKey", 404)


def test_part_number_reads(s3, prefix):
    key = prefix + "parts"
    uid, listed, parts = _multipart(s3, key, "CRC32")
    s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid, MultipartUpload={"Parts": listed})
    total = sum(len(p) for p in parts)
    second = s3.get_object(Bucket=BUCKET, Key=key, PartNumber=2)
    assert second["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert second["PartsCount"] == 2
    assert second["ContentRange"] == "bytes %d-%d/%d" % (len(parts[0]), total - 1, total)
    assert second["Body"].read() == parts[1]
    head = s3.head_object(Bucket=BUCKET, Key=key, PartNumber=1)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert head["ContentLength"] == len(parts[0])
    assert head["PartsCount"] == 2
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=BUCKET, Key=key, PartNumber=3)
    assert error_of(e) == ("InvalidPartNumber", 416)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=BUCKET, Key=key, PartNumber=1, Range="bytes=0-1")
    assert error_of(e) == ("InvalidRequest", 400)
    s3.put_object(Bucket=BUCKET, Key=prefix + "single", Body=b"single")
    whole = s3.get_object(Bucket=BUCKET, Key=prefix + "single", PartNumber=1)
    assert whole["Body"].read() == b"single"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=BUCKET, Key=prefix + "single", PartNumber=2)
    assert error_of(e) == ("InvalidPartNumber", 416)


def test_completion_is_idempotent_and_conditional(s3, prefix):
    key = prefix + "again"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"first")
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=1, Body=b"discarded")
    last = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=1, Body=b"kept")
    parts = {"Parts": [{"PartNumber": 1, "ETag": last["ETag"]}]}
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid, MultipartUpload=parts,
                                     IfNoneMatch="*")
    assert error_of(e) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid, MultipartUpload=parts,
                                     IfMatch='"0123456789abcdef0123456789abcdef"')
    assert error_of(e) == ("PreconditionFailed", 412)
    done = s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid, MultipartUpload=parts)
    again = s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid, MultipartUpload=parts)
    assert again["ETag"] == done["ETag"]
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"kept"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"changed")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid, MultipartUpload=parts)
    assert error_of(e) == ("NoSuchUpload", 404)
