//! Parsing every response document the backend reads, from samples shaped
//! like AWS's and moto's answers, and writing the request documents.

use std::time::{Duration, UNIX_EPOCH};

use super::*;

const LIST_V2: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name>
  <Prefix>photos/</Prefix>
  <KeyCount>3</KeyCount>
  <MaxKeys>3</MaxKeys>
  <Delimiter>/</Delimiter>
  <IsTruncated>true</IsTruncated>
  <Contents>
    <Key>photos/a &amp; b.jpg</Key>
    <LastModified>2009-10-12T17:50:30.000Z</LastModified>
    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>
    <Size>434234</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents>
    <Key> spaced key </Key>
    <LastModified>2009-10-12T17:50:31Z</LastModified>
    <ETag>"d41d8cd98f00b204e9800998ecf8427e-2"</ETag>
    <Size>0</Size>
  </Contents>
  <CommonPrefixes><Prefix>photos/2006/</Prefix></CommonPrefixes>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>"#;

#[test]
fn list_objects_v2_parses() {
    let list: ListBucketResult = parse(LIST_V2.as_bytes()).unwrap();
    assert!(list.is_truncated);
    assert_eq!(
        list.next_continuation_token.as_deref(),
        Some("1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
    );
    let keys: Vec<&str> = list.contents.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(
        keys,
        ["photos/a & b.jpg", " spaced key "],
        "text is kept exactly"
    );
    assert_eq!(
        unquote_etag(&list.contents[0].etag),
        "fba9dede5f27731c9771645a39863328"
    );
    assert_eq!(list.contents[0].size, 434_234);
    assert_eq!(
        parse_timestamp(&list.contents[0].last_modified).unwrap(),
        UNIX_EPOCH + Duration::from_secs(1_255_369_830)
    );
    assert_eq!(
        parse_timestamp(&list.contents[1].last_modified).unwrap(),
        UNIX_EPOCH + Duration::from_secs(1_255_369_831)
    );
    assert_eq!(list.common_prefixes.len(), 1);
    assert_eq!(list.common_prefixes[0].prefix, "photos/2006/");

    let interleaved: ListBucketResult = parse(
        b"<ListBucketResult><IsTruncated>false</IsTruncated>\
          <Contents><Key>a</Key><LastModified>2020-01-01T00:00:00Z</LastModified><Size>1</Size></Contents>\
          <CommonPrefixes><Prefix>b/</Prefix></CommonPrefixes>\
          <Contents><Key>c</Key><LastModified>2020-01-01T00:00:00Z</LastModified><Size>2</Size></Contents>\
          </ListBucketResult>",
    )
    .unwrap();
    assert_eq!(interleaved.contents.len(), 2, "entries may interleave");
    assert_eq!(interleaved.common_prefixes.len(), 1);

    let empty: ListBucketResult = parse(
        b"<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount>\
          <IsTruncated>false</IsTruncated></ListBucketResult>",
    )
    .unwrap();
    assert!(!empty.is_truncated && empty.contents.is_empty() && empty.common_prefixes.is_empty());
}

#[test]
fn awkward_keys_survive_parsing() {
    for key in [
        "tab\there",
        "a+b",
        "100%",
        "ü/ñ",
        "q?x=1&y=2",
        "<x>",
        "it's \"q\"",
        "cr\rlf\n",
    ] {
        let escaped = text(key).unwrap();
        let doc = format!(
            "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>{escaped}</Key>\
             <LastModified>2020-01-01T00:00:00Z</LastModified><ETag>\"x\"</ETag><Size>1</Size>\
             </Contents></ListBucketResult>"
        );
        let list: ListBucketResult = parse(doc.as_bytes()).unwrap();
        assert_eq!(list.contents[0].key, key, "{escaped}");
    }
    assert_eq!(
        text("bell\u{7}"),
        None,
        "XML 1.0 cannot carry control characters"
    );
}

#[test]
fn multipart_documents_parse() {
    let initiated: InitiateResult = parse(
        br#"<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket><Key>example-object</Key>
  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
</InitiateMultipartUploadResult>"#,
    )
    .unwrap();
    assert_eq!(
        initiated.upload_id,
        "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"
    );

    let completed = br#"<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Location>http://example-bucket.s3.amazonaws.com/Example-Object</Location>
  <Bucket>example-bucket</Bucket><Key>Example-Object</Key>
  <ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag>
</CompleteMultipartUploadResult>"#;
    assert_eq!(
        root_name(completed).as_deref(),
        Some("CompleteMultipartUploadResult")
    );
    let done: CompleteResult = parse(completed).unwrap();
    assert_eq!(
        unquote_etag(&done.etag),
        "3858f62230ac3c915f300c664312c11f-9"
    );

    let parts: ListPartsResult = parse(
        br#"<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId>
  <PartNumberMarker>1</PartNumberMarker><NextPartNumberMarker>3</NextPartNumberMarker>
  <MaxParts>2</MaxParts><IsTruncated>true</IsTruncated>
  <Part><PartNumber>2</PartNumber><LastModified>2010-11-10T20:48:34.000Z</LastModified>
    <ETag>"7778aef83f66abc1fa1e8477f296d394"</ETag><Size>10485760</Size></Part>
  <Part><PartNumber>3</PartNumber><LastModified>2010-11-10T20:48:33.000Z</LastModified>
    <ETag>"aaaa18db4cc2f85cedef654fccc4a4x8"</ETag><Size>10</Size></Part>
</ListPartsResult>"#,
    )
    .unwrap();
    assert!(parts.is_truncated);
    assert_eq!(parts.next_part_number_marker, Some(3));
    let numbers: Vec<(u32, u64)> = parts
        .parts
        .iter()
        .map(|p| (p.part_number, p.size))
        .collect();
    assert_eq!(numbers, [(2, 10_485_760), (3, 10)]);

    let uploads: ListUploadsResult = parse(
        br#"<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>bucket</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>
  <NextKeyMarker>my-movie.m2ts</NextKeyMarker>
  <NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</NextUploadIdMarker>
  <Delimiter>/</Delimiter><Prefix/><MaxUploads>3</MaxUploads><IsTruncated>true</IsTruncated>
  <Upload><Key>my-divisor</Key><UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw</UploadId>
    <Initiator><ID>arn</ID><DisplayName>x</DisplayName></Initiator>
    <Owner><ID>id</ID><DisplayName>d</DisplayName></Owner>
    <StorageClass>STANDARD</StorageClass><Initiated>2010-11-10T20:48:33.000Z</Initiated></Upload>
  <Upload><Key>my-movie.m2ts</Key><UploadId>VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
    <Initiated>2010-11-10T20:48:34.000Z</Initiated></Upload>
  <CommonPrefixes><Prefix>photos/</Prefix></CommonPrefixes>
</ListMultipartUploadsResult>"#,
    )
    .unwrap();
    assert!(uploads.is_truncated);
    assert_eq!(uploads.next_key_marker.as_deref(), Some("my-movie.m2ts"));
    assert_eq!(uploads.uploads.len(), 2);
    assert_eq!(uploads.uploads[1].key, "my-movie.m2ts");
    assert_eq!(uploads.common_prefixes[0].prefix, "photos/");
}

#[test]
fn copy_and_delete_results_parse() {
    for root in ["CopyObjectResult", "CopyPartResult"] {
        let doc = format!(
            "<?xml version=\"1.0\"?><{root}><LastModified>2009-10-28T22:32:00.000Z</LastModified>\
             <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag></{root}>"
        );
        let copied: CopyResult = parse(doc.as_bytes()).unwrap();
        assert_eq!(
            unquote_etag(&copied.etag),
            "9b2cf535f27731c974343645a3985328"
        );
        assert_eq!(
            copied.modified().unwrap(),
            UNIX_EPOCH + Duration::from_secs(1_256_769_120)
        );
    }
    let bare: CopyResult = parse(b"<CopyPartResult><ETag>\"e\"</ETag></CopyPartResult>").unwrap();
    assert!(bare.modified().is_ok(), "LastModified may be missing");
    let deleted: DeleteResult = parse(
        br#"<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Deleted><Key>sample1.txt</Key></Deleted>
  <Error><Key>sample2.txt</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>
  <Deleted><Key>a &amp; b</Key><DeleteMarker>true</DeleteMarker></Deleted>
</DeleteResult>"#,
    )
    .unwrap();
    let keys: Vec<&str> = deleted.deleted.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(keys, ["sample1.txt", "a & b"]);
    assert_eq!(deleted.errors[0].key, "sample2.txt");
    assert_eq!(deleted.errors[0].code.as_deref(), Some("AccessDenied"));
}

#[test]
fn error_documents_parse() {
    let doc = br#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>EntityTooSmall</Code><Message>Your proposed upload is smaller than the minimum allowed size</Message>
<ProposedSize>10</ProposedSize><MinSizeAllowed>5242880</MinSizeAllowed><PartNumber>2</PartNumber>
<ETag>abc</ETag><RequestId>R</RequestId><HostId>H</HostId></Error>"#;
    assert_eq!(root_name(doc).as_deref(), Some("Error"));
    let error: ErrorDoc = parse(doc).unwrap();
    assert_eq!(error.code.as_deref(), Some("EntityTooSmall"));
    assert_eq!(error.part_number, Some(2));
    let range: ErrorDoc = parse(
        b"<Error><Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message>\
          <RangeRequested>bytes=10-</RangeRequested><ActualObjectSize>10</ActualObjectSize></Error>",
    )
    .unwrap();
    assert_eq!(range.actual_object_size, Some(10));
    assert!(
        parse::<ErrorDoc>(b"<html><body>oops").is_err()
            || root_name(b"<html>").as_deref() == Some("html")
    );
    assert!(parse::<ListBucketResult>(b"not xml at all").is_err());
    assert_eq!(root_name(b"not xml at all"), None);
}

#[test]
fn request_documents_are_escaped() {
    let mut objects: Vec<crate::ObjectIdentifier> = ["a&b", "tab\tx", "plain"]
        .into_iter()
        .map(crate::ObjectIdentifier::key)
        .collect();
    objects[2].version_id = Some("v<1>".into());
    assert_eq!(
        delete_request(objects.iter()).unwrap(),
        "<Delete><Quiet>false</Quiet><Object><Key>a&amp;b</Key></Object>\
         <Object><Key>tab&#x9;x</Key></Object><Object><Key>plain</Key>\
         <VersionId>v&lt;1&gt;</VersionId></Object></Delete>"
    );
    assert_eq!(
        delete_request([crate::ObjectIdentifier::key("x\u{1}")].iter()),
        None
    );
    let parts = [
        CompletedPart {
            part_number: 1,
            etag: "\"abc\"".into(),
            checksum: None,
        },
        CompletedPart {
            part_number: 2,
            etag: "def".into(),
            checksum: Some(crate::ObjectChecksum::full_object(
                crate::ChecksumAlgorithm::Sha256,
                "x",
            )),
        },
    ];
    assert_eq!(
        complete_request(&parts).unwrap(),
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;abc&quot;</ETag></Part>\
         <Part><PartNumber>2</PartNumber><ETag>&quot;def&quot;</ETag><ChecksumSHA256>x</ChecksumSHA256></Part>\
         </CompleteMultipartUpload>"
    );
}
