//! The CORSConfiguration document of GetBucketCors.

use super::CorsRule;
use crate::xml::Doc;

/// Renders the bucket's CORS rules as S3's CORSConfiguration, each rule's
/// elements in the order S3 writes them.
pub fn cors_configuration(rules: &[CorsRule]) -> String {
    let mut doc = Doc::new("CORSConfiguration");
    for rule in rules {
        doc.open("CORSRule").text_opt("ID", rule.id.as_deref());
        let lists = [
            ("AllowedHeader", &rule.allowed_headers),
            ("AllowedMethod", &rule.allowed_methods),
            ("AllowedOrigin", &rule.allowed_origins),
            ("ExposeHeader", &rule.expose_headers),
        ];
        for (name, values) in lists {
            for value in values {
                doc.text(name, value);
            }
        }
        if let Some(seconds) = rule.max_age_seconds {
            doc.value("MaxAgeSeconds", seconds);
        }
        doc.close("CORSRule");
    }
    doc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_render_in_order_with_every_element() {
        let full = CorsRule {
            id: Some("web <app>".into()),
            allowed_origins: vec!["https://a.test".into(), "https://*.a.test".into()],
            allowed_methods: vec!["GET".into(), "PUT".into()],
            allowed_headers: vec!["*".into()],
            expose_headers: vec!["ETag".into()],
            max_age_seconds: Some(3000),
        };
        let bare = CorsRule {
            id: None,
            allowed_origins: vec!["*".into()],
            allowed_methods: vec!["HEAD".into()],
            allowed_headers: Vec::new(),
            expose_headers: Vec::new(),
            max_age_seconds: None,
        };
        assert_eq!(
            cors_configuration(&[full, bare]),
            concat!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
                "<CORSConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
                "<CORSRule><ID>web &lt;app&gt;</ID><AllowedHeader>*</AllowedHeader>",
                "<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>",
                "<AllowedOrigin>https://a.test</AllowedOrigin>",
                "<AllowedOrigin>https://*.a.test</AllowedOrigin>",
                "<ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>",
                "<CORSRule><AllowedMethod>HEAD</AllowedMethod>",
                "<AllowedOrigin>*</AllowedOrigin></CORSRule>",
                "</CORSConfiguration>"
            )
        );
    }
}
