//! What became of a request, in the words of its metrics and access log
//! line: how it authenticated ([`RequestAuthMode`], the `auth_mode` label)
//! and whether it succeeded or why not ([`RequestResult`], the `result`
//! label). Both are fixed sets, so no request can add a label value;
//! `docs/metrics.md` lists them.

use cedargate_s3::error::S3ErrorCode;
use cedargate_s3::sigv4::{AuthFailureReason, AuthMethod};

/// How a request authenticated: the `auth_mode` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequestAuthMode {
    /// Refused before authentication, or a CORS preflight: `none`.
    #[default]
    None,
    /// SigV4 `Authorization` header: `signed`.
    Signed,
    /// Presigned URL: `presigned`.
    Presigned,
    /// An STS session's credentials: `sts`.
    Sts,
    /// Unsigned: `anonymous`.
    Anonymous,
}

impl RequestAuthMode {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Signed => "signed",
            Self::Presigned => "presigned",
            Self::Sts => "sts",
            Self::Anonymous => "anonymous",
        }
    }
}

/// Where a verified signature was: `signed` or `presigned`.
impl From<AuthMethod> for RequestAuthMode {
    fn from(method: AuthMethod) -> Self {
        match method {
            AuthMethod::Header => Self::Signed,
            AuthMethod::Presigned { .. } => Self::Presigned,
        }
    }
}

/// Whether a request was answered without error, else why it was refused
/// or failed: the `result` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequestResult {
    /// Answered without error: `ok`.
    #[default]
    Ok,
    /// Authentication failed: the reason's label (`bad_signature`, ...).
    AuthFailure(AuthFailureReason),
    /// An anonymous request while anonymous access is off:
    /// `disabled_globally`.
    DisabledGlobally,
    /// Refused by a rate limit, S3 or STS: `rate_limited`.
    RateLimited,
    /// The backend failed while the answer was being streamed:
    /// `backend_failed_mid_stream`.
    BackendFailedMidStream,
    /// Answered with an S3 error: its code's name (`AccessDenied`, ...),
    /// whatever the error profile.
    S3Error(S3ErrorCode),
    /// Answered with an STS error: its code (`InvalidIdentityToken`, ...).
    StsError(&'static str),
}

impl RequestResult {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::AuthFailure(reason) => reason.as_str(),
            Self::DisabledGlobally => "disabled_globally",
            Self::RateLimited => "rate_limited",
            Self::BackendFailedMidStream => "backend_failed_mid_stream",
            Self::S3Error(code) => code.as_str(),
            Self::StsError(code) => code,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    #[test]
    fn auth_modes_keep_their_labels() {
        let table = [
            (RequestAuthMode::default(), "none"),
            (RequestAuthMode::Signed, "signed"),
            (RequestAuthMode::Presigned, "presigned"),
            (RequestAuthMode::Sts, "sts"),
            (RequestAuthMode::Anonymous, "anonymous"),
            (AuthMethod::Header.into(), "signed"),
            (
                AuthMethod::Presigned {
                    expires_at: SystemTime::UNIX_EPOCH,
                }
                .into(),
                "presigned",
            ),
        ];
        for (mode, label) in table {
            assert_eq!(mode.as_str(), label, "{mode:?}");
        }
    }

    #[test]
    fn results_keep_their_labels() {
        let table = [
            (RequestResult::default(), "ok"),
            (
                RequestResult::AuthFailure(AuthFailureReason::BadSignature),
                "bad_signature",
            ),
            (
                RequestResult::AuthFailure(AuthFailureReason::InvalidExpires),
                "bad_authorization_format",
            ),
            (RequestResult::DisabledGlobally, "disabled_globally"),
            (RequestResult::RateLimited, "rate_limited"),
            (
                RequestResult::BackendFailedMidStream,
                "backend_failed_mid_stream",
            ),
            (RequestResult::S3Error(S3ErrorCode::NoSuchKey), "NoSuchKey"),
            (
                RequestResult::StsError("InvalidIdentityToken"),
                "InvalidIdentityToken",
            ),
        ];
        for (result, label) in table {
            assert_eq!(result.as_str(), label, "{result:?}");
        }
    }
}
