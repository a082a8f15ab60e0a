//! STS documents in AWS's query-API shape: the results of
//! `AssumeRoleWithWebIdentity` and `GetCallerIdentity`, and
//! `<ErrorResponse>` errors. Every value is XML-escaped.

use std::fmt::Write as _;

use cedargate_s3::xml::{escape, timestamp};

const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// What `AssumeRoleWithWebIdentity` answers.
#[derive(Debug)]
pub struct AssumedRole<'a> {
    /// `Credentials/AccessKeyId`.
    pub access_key: &'a str,
    /// `Credentials/SecretAccessKey`.
    pub secret_key: &'a str,
    /// `Credentials/SessionToken`.
    pub session_token: &'a str,
    /// `Credentials/Expiration`.
    pub expiration: std::time::SystemTime,
    /// `AssumedRoleUser/Arn`.
    pub arn: &'a str,
    /// `AssumedRoleUser/AssumedRoleId`.
    pub assumed_role_id: &'a str,
    /// `SubjectFromWebIdentityToken`.
    pub subject: &'a str,
    /// `Audience`.
    pub audience: &'a str,
    /// `Provider`: the token's issuer.
    pub provider: &'a str,
}

/// The `AssumeRoleWithWebIdentityResponse` document.
pub fn assumed_role(role: &AssumedRole<'_>, request_id: &str) -> String {
    let mut out = format!(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"{NAMESPACE}\"><AssumeRoleWithWebIdentityResult>"
    );
    let _ = write!(
        out,
        "<SubjectFromWebIdentityToken>{}</SubjectFromWebIdentityToken>\
         <Audience>{}</Audience>\
         <AssumedRoleUser><Arn>{}</Arn><AssumedRoleId>{}</AssumedRoleId></AssumedRoleUser>\
         <Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey>\
         <SessionToken>{}</SessionToken><Expiration>{}</Expiration></Credentials>\
         <Provider>{}</Provider>",
        escape(role.subject),
        escape(role.audience),
        escape(role.arn),
        escape(role.assumed_role_id),
        escape(role.access_key),
        escape(role.secret_key),
        escape(role.session_token),
        timestamp(role.expiration),
        escape(role.provider),
    );
    let _ = write!(
        out,
        "</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>{}</RequestId>\
         </ResponseMetadata></AssumeRoleWithWebIdentityResponse>",
        escape(request_id)
    );
    out
}

/// The `GetCallerIdentityResponse` document.
pub fn caller_identity(arn: &str, user_id: &str, account: &str, request_id: &str) -> String {
    format!(
        "<GetCallerIdentityResponse xmlns=\"{NAMESPACE}\"><GetCallerIdentityResult>\
         <Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account></GetCallerIdentityResult>\
         <ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
        escape(arn),
        escape(user_id),
        escape(account),
        escape(request_id)
    )
}

/// An `<ErrorResponse>`: `Sender` for 4xx, `Receiver` for 5xx.
pub fn error_response(status: u16, code: &str, message: &str, request_id: &str) -> String {
    let kind = if status >= 500 { "Receiver" } else { "Sender" };
    format!(
        "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>{kind}</Type><Code>{}</Code>\
         <Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        escape(code),
        escape(message),
        escape(request_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped() {
        let doc = error_response(400, "InvalidIdentityToken", "issuer `<a&b>` \"x\"", "r1");
        assert!(doc.contains("<Type>Sender</Type>"), "{doc}");
        assert!(doc.contains("&lt;a&amp;b&gt;"), "{doc}");
        assert!(!doc.contains("<a&b>"), "{doc}");
        assert!(error_response(500, "InternalError", "x", "r").contains("<Type>Receiver</Type>"));
        let doc = caller_identity("arn:aws:iam::1:user/<x>", "id", "000000000000", "r2");
        assert!(doc.contains("user/&lt;x&gt;"), "{doc}");
    }
}
