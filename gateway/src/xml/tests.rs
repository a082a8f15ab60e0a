//! Golden outputs: every rendered document compared as a whole string.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cedargate_backends::{
    CopyOutput, ListPage, ListPartsPage, ListUploadsPage, ObjectSummary, PartSummary, UploadSummary,
};

use super::*;
use cedargate_s3::xml::*;

const HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
const NS: &str = r#" xmlns="http://s3.amazonaws.com/doc/2006-03-01/""#;
const T: &str = "2009-10-12T17:50:30.000Z";

fn at() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_255_369_830)
}

fn owner() -> Owner {
    Owner {
        id: "id-1".into(),
        display_name: Some("me".into()),
    }
}

fn summary(key: &str) -> ObjectSummary {
    ObjectSummary {
        key: key.into(),
        size: 42,
        etag: "abc".into(),
        last_modified: at(),
    }
}

fn doc(root: &str, body: &str) -> String {
    format!("{HEAD}<{root}{NS}>{body}</{root}>")
}

#[test]
fn list_all_my_buckets() {
    let buckets = [("alpha".to_owned(), Some(at())), ("beta".to_owned(), None)];
    let bare = Owner {
        id: "id-2".into(),
        display_name: None,
    };
    let page = BucketsPage {
        buckets: &buckets,
        region: "eu-west-1",
        prefix: None,
        continuation_token: None,
    };
    assert_eq!(
        list_all_my_buckets_result(&bare, &page),
        doc(
            "ListAllMyBucketsResult",
            &format!(
                "<Owner><ID>id-2</ID></Owner><Buckets>\
                 <Bucket><Name>alpha</Name><CreationDate>{T}</CreationDate><BucketRegion>eu-west-1</BucketRegion></Bucket>\
                 <Bucket><Name>beta</Name><CreationDate>1970-01-01T00:00:00.000Z</CreationDate><BucketRegion>eu-west-1</BucketRegion></Bucket>\
                 </Buckets>"
            )
        )
    );
    let paged = BucketsPage {
        buckets: &buckets[..1],
        prefix: Some("a&"),
        continuation_token: Some("YWxwaGE"),
        ..page
    };
    assert_eq!(
        list_all_my_buckets_result(&bare, &paged),
        doc(
            "ListAllMyBucketsResult",
            &format!(
                "<Owner><ID>id-2</ID></Owner><Buckets>\
                 <Bucket><Name>alpha</Name><CreationDate>{T}</CreationDate><BucketRegion>eu-west-1</BucketRegion></Bucket>\
                 </Buckets><ContinuationToken>YWxwaGE</ContinuationToken><Prefix>a&amp;</Prefix>"
            )
        )
    );
}

fn params(owner: Option<&Owner>, url: bool) -> ListObjectsParams<'_> {
    ListObjectsParams {
        bucket: "bkt",
        prefix: "p f/",
        delimiter: Some("/"),
        max_keys: 2,
        encoding_type_url: url,
        owner,
    }
}

#[test]
fn list_bucket_v1_truncated_with_delimiter_and_url_encoding() {
    let page = ListPage {
        objects: vec![summary("p f/a+b<&>.txt")],
        common_prefixes: vec!["p f/sub dir/".into()],
        is_truncated: true,
        next_start_after: Some("p f/sub dir/".into()),
    };
    let owner = owner();
    assert_eq!(
        list_bucket_result_v1(&params(Some(&owner), true), "p f/0", &page),
        doc(
            "ListBucketResult",
            &format!(
                "<Name>bkt</Name><Prefix>p f/</Prefix><Marker>p%20f/0</Marker>\
                 <NextMarker>p%20f/sub%20dir/</NextMarker><MaxKeys>2</MaxKeys><Delimiter>/</Delimiter>\
                 <EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>\
                 <Contents><Key>p%20f/a%2Bb%3C%26%3E.txt</Key><LastModified>{T}</LastModified>\
                 <ETag>&quot;abc&quot;</ETag><Size>42</Size>\
                 <Owner><ID>id-1</ID><DisplayName>me</DisplayName></Owner>\
                 <StorageClass>STANDARD</StorageClass></Contents>\
                 <CommonPrefixes><Prefix>p%20f/sub%20dir/</Prefix></CommonPrefixes>"
            )
        )
    );
}

#[test]
fn list_bucket_v1_without_delimiter_has_no_next_marker() {
    let page = ListPage {
        objects: vec![summary("<k>")],
        is_truncated: true,
        next_start_after: Some("<k>".into()),
        ..ListPage::default()
    };
    let params = ListObjectsParams {
        delimiter: Some(""),
        prefix: "",
        ..params(None, false)
    };
    assert_eq!(
        list_bucket_result_v1(&params, "", &page),
        doc(
            "ListBucketResult",
            &format!(
                "<Name>bkt</Name><Prefix></Prefix><Marker></Marker><MaxKeys>2</MaxKeys>\
                 <IsTruncated>true</IsTruncated>\
                 <Contents><Key>&lt;k&gt;</Key><LastModified>{T}</LastModified>\
                 <ETag>&quot;abc&quot;</ETag><Size>42</Size><StorageClass>STANDARD</StorageClass></Contents>"
            )
        )
    );
}

#[test]
fn list_bucket_v2() {
    let page = ListPage {
        objects: vec![summary("p f/a")],
        common_prefixes: vec!["p f/b/".into()],
        is_truncated: true,
        next_start_after: Some("p f/b/".into()),
    };
    let v2 = ListObjectsV2Params {
        continuation_token: Some("tok+/="),
        next_continuation_token: Some("next&"),
        start_after: Some("p f/0"),
    };
    assert_eq!(
        list_bucket_result_v2(&params(None, false), &v2, &page),
        doc(
            "ListBucketResult",
            &format!(
                "<Name>bkt</Name><Prefix>p f/</Prefix><ContinuationToken>tok+/=</ContinuationToken>\
                 <NextContinuationToken>next&amp;</NextContinuationToken><StartAfter>p f/0</StartAfter>\
                 <KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><Delimiter>/</Delimiter>\
                 <IsTruncated>true</IsTruncated>\
                 <Contents><Key>p f/a</Key><LastModified>{T}</LastModified><ETag>&quot;abc&quot;</ETag>\
                 <Size>42</Size><StorageClass>STANDARD</StorageClass></Contents>\
                 <CommonPrefixes><Prefix>p f/b/</Prefix></CommonPrefixes>"
            )
        )
    );
    // Not truncated: no NextContinuationToken even when one is given.
    let done = ListPage::default();
    let expected = doc(
        "ListBucketResult",
        "<Name>bkt</Name><Prefix>p%20f/</Prefix><StartAfter>p%20f/0</StartAfter><KeyCount>0</KeyCount>\
         <MaxKeys>2</MaxKeys><Delimiter>/</Delimiter><EncodingType>url</EncodingType>\
         <IsTruncated>false</IsTruncated>",
    );
    let v2 = ListObjectsV2Params {
        continuation_token: None,
        ..v2
    };
    assert_eq!(
        list_bucket_result_v2(&params(None, true), &v2, &done),
        expected
    );
}

#[test]
fn list_parts() {
    let page = ListPartsPage {
        parts: vec![PartSummary {
            part_number: 2,
            etag: "e2".into(),
            size: 5,
            last_modified: at(),
            checksum: None,
        }],
        is_truncated: true,
        next_part_number_marker: Some(2),
    };
    let owner = owner();
    let params = ListPartsParams {
        bucket: "bkt",
        key: "a&b",
        upload_id: "up<1>",
        part_number_marker: 1,
        max_parts: 1,
        owner: Some(&owner),
    };
    assert_eq!(
        list_parts_result(&params, &page),
        doc(
            "ListPartsResult",
            &format!(
                "<Bucket>bkt</Bucket><Key>a&amp;b</Key><UploadId>up&lt;1&gt;</UploadId>\
                 <Initiator><ID>id-1</ID><DisplayName>me</DisplayName></Initiator>\
                 <Owner><ID>id-1</ID><DisplayName>me</DisplayName></Owner>\
                 <StorageClass>STANDARD</StorageClass><PartNumberMarker>1</PartNumberMarker>\
                 <NextPartNumberMarker>2</NextPartNumberMarker><MaxParts>1</MaxParts>\
                 <IsTruncated>true</IsTruncated>\
                 <Part><PartNumber>2</PartNumber><LastModified>{T}</LastModified>\
                 <ETag>&quot;e2&quot;</ETag><Size>5</Size></Part>"
            )
        )
    );
}

#[test]
fn list_multipart_uploads() {
    let page = ListUploadsPage {
        uploads: vec![UploadSummary {
            key: "d/a b".into(),
            upload_id: "u1".into(),
            initiated: at(),
        }],
        common_prefixes: vec!["d/c/".into()],
        is_truncated: false,
        next_key_marker: None,
        next_upload_id_marker: None,
    };
    let params = ListUploadsParams {
        bucket: "bkt",
        prefix: "d/",
        delimiter: Some("/"),
        key_marker: "",
        upload_id_marker: "",
        max_uploads: 1000,
        encoding_type_url: true,
        owner: None,
    };
    assert_eq!(
        list_multipart_uploads_result(&params, &page),
        doc(
            "ListMultipartUploadsResult",
            &format!(
                "<Bucket>bkt</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>\
                 <NextKeyMarker></NextKeyMarker><NextUploadIdMarker></NextUploadIdMarker>\
                 <Delimiter>/</Delimiter><Prefix>d/</Prefix><EncodingType>url</EncodingType>\
                 <MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>\
                 <Upload><Key>d/a%20b</Key><UploadId>u1</UploadId><StorageClass>STANDARD</StorageClass>\
                 <Initiated>{T}</Initiated></Upload>\
                 <CommonPrefixes><Prefix>d/c/</Prefix></CommonPrefixes>"
            )
        )
    );
}

#[test]
fn single_results() {
    assert_eq!(
        location_constraint("us-east-1"),
        format!("{HEAD}<LocationConstraint{NS}/>")
    );
    assert_eq!(location_constraint(""), location_constraint("us-east-1"));
    assert_eq!(
        location_constraint("eu-west-1"),
        doc("LocationConstraint", "eu-west-1")
    );
    let copy = CopyOutput {
        etag: "c0".into(),
        last_modified: at(),
        version_id: None,
        checksum: None,
    };
    let copied = format!("<LastModified>{T}</LastModified><ETag>&quot;c0&quot;</ETag>");
    assert_eq!(copy_object_result(&copy), doc("CopyObjectResult", &copied));
    assert_eq!(copy_part_result(&copy), doc("CopyPartResult", &copied));
    assert_eq!(
        initiate_multipart_upload_result("bkt", "k'1", "u\"1"),
        doc(
            "InitiateMultipartUploadResult",
            "<Bucket>bkt</Bucket><Key>k&apos;1</Key><UploadId>u&quot;1</UploadId>"
        )
    );
    assert_eq!(
        complete_multipart_upload_result(
            "https://bkt.s3.example.com/a%26b",
            "bkt",
            "a&b",
            "f-2",
            None
        ),
        doc(
            "CompleteMultipartUploadResult",
            "<Location>https://bkt.s3.example.com/a%26b</Location><Bucket>bkt</Bucket>\
             <Key>a&amp;b</Key><ETag>&quot;f-2&quot;</ETag>"
        )
    );
}

#[test]
fn delete_results() {
    let outcomes = [
        DeleteOutcome {
            key: "gone".into(),
            version_id: None,
            failure: None,
            delete_marker_version_id: None,
        },
        DeleteOutcome {
            key: "v<1>".into(),
            version_id: Some("3".into()),
            failure: None,
            delete_marker_version_id: None,
        },
        DeleteOutcome {
            key: "marked".into(),
            version_id: None,
            failure: None,
            delete_marker_version_id: Some("m1".into()),
        },
        DeleteOutcome {
            key: "kept]]>".into(),
            version_id: None,
            delete_marker_version_id: None,
            failure: Some(DeleteFailure {
                code: "AccessDenied".into(),
                message: "not allowed to delete `kept]]>`".into(),
            }),
        },
    ];
    let error = "<Error><Key>kept]]&gt;</Key><Code>AccessDenied</Code>\
                 <Message>not allowed to delete `kept]]&gt;`</Message></Error>";
    assert_eq!(
        delete_result(&outcomes, false),
        doc(
            "DeleteResult",
            &format!(
                "<Deleted><Key>gone</Key></Deleted>\
                 <Deleted><Key>v&lt;1&gt;</Key><VersionId>3</VersionId></Deleted>\
                 <Deleted><Key>marked</Key><DeleteMarker>true</DeleteMarker>\
                 <DeleteMarkerVersionId>m1</DeleteMarkerVersionId></Deleted>{error}"
            )
        )
    );
    assert_eq!(delete_result(&outcomes, true), doc("DeleteResult", error));
    assert_eq!(delete_result(&outcomes[..1], true), doc("DeleteResult", ""));
}

#[test]
fn error_documents() {
    assert_eq!(
        error_document(
            "AccessDenied",
            "credential not authorised for bucket",
            Some("my-bucket"),
            "/my-bucket/path/to/object",
            "17b1c8a3",
        ),
        format!(
            "{HEAD}<Error><Code>AccessDenied</Code>\
             <Message>credential not authorised for bucket</Message>\
             <BucketName>my-bucket</BucketName><Resource>/my-bucket/path/to/object</Resource>\
             <RequestId>17b1c8a3</RequestId></Error>"
        )
    );
    assert_eq!(
        error_document(
            "InvalidRequest",
            "unknown key `<a>&\"b\"]]>`",
            None,
            "/x\r\n",
            "r1"
        ),
        format!(
            "{HEAD}<Error><Code>InvalidRequest</Code>\
             <Message>unknown key `&lt;a&gt;&amp;&quot;b&quot;]]&gt;`</Message>\
             <Resource>/x&#13;&#10;</Resource><RequestId>r1</RequestId></Error>"
        )
    );
}

#[test]
fn documents_parse_back() {
    // Every document is well-formed XML whose text reads back as written.
    let hostile = "a<&>\"'\r\n]]>\u{1}z";
    let body = error_document("C", hostile, Some("b"), "/", "r");
    let mut reader = quick_xml::Reader::from_str(&body);
    let mut text = String::new();
    let mut depth = 0;
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(start) => {
                depth += 1;
                if start.local_name().into_inner() == "Message" {
                    depth = 100;
                }
            }
            quick_xml::events::Event::Text(t) if depth == 100 => text.push_str(&t.xml10_content()),
            quick_xml::events::Event::GeneralRef(r) if depth == 100 => {
                let resolved = match r.resolve_char_ref().unwrap() {
                    Some(ch) => ch.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&r)
                        .unwrap()
                        .to_owned(),
                };
                text.push_str(&resolved);
            }
            quick_xml::events::Event::End(_) if depth == 100 => break,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(text, hostile);
}
