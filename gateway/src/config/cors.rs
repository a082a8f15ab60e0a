//! `[[buckets.NAME.cors_rules]]`: the CORS rules a bucket answers browsers
//! with, in the shape of S3's `CORSRule` ([`CorsRule`], which the S3
//! protocol crate defines and matches against requests); this module only
//! reads and validates them.

pub use cedargate_s3::cors::{CORS_METHODS, CorsRule};

use super::{ConfigError, invalid};

/// Most rules one bucket may have, as in S3.
pub const MAX_CORS_RULES: usize = 100;

/// Longest rule `id`, as in S3.
const MAX_ID_CHARS: usize = 255;

/// Checks a bucket's rules; errors name the field (`field` is the
/// bucket's table, `buckets.NAME`).
pub(super) fn validate_cors_rules(field: &str, rules: &[CorsRule]) -> Result<(), ConfigError> {
    let field = format!("{field}.cors_rules");
    if rules.len() > MAX_CORS_RULES {
        return Err(invalid(
            field,
            format!("a bucket may have at most {MAX_CORS_RULES} rules"),
        ));
    }
    for (index, rule) in rules.iter().enumerate() {
        validate_rule(&format!("{field}[{index}]"), rule)?;
    }
    Ok(())
}

fn validate_rule(field: &str, rule: &CorsRule) -> Result<(), ConfigError> {
    if let Some(id) = &rule.id
        && (id.is_empty() || id.chars().count() > MAX_ID_CHARS)
    {
        return Err(invalid(
            format!("{field}.id"),
            format!("must be 1 to {MAX_ID_CHARS} characters"),
        ));
    }
    if rule.allowed_origins.is_empty() {
        return Err(invalid(
            format!("{field}.allowed_origins"),
            "must list at least one origin (`*` allows any)",
        ));
    }
    for (i, origin) in rule.allowed_origins.iter().enumerate() {
        let visible = !origin.is_empty() && origin.bytes().all(|b| b.is_ascii_graphic());
        if !visible || origin.matches('*').count() > 1 {
            return Err(invalid(
                format!("{field}.allowed_origins[{i}]"),
                format!(
                    "`{origin}` is not an origin: printable ASCII without spaces, with at most one `*`"
                ),
            ));
        }
    }
    if rule.allowed_methods.is_empty() {
        return Err(invalid(
            format!("{field}.allowed_methods"),
            "must list at least one of GET, PUT, POST, DELETE and HEAD",
        ));
    }
    for (i, method) in rule.allowed_methods.iter().enumerate() {
        if !CORS_METHODS.contains(&method.as_str()) {
            return Err(invalid(
                format!("{field}.allowed_methods[{i}]"),
                format!("`{method}` is not a CORS method; use GET, PUT, POST, DELETE or HEAD"),
            ));
        }
    }
    for (i, header) in rule.allowed_headers.iter().enumerate() {
        if !is_header_name(header) || header.matches('*').count() > 1 {
            return Err(invalid(
                format!("{field}.allowed_headers[{i}]"),
                format!("`{header}` is not a header name with at most one `*`"),
            ));
        }
    }
    for (i, header) in rule.expose_headers.iter().enumerate() {
        if !is_header_name(header) || header.contains('*') {
            return Err(invalid(
                format!("{field}.expose_headers[{i}]"),
                format!("`{header}` is not a header name (wildcards are not allowed here)"),
            ));
        }
    }
    Ok(())
}

/// An HTTP header name (an RFC 9110 token).
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::super::Config;

    const BUCKET: &str = r#"
        [backends.local]
        kind = "fs"
        root = "/tmp/cedargate"

        [buckets.photos]
        backend = "local"
    "#;

    fn load(rule: &str) -> Result<Config, String> {
        Config::from_str(&format!("{BUCKET}\n[[buckets.photos.cors_rules]]\n{rule}"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_full_rule_parses_in_order() {
        let text = format!(
            "{BUCKET}{}",
            r#"
            [[buckets.photos.cors_rules]]
            id = "web-app"
            allowed_origins = ["https://app.example.com", "https://*.example.com"]
            allowed_methods = ["GET", "PUT"]
            allowed_headers = ["*"]
            expose_headers = ["ETag"]
            max_age_seconds = 3000

            [[buckets.photos.cors_rules]]
            allowed_origins = ["*"]
            allowed_methods = ["HEAD"]
            "#
        );
        let config = Config::from_str(&text).unwrap();
        let rules = &config.buckets["photos"].cors_rules;
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].id.as_deref(), Some("web-app"));
        assert_eq!(rules[0].allowed_origins[1], "https://*.example.com");
        assert_eq!(rules[0].max_age_seconds, Some(3000));
        assert_eq!(rules[1].allowed_methods, ["HEAD"]);
        assert!(rules[1].allowed_headers.is_empty() && rules[1].expose_headers.is_empty());
        assert_eq!(rules[1].max_age_seconds, None);
    }

    #[test]
    fn bad_rules_are_refused_naming_the_field() {
        let field = "buckets.photos.cors_rules[0]";
        // (rule, expected part of the error)
        let cases = [
            (
                r#"allowed_origins = []
                allowed_methods = ["GET"]"#,
                format!("`{field}.allowed_origins`: must list at least one origin"),
            ),
            (
                r#"allowed_methods = ["GET"]"#,
                "missing field `allowed_origins`".to_owned(),
            ),
            (
                r#"allowed_origins = ["*"]
                allowed_methods = ["GET", "PATCH"]"#,
                format!("`{field}.allowed_methods[1]`: `PATCH` is not a CORS method"),
            ),
            (
                r#"allowed_origins = ["*"]
                allowed_methods = ["get"]"#,
                format!("`{field}.allowed_methods[0]`: `get` is not a CORS method"),
            ),
            (
                r#"allowed_origins = ["*"]
                allowed_methods = []"#,
                format!("`{field}.allowed_methods`: must list at least one"),
            ),
            (
                r#"allowed_origins = ["https://*.*.example.com"]
                allowed_methods = ["GET"]"#,
                format!("`{field}.allowed_origins[0]`: `https://*.*.example.com` is not an origin"),
            ),
            (
                r#"allowed_origins = ["https://a.example.com", "https://b .example.com"]
                allowed_methods = ["GET"]"#,
                format!("`{field}.allowed_origins[1]`"),
            ),
            (
                r#"allowed_origins = [""]
                allowed_methods = ["GET"]"#,
                format!("`{field}.allowed_origins[0]`"),
            ),
            (
                r#"allowed_origins = ["*"]
                allowed_methods = ["GET"]
                allowed_headers = ["x-*-*"]"#,
                format!("`{field}.allowed_headers[0]`"),
            ),
            (
                r#"allowed_origins = ["*"]
                allowed_methods = ["GET"]
                allowed_headers = ["bad header"]"#,
                format!("`{field}.allowed_headers[0]`"),
            ),
            (
                r#"allowed_origins = ["*"]
                allowed_methods = ["GET"]
                expose_headers = ["ETag", "x-amz-*"]"#,
                format!("`{field}.expose_headers[1]`"),
            ),
            (
                r#"allowed_origins = ["*"]
                allowed_methods = ["GET"]
                id = """#,
                format!("`{field}.id`"),
            ),
            (
                r#"allowed_origins = ["*"]
                allowed_methods = ["GET"]
                max_age_seconds = -1"#,
                "max_age_seconds".to_owned(),
            ),
            (
                r#"allowed_origins = ["*"]
                allowed_methods = ["GET"]
                allowed_origin = ["*"]"#,
                "unknown field `allowed_origin`".to_owned(),
            ),
        ];
        for (rule, expected) in cases {
            let error = load(rule).expect_err(rule);
            assert!(
                error.contains(&expected),
                "{rule}\n{error}\nwanted {expected}"
            );
        }
    }

    #[test]
    fn at_most_a_hundred_rules() {
        let rule = "[[buckets.photos.cors_rules]]\nallowed_origins = [\"*\"]\nallowed_methods = [\"GET\"]\n";
        let many = |n: usize| format!("{BUCKET}\n{}", rule.repeat(n));
        assert!(Config::from_str(&many(100)).is_ok());
        let error = Config::from_str(&many(101)).unwrap_err().to_string();
        assert!(error.contains("`buckets.photos.cors_rules`: a bucket may have at most 100 rules"));
    }
}
