//! ListBuckets paging: `prefix`, `bucket-region`, `max-buckets` and
//! `continuation-token`, applied to the buckets the caller may list.
//!
//! The per-bucket policy filter runs first, on every page, and only then
//! are the pages cut. A continuation token is the base64url of the last
//! bucket name of the previous page and means only "names after this one":
//! it was shown to the caller already, and a forged one still passes
//! through the filter, so no token reveals or unlocks a bucket.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::bucket::decode_token;
use crate::request::S3Request;
use cedargate_s3::error::S3Error;

/// The most buckets one ListBuckets page holds, and the default page size
/// once a continuation token is given.
pub(super) const MAX_BUCKETS: u64 = 10_000;

/// The paging parameters of one ListBuckets request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct BucketPaging {
    /// `prefix` (empty when absent): only names starting with it.
    pub prefix: String,
    /// `bucket-region`: only buckets of that region.
    pub region: Option<String>,
    /// The name the continuation token starts after.
    pub after: Option<String>,
    /// `max-buckets`; `None` lists everything when no token is given.
    pub max: Option<usize>,
}

impl BucketPaging {
    /// Reads the parameters; `max-buckets` outside 1..=10000 and an
    /// undecodable token are InvalidArgument.
    pub fn from_request(request: &S3Request) -> Result<Self, S3Error> {
        let max = request.query_number("max-buckets", 1..=MAX_BUCKETS)?;
        let after = request
            .query
            .get("continuation-token")
            .filter(|token| !token.is_empty())
            .map(decode_token)
            .transpose()?;
        let max = match (max, &after) {
            (Some(max), _) => Some(max),
            (None, Some(_)) => Some(MAX_BUCKETS),
            (None, None) => None,
        };
        Ok(Self {
            prefix: request.query.get("prefix").unwrap_or("").to_owned(),
            region: request
                .query
                .get("bucket-region")
                .filter(|region| !region.is_empty())
                .map(str::to_owned),
            after,
            max: max.map(|max| usize::try_from(max).unwrap_or(usize::MAX)),
        })
    }

    /// Whether a bucket of `region` called `name` belongs to the listing
    /// at all (before the page is cut).
    pub fn selects(&self, name: &str, region: &str) -> bool {
        name.starts_with(&self.prefix)
            && self.region.as_deref().is_none_or(|wanted| wanted == region)
            && self.after.as_deref().is_none_or(|after| name > after)
    }

    /// Cuts one page from `entries` (already filtered by policy and by
    /// [`Self::selects`]): sorts them by name, keeps at most `max`, and
    /// returns the continuation token when more remain.
    pub fn page<T>(&self, mut entries: Vec<(String, T)>) -> (Vec<(String, T)>, Option<String>) {
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let Some(max) = self.max.filter(|max| *max < entries.len()) else {
            return (entries, None);
        };
        entries.truncate(max);
        let token = entries
            .last()
            .map(|(name, _)| URL_SAFE_NO_PAD.encode(name.as_bytes()));
        (entries, token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cedargate_s3::error::ErrorProfile;

    fn entries(names: &[&str]) -> Vec<(String, ())> {
        names.iter().map(|name| ((*name).to_owned(), ())).collect()
    }

    fn names(page: &[(String, ())]) -> Vec<&str> {
        page.iter().map(|(name, _)| name.as_str()).collect()
    }

    #[test]
    fn pages_follow_their_tokens_until_the_last_one() {
        let all = ["delta", "alpha", "charlie", "bravo", "echo"];
        let mut paging = BucketPaging {
            max: Some(2),
            ..BucketPaging::default()
        };
        let mut seen = Vec::new();
        for _ in 0..all.len() {
            let selected = all
                .iter()
                .copied()
                .filter(|name| paging.selects(name, "us-east-1"))
                .collect::<Vec<_>>();
            let (page, token) = paging.page(entries(&selected));
            seen.push(names(&page).join(","));
            let Some(token) = token else { break };
            paging.after = Some(decode_token(&token).unwrap());
        }
        assert_eq!(seen, ["alpha,bravo", "charlie,delta", "echo"]);
    }

    #[test]
    fn a_full_last_page_has_no_token() {
        let paging = BucketPaging {
            max: Some(2),
            ..BucketPaging::default()
        };
        let (page, token) = paging.page(entries(&["b", "a"]));
        assert_eq!((names(&page), token), (vec!["a", "b"], None));
    }

    #[test]
    fn without_max_buckets_everything_is_one_page() {
        let (page, token) = BucketPaging::default().page(entries(&["b", "c", "a"]));
        assert_eq!((names(&page), token), (vec!["a", "b", "c"], None));
    }

    #[test]
    fn prefix_region_and_token_select_names() {
        let paging = BucketPaging {
            prefix: "logs-".into(),
            region: Some("eu-west-1".into()),
            after: Some("logs-b".into()),
            max: None,
        };
        let table = [
            ("logs-c", "eu-west-1", true),
            ("logs-b", "eu-west-1", false),
            ("logs-a", "eu-west-1", false),
            ("data-z", "eu-west-1", false),
            ("logs-c", "us-east-1", false),
        ];
        for (name, region, expected) in table {
            assert_eq!(paging.selects(name, region), expected, "{name} in {region}");
        }
    }

    fn list_buckets(query: &str) -> S3Request {
        S3Request {
            method: http::Method::GET,
            route: cedargate_s3::route::route(None, "/", &[]).expect("route"),
            query: cedargate_s3::query::Query::parse(query).expect("query"),
            headers: http::HeaderMap::new(),
            operation: cedargate_s3::classify::S3Operation::ListBuckets,
            raw_path: "/".to_owned(),
            raw_query: query.to_owned(),
        }
    }

    #[test]
    fn max_buckets_and_tokens_are_validated() {
        let table = [
            ("max-buckets=1", Ok(Some(1))),
            ("max-buckets=10000", Ok(Some(10_000))),
            ("continuation-token=YQ", Ok(Some(10_000))),
            ("", Ok(None)),
            (
                "max-buckets=0",
                Err("`max-buckets` must be an integer between 1 and 10000"),
            ),
            (
                "max-buckets=10001",
                Err("`max-buckets` must be an integer between 1 and 10000"),
            ),
            (
                "max-buckets=x",
                Err("`max-buckets` must be an integer between 1 and 10000"),
            ),
            (
                "continuation-token=%25%25",
                Err("the continuation token provided is incorrect"),
            ),
        ];
        for (query, expected) in table {
            let got = BucketPaging::from_request(&list_buckets(query));
            match (got, expected) {
                (Ok(paging), Ok(max)) => assert_eq!(paging.max, max, "{query}"),
                (Err(error), Err(message)) => {
                    assert_eq!(
                        error.code(),
                        cedargate_s3::error::S3ErrorCode::InvalidArgument
                    );
                    assert_eq!(
                        error.wire_message(ErrorProfile::default()),
                        message,
                        "{query}"
                    );
                }
                (got, _) => panic!("{query}: unexpected {got:?}"),
            }
        }
        let paging = BucketPaging::from_request(&list_buckets("continuation-token=YQ&prefix=p"));
        assert_eq!(
            paging.map(|p| (p.after, p.prefix)).ok(),
            Some((Some("a".into()), "p".into()))
        );
    }
}
