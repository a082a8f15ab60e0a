//! The form model: field collection under the cap, `${filename}`, and
//! the success answers.

use super::answer::success;
use super::multipart::{FormReader, Step};
use super::*;

/// Runs `body` through a reader and a collector, in chunks of `chunk`
/// bytes: the form at the file part, or the error.
fn collect(body: &[u8], chunk: usize) -> Result<PostForm, S3Error> {
    let mut reader =
        FormReader::new("multipart/form-data; boundary=XyZ").map_err(|e| form_error(&e))?;
    let mut collector = FormCollector::new("bkt");
    let mut chunks = body.chunks(chunk);
    loop {
        match reader.step().map_err(|e| form_error(&e))? {
            Step::NeedMore => match chunks.next() {
                Some(c) => reader.push(c),
                None => {
                    reader.finish().map_err(|e| form_error(&e))?;
                }
            },
            Step::End => return Err(no_file()),
            Step::Event(event) => {
                if let Collected::File(form) = collector.collect(event, reader.consumed())? {
                    return Ok(form);
                }
            }
        }
    }
}

fn part(name: &str, value: &str) -> String {
    format!("--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
}

const FILE: &str = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"dir/photo.png\"\r\nContent-Type: image/png\r\n\r\nDATA\r\n--XyZ--\r\n";

#[test]
fn fields_before_the_file_are_collected_in_any_chunking() {
    let body = format!(
        "{}{}{FILE}",
        part("Key", "up/${filename}"),
        part("x-amz-meta-a", "1")
    );
    for chunk in [1, 3, 7, 64, 4096] {
        let form = collect(body.as_bytes(), chunk).expect("form");
        assert_eq!(form.field("key"), Some("up/${filename}"), "{chunk}");
        assert_eq!(form.field("x-amz-meta-a"), Some("1"));
        assert_eq!(form.filename.as_deref(), Some("dir/photo.png"));
        assert_eq!(form.file_content_type.as_deref(), Some("image/png"));
        assert_eq!(form.key().expect("key"), "up/photo.png");
        assert_eq!(form.value("bucket"), Some("bkt"));
    }
}

#[test]
fn refusals() {
    let huge = part("x-amz-meta-big", &"a".repeat(MAX_PRE_DATA_BYTES as usize));
    let many: String = (0..=MAX_FIELDS)
        .map(|i| part(&format!("x-ignore-{i}"), ""))
        .collect();
    let cases: &[(String, S3ErrorCode)] = &[
        (
            format!("{huge}{FILE}"),
            S3ErrorCode::MaxPostPreDataLengthExceeded,
        ),
        (
            format!("{many}{FILE}"),
            S3ErrorCode::MaxPostPreDataLengthExceeded,
        ),
        (
            format!("{}--XyZ--\r\n", part("key", "k")),
            S3ErrorCode::IncorrectNumberOfFilesInPostRequest,
        ),
        (part("key", "k"), S3ErrorCode::IncompleteBody),
        (
            format!("{}{}{FILE}", part("key", "a"), part("KEY", "b")),
            S3ErrorCode::InvalidArgument,
        ),
        (
            "--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--".to_owned(),
            S3ErrorCode::MalformedPOSTRequest,
        ),
        ("no boundary at all".to_owned(), S3ErrorCode::IncompleteBody),
    ];
    for (body, code) in cases {
        let error = collect(body.as_bytes(), 5).expect_err("refused");
        assert_eq!(error.code(), *code, "{}", &body[..body.len().min(80)]);
    }
    let latin = b"--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n\xff\r\n--XyZ--";
    assert_eq!(
        collect(latin, 4).expect_err("not utf-8").code(),
        S3ErrorCode::InvalidArgument
    );
}

#[test]
fn key_needs_a_value() {
    let form = PostForm::new("b", [("key", "${filename}")]).expect("form");
    assert_eq!(
        form.key().expect_err("empty").code(),
        S3ErrorCode::InvalidArgument
    );
    let none = PostForm::new("b", []).expect("form");
    assert_eq!(
        none.key().expect_err("missing").code(),
        S3ErrorCode::InvalidArgument
    );
    let mut windows = PostForm::new("b", [("key", "u/${filename}")]).expect("form");
    windows.filename = Some("C:\\Users\\me\\a b.txt".to_owned());
    assert_eq!(windows.resolve_key().expect("key"), "u/a b.txt");
    assert_eq!(windows.value("key"), Some("u/a b.txt"));
}

/// The form's fields, the status and a part of the body expected.
type AnswerCase<'a> = (&'a [(&'a str, &'a str)], u16, &'a str);

#[test]
fn success_answers() {
    let base = "http://127.0.0.1:9000";
    let cases: &[AnswerCase<'_>] = &[
        (&[], 204, ""),
        (&[("success_action_status", "200")], 200, ""),
        (&[("success_action_status", "404")], 204, ""),
        (&[("success_action_status", "201")], 201, "<PostResponse>"),
        (
            &[("success_action_redirect", "https://app.example/done?x=1")],
            303,
            "",
        ),
        (&[("redirect", "http://app.example/done")], 303, ""),
        (
            &[("success_action_redirect", "javascript:alert(1)")],
            204,
            "",
        ),
    ];
    for (fields, status, body) in cases {
        let form = PostForm::new("bkt", fields.iter().copied()).expect("form");
        let answer = success(&form, "a b/c&d.txt", "abc", base);
        assert_eq!(answer.status, *status, "{fields:?}");
        assert!(answer.body.contains(body), "{fields:?}");
        assert!(answer.headers.contains(&("etag", "\"abc\"".to_owned())));
    }
    let created = success(
        &PostForm::new("bkt", [("success_action_status", "201")]).expect("form"),
        "a b/c&d.txt",
        "abc",
        base,
    );
    assert!(
        created
            .body
            .contains("<Location>http://127.0.0.1:9000/bkt/a%20b/c%26d.txt</Location>"),
        "{}",
        created.body
    );
    assert!(created.body.contains("<Key>a b/c&amp;d.txt</Key>"));
    assert!(created.body.contains("<ETag>&quot;abc&quot;</ETag>"));
    let redirect = success(
        &PostForm::new(
            "bkt",
            [("success_action_redirect", "https://app.example/done?x=1")],
        )
        .expect("form"),
        "a b",
        "abc",
        base,
    );
    let location = redirect
        .headers
        .iter()
        .find(|(n, _)| *n == "location")
        .map(|(_, v)| v.as_str());
    assert_eq!(
        location,
        Some("https://app.example/done?x=1&bucket=bkt&key=a%20b&etag=%22abc%22")
    );
}
