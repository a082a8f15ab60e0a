use super::*;
use crate::xml::parse_access_control_policy;

fn owner() -> Owner {
    Owner {
        id: "cedargate".to_owned(),
        display_name: Some("cedargate".to_owned()),
    }
}

const OWNER_GRANT: &str = "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
     xsi:type=\"CanonicalUser\"><ID>cedargate</ID><DisplayName>cedargate</DisplayName></Grantee>\
     <Permission>FULL_CONTROL</Permission></Grant>";

fn group_grant(uri: &str, permission: &str) -> String {
    format!(
        "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:type=\"Group\"><URI>{uri}</URI></Grantee><Permission>{permission}</Permission></Grant>"
    )
}

#[test]
fn each_canned_acl_renders_the_grants_s3_answers_for_it() {
    let read = group_grant(ALL_USERS, "READ");
    let write = group_grant(ALL_USERS, "WRITE");
    let authenticated = group_grant(AUTHENTICATED_USERS, "READ");
    let log_write = group_grant(LOG_DELIVERY, "WRITE");
    let log_read_acp = group_grant(LOG_DELIVERY, "READ_ACP");
    let table: [(CannedAcl, Vec<&str>); 8] = [
        (CannedAcl::Private, vec![]),
        (CannedAcl::PublicRead, vec![&read]),
        (CannedAcl::PublicReadWrite, vec![&read, &write]),
        (CannedAcl::AuthenticatedRead, vec![&authenticated]),
        (CannedAcl::AwsExecRead, vec![]),
        (CannedAcl::BucketOwnerRead, vec![]),
        (CannedAcl::BucketOwnerFullControl, vec![]),
        (CannedAcl::LogDeliveryWrite, vec![&log_write, &log_read_acp]),
    ];
    for (acl, groups) in table {
        let expected = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AccessControlPolicy \
             xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Owner><ID>cedargate</ID>\
             <DisplayName>cedargate</DisplayName></Owner><AccessControlList>{OWNER_GRANT}{}\
             </AccessControlList></AccessControlPolicy>",
            groups.concat()
        );
        assert_eq!(acl.to_policy_xml(&owner()), expected, "{acl}");
    }
}

#[test]
fn names_are_exact_and_each_subject_takes_its_own() {
    for acl in CannedAcl::ALL {
        assert_eq!(CannedAcl::from_name(acl.as_str()), Some(acl));
    }
    for bad in [
        "Public-Read",
        "PUBLIC-READ",
        " public-read",
        "public-read ",
        "",
        "public",
    ] {
        assert_eq!(CannedAcl::from_name(bad), None, "{bad:?}");
        assert!(CannedAcl::for_subject(bad, AclSubject::Object).is_err());
    }
    let object = |name| CannedAcl::for_subject(name, AclSubject::Object);
    let bucket = |name| CannedAcl::for_subject(name, AclSubject::Bucket);
    assert_eq!(object("bucket-owner-read"), Ok(CannedAcl::BucketOwnerRead));
    assert_eq!(bucket("bucket-owner-read"), Ok(CannedAcl::Private));
    assert_eq!(bucket("bucket-owner-full-control"), Ok(CannedAcl::Private));
    assert_eq!(
        bucket("log-delivery-write"),
        Ok(CannedAcl::LogDeliveryWrite)
    );
    let refused = object("log-delivery-write").expect_err("objects take no log delivery");
    assert!(refused.to_string().contains("log-delivery-write"));
    assert_eq!(bucket("public-read"), Ok(CannedAcl::PublicRead));
}

#[test]
fn a_rendered_policy_reads_back_as_its_canned_acl() {
    for acl in CannedAcl::ALL {
        let grants = parse_access_control_policy(acl.to_policy_xml(&owner()).as_bytes())
            .expect("rendered policy parses");
        let expected = match acl {
            CannedAcl::AwsExecRead
            | CannedAcl::BucketOwnerRead
            | CannedAcl::BucketOwnerFullControl => CannedAcl::Private,
            other => other,
        };
        assert_eq!(
            CannedAcl::from_grants(&grants, Some("cedargate")),
            Some(expected),
            "{acl}"
        );
        assert_eq!(CannedAcl::from_grants(&grants, None), Some(expected));
    }
}

fn canonical(id: &str, permission: &str) -> AclGrant {
    AclGrant {
        canonical_id: Some(id.to_owned()),
        group_uri: None,
        permission: permission.to_owned(),
    }
}

fn group(uri: &str, permission: &str) -> AclGrant {
    AclGrant {
        canonical_id: None,
        group_uri: Some(uri.to_owned()),
        permission: permission.to_owned(),
    }
}

#[test]
fn only_exact_equivalents_are_canned() {
    let full = canonical("cedargate", "FULL_CONTROL");
    let read = group(ALL_USERS, "READ");
    let write = group(ALL_USERS, "WRITE");
    let some = |grants: &[AclGrant]| CannedAcl::from_grants(grants, Some("cedargate"));
    assert_eq!(
        some(&[write.clone(), read.clone(), full.clone(), read.clone()]),
        Some(CannedAcl::PublicReadWrite),
        "order and repeats do not matter"
    );
    let email = AclGrant {
        canonical_id: None,
        group_uri: None,
        permission: "READ".to_owned(),
    };
    for other in [
        vec![read.clone()],
        vec![full.clone(), canonical("someone", "READ")],
        vec![full.clone(), canonical("cedargate", "READ")],
        vec![full.clone(), group(ALL_USERS, "FULL_CONTROL")],
        vec![full.clone(), group(AUTHENTICATED_USERS, "WRITE")],
        vec![full.clone(), email],
        vec![],
    ] {
        assert_eq!(some(&other), None, "{other:?}");
    }
    assert_eq!(
        CannedAcl::from_grants(&[canonical("upstream-owner", "FULL_CONTROL"), read], None),
        Some(CannedAcl::PublicRead),
        "without a known owner, the one canonical user is the owner"
    );
    assert_eq!(
        CannedAcl::from_grants(&[full, canonical("other", "FULL_CONTROL")], None),
        None
    );
}
