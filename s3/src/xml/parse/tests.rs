//! Parser tests: well-formed bodies, malformed bodies and limits.

use super::*;

const NS: &str = r#" xmlns="http://s3.amazonaws.com/doc/2006-03-01/""#;

fn delete(body: &str) -> Result<DeleteRequest, XmlError> {
    parse_delete(body.as_bytes())
}

fn complete(body: &str) -> Result<CompleteMultipartUpload, XmlError> {
    parse_complete_multipart_upload(body.as_bytes())
}

fn object(key: &str, version_id: Option<&str>) -> ObjectToDelete {
    ObjectToDelete {
        key: key.into(),
        version_id: version_id.map(Into::into),
    }
}

#[test]
fn parses_delete() {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Delete{NS}>\n  <Quiet> true </Quiet>\n  \
         <Object><Key> a&amp;b&#13;&lt;c&gt; </Key></Object>\n  \
         <Object><Key><![CDATA[x]]>y</Key><VersionId>v1</VersionId><ETag>e</ETag></Object>\n\
         </Delete>"
    );
    let request = delete(&body).unwrap();
    assert!(request.quiet);
    assert_eq!(
        request.objects,
        [object(" a&b\r<c> ", None), object("xy", Some("v1"))]
    );
    let prefixed = r#"<s3:Delete xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:Object><s3:Key>k</s3:Key></s3:Object></s3:Delete>"#;
    let request = delete(prefixed).unwrap();
    assert!(!request.quiet);
    assert_eq!(request.objects, [object("k", None)]);
}

#[test]
fn refuses_malformed_delete() {
    let cases = [
        ("", "the body must be a `Delete` document"),
        (
            "<Delete><Object><Key>k</Key></Object>",
            "the body ends before `</Delete>`",
        ),
        (
            "<Delete><Object><Key>k</Key></Object></Delet>",
            "the xml is not well-formed (at byte 37)",
        ),
        (
            "<Remove><Object><Key>k</Key></Object></Remove>",
            "the root element must be `Delete`, not `Remove`",
        ),
        (
            "<Delete></Delete>",
            "a delete request must name at least one `Object`",
        ),
        (
            "<Delete><Object><VersionId>v</VersionId></Object></Delete>",
            "every `Object` needs a `Key`",
        ),
        (
            "<Delete><Object><Key/></Object></Delete>",
            "an `Object` has an empty `Key`",
        ),
        (
            "<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>",
            "an `Object` has more than one `Key`",
        ),
        (
            "<Delete><Quiet>yes</Quiet><Object><Key>k</Key></Object></Delete>",
            "`Quiet` must be true or false, not `yes`",
        ),
        (
            "<!DOCTYPE d [<!ENTITY x \"y\">]><Delete><Object><Key>&x;</Key></Object></Delete>",
            "document type declarations are not allowed",
        ),
        (
            "<Delete><Object><Key>&x;</Key></Object></Delete>",
            "unknown entity `&x;`",
        ),
        (
            "<Delete><Object><Key>k</Key></Object></Delete><Delete/>",
            "the body has content after the root element",
        ),
        (
            "junk<Delete/>",
            "the body has text outside the root element",
        ),
        (
            "<Delete><a><b><c><d><e><f><g><h/></g></f></e></d></c></b></a></Delete>",
            "the xml is nested too deeply",
        ),
    ];
    for (body, message) in cases {
        let error = delete(body).unwrap_err();
        assert_eq!(error.to_string(), message, "{body}");
        assert_eq!(error.code(), "MalformedXML");
    }
    assert_eq!(
        parse_delete(b"<Delete>\xff</Delete>")
            .unwrap_err()
            .message(),
        "the request body is not utf-8"
    );
}

#[test]
fn delete_limits() {
    let objects = |n: usize| "<Object><Key>k</Key></Object>".repeat(n);
    assert_eq!(
        delete(&format!("<Delete>{}</Delete>", objects(1000)))
            .unwrap()
            .objects
            .len(),
        1000
    );
    let error = delete(&format!("<Delete>{}</Delete>", objects(1001))).unwrap_err();
    assert_eq!(
        error.to_string(),
        "a delete request may name at most 1000 objects"
    );
    let huge = format!(
        "<Delete><Object><Key>{}</Key></Object></Delete>",
        "k".repeat(MAX_DELETE_BODY_BYTES)
    );
    assert_eq!(delete(&huge).unwrap_err().code(), "MalformedXML");
}

#[test]
fn parses_complete_multipart_upload() {
    let body = format!(
        "<CompleteMultipartUpload{NS}>\
         <Part><ETag>&quot;a1&quot;</ETag><PartNumber> 1 </PartNumber><ChecksumCRC32>x</ChecksumCRC32></Part>\
         <Part><PartNumber>3</PartNumber><ETag>\"b2\"</ETag></Part>\
         <Part><PartNumber>10000</PartNumber><ETag>c3</ETag></Part>\
         </CompleteMultipartUpload>"
    );
    let parts = complete(&body).unwrap().parts;
    let expected: Vec<(u32, &str)> = vec![(1, "a1"), (3, "b2"), (10000, "c3")];
    let got: Vec<(u32, &str)> = parts
        .iter()
        .map(|p| (p.part_number, p.etag.as_str()))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn refuses_bad_complete_multipart_upload() {
    let wrap = |parts: &str| format!("<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>");
    let cases = [
        (
            wrap(""),
            "MalformedXML",
            "a multipart upload must list at least one `Part`",
        ),
        (
            wrap("<Part><PartNumber>one</PartNumber><ETag>e</ETag></Part>"),
            "MalformedXML",
            "`PartNumber` must be a number, not `one`",
        ),
        (
            wrap("<Part><PartNumber>-1</PartNumber><ETag>e</ETag></Part>"),
            "MalformedXML",
            "`PartNumber` must be a number, not `-1`",
        ),
        (
            wrap("<Part><PartNumber>1</PartNumber></Part>"),
            "MalformedXML",
            "every `Part` needs a `PartNumber` and an `ETag`",
        ),
        (
            wrap("<Part><PartNumber>1</PartNumber><ETag>\"\"</ETag></Part>"),
            "MalformedXML",
            "a `Part` has an empty `ETag`",
        ),
        (
            wrap("<Part><PartNumber>0</PartNumber><ETag>e</ETag></Part>"),
            "InvalidArgument",
            "part number `0` is not between 1 and 10000",
        ),
        (
            wrap("<Part><PartNumber>10001</PartNumber><ETag>e</ETag></Part>"),
            "InvalidArgument",
            "part number `10001` is not between 1 and 10000",
        ),
        (
            wrap("<Part><PartNumber>99999999999</PartNumber><ETag>e</ETag></Part>"),
            "InvalidArgument",
            "part number `99999999999` is not between 1 and 10000",
        ),
        (
            wrap(
                "<Part><PartNumber>2</PartNumber><ETag>e</ETag></Part><Part><PartNumber>2</PartNumber><ETag>e</ETag></Part>",
            ),
            "InvalidPartOrder",
            "parts must be listed in ascending order: part 2 follows part 2",
        ),
        (
            "<Delete/>".to_owned(),
            "MalformedXML",
            "the root element must be `CompleteMultipartUpload`, not `Delete`",
        ),
        (
            "<CompleteMultipartUpload><Part>".to_owned(),
            "MalformedXML",
            "the body ends before `</CompleteMultipartUpload>`",
        ),
    ];
    for (body, code, message) in cases {
        let error = complete(&body).unwrap_err();
        assert_eq!(
            (error.code(), error.to_string().as_str()),
            (code, message),
            "{body}"
        );
    }
}

#[test]
fn complete_limits() {
    let parts: String = (1..=10_001)
        .map(|n| format!("<Part><PartNumber>{n}</PartNumber><ETag>e</ETag></Part>"))
        .collect();
    let body = format!("<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>");
    let error = complete(&body).unwrap_err();
    assert_eq!(
        error.to_string(),
        "a multipart upload may list at most 10000 parts"
    );
}

#[test]
fn parses_botocore_bodies() {
    // Serialized by botocore 1.43 (`s3.delete_objects`,
    // `s3.complete_multipart_upload`).
    let body = r#"<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a&amp;b &lt;c&gt;</Key></Object><Object><Key>k2</Key><VersionId>v1</VersionId></Object><Quiet>true</Quiet></Delete>"#;
    let request = delete(body).unwrap();
    assert!(request.quiet);
    assert_eq!(
        request.objects,
        [object("a&b <c>", None), object("k2", Some("v1"))]
    );
    let body = r#"<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>"e1"</ETag><PartNumber>1</PartNumber><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part><Part><ETag>"e2"</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>"#;
    let parts = complete(body).unwrap().parts;
    assert_eq!(
        parts,
        [
            CompletedPart {
                part_number: 1,
                etag: "e1".into(),
                checksum: Some(("CRC32".into(), "AAAAAA==".into())),
            },
            CompletedPart {
                part_number: 2,
                etag: "e2".into(),
                checksum: None,
            },
        ]
    );
}

#[test]
fn characters_xml_1_0_forbids_are_refused_raw_or_referenced() {
    let delete = |key: &str| {
        parse_delete(format!("<Delete><Object><Key>{key}</Key></Object></Delete>").as_bytes())
    };
    for bad in [
        "a\u{0}b",
        "a\u{b}b",
        "a&#11;b",
        "a&#x1F;b",
        "a\u{FFFE}b",
        "&#xFFFF;",
    ] {
        let refused = delete(bad).expect_err(bad);
        assert_eq!(refused.code(), "MalformedXML", "{bad}");
    }
    for good in ["tab\there", "line\nbreak", "cr&#13;lf", "uni\u{1F600}code"] {
        assert!(delete(good).is_ok(), "{good:?}");
    }
}

fn acl(body: &str) -> Result<Vec<AclGrant>, XmlError> {
    parse_access_control_policy(body.as_bytes())
}

fn grant(id: Option<&str>, permission: &str) -> AclGrant {
    AclGrant {
        canonical_id: id.map(Into::into),
        group_uri: None,
        permission: permission.into(),
    }
}

fn group(uri: &str, permission: &str) -> AclGrant {
    AclGrant {
        canonical_id: None,
        group_uri: Some(uri.into()),
        permission: permission.into(),
    }
}

/// What s3cmd 2.4 sends back after a copy, having read the ACL of the
/// source with GetObjectAcl.
const S3CMD_ACL: &str = r#"<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>cedargate</ID></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>cedargate</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>"#;

#[test]
fn parses_access_control_policies() {
    assert_eq!(
        acl(S3CMD_ACL).unwrap(),
        [grant(Some("cedargate"), "FULL_CONTROL")]
    );
    let mixed = format!(
        "<AccessControlPolicy{NS}><Owner><ID>o</ID><DisplayName>o</DisplayName></Owner>\
         <AccessControlList>\
         <Grant><Grantee><ID>o</ID><DisplayName>o</DisplayName></Grantee><Permission> READ </Permission></Grant>\
         <Grant><Grantee><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>\
         <Grant><Grantee><EmailAddress>a@b.c</EmailAddress></Grantee><Permission>WRITE</Permission></Grant>\
         </AccessControlList></AccessControlPolicy>"
    );
    assert_eq!(
        acl(&mixed).unwrap(),
        [
            grant(Some("o"), "READ"),
            group("http://acs.amazonaws.com/groups/global/AllUsers", "READ"),
            grant(None, "WRITE")
        ]
    );
    let empty =
        "<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList/></AccessControlPolicy>";
    assert_eq!(acl(empty).unwrap(), []);
}

#[test]
fn refuses_malformed_access_control_policies() {
    for bad in [
        "",
        "<Delete/>",
        "<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>o</ID></Grantee></Grant></AccessControlList></AccessControlPolicy>",
        "<AccessControlPolicy><AccessControlList><Grant>",
    ] {
        assert_eq!(acl(bad).expect_err(bad).code(), "MalformedXML", "{bad}");
    }
    let one = "<Grant><Grantee><ID>o</ID></Grantee><Permission>READ</Permission></Grant>";
    let body = |n: usize| {
        format!(
            "<AccessControlPolicy><AccessControlList>{}</AccessControlList></AccessControlPolicy>",
            one.repeat(n)
        )
    };
    assert_eq!(acl(&body(MAX_ACL_GRANTS)).unwrap().len(), MAX_ACL_GRANTS);
    assert!(acl(&body(MAX_ACL_GRANTS + 1)).is_err());
}

#[test]
fn parses_versioning_configurations() {
    let parsed = parse_versioning(
        format!(
            "<VersioningConfiguration{NS}><Status> Enabled </Status>\
             <MfaDelete>Disabled</MfaDelete></VersioningConfiguration>"
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(parsed.status.as_deref(), Some("Enabled"));
    assert_eq!(parsed.mfa_delete.as_deref(), Some("Disabled"));
    let bare = parse_versioning(b"<VersioningConfiguration/>").unwrap();
    assert_eq!(bare, VersioningConfiguration::default());
    for bad in ["", "<Tagging/>", "<VersioningConfiguration><Status>"] {
        let refused = parse_versioning(bad.as_bytes()).expect_err(bad);
        assert_eq!(refused.code(), "MalformedXML", "{bad}");
    }
}
