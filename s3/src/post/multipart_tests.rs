//! The form reader on well-formed and hostile bodies, in every chunking.

use super::*;

const TYPE: &str = "multipart/form-data; boundary=XyZ";

/// Every event of `body` read in chunks of `chunk` bytes, data merged per
/// part, or the first error.
fn read(body: &[u8], chunk: usize) -> Result<Vec<(PartHead, Vec<u8>)>, FormError> {
    let mut reader = FormReader::new(TYPE)?;
    let mut chunks = body.chunks(chunk);
    let mut parts: Vec<(PartHead, Vec<u8>)> = Vec::new();
    let mut open = false;
    for _ in 0..100_000 {
        match reader.step()? {
            Step::NeedMore => match chunks.next() {
                Some(c) => reader.push(c),
                None => {
                    reader.finish()?;
                }
            },
            Step::End => return Ok(parts),
            Step::Event(FormEvent::Part(head)) => {
                assert!(!open, "a part opened inside another");
                open = true;
                parts.push((head, Vec::new()));
            }
            Step::Event(FormEvent::Data(data)) => {
                assert!(open && !data.is_empty());
                parts.last_mut().expect("a part").1.extend_from_slice(&data);
            }
            Step::Event(FormEvent::PartEnd) => {
                assert!(open);
                open = false;
            }
        }
    }
    panic!("the reader did not finish");
}

#[test]
fn reads_parts_in_any_chunking() {
    let body = concat!(
        "preamble to ignore\r\n",
        "--XyZ\r\n",
        "Content-Disposition: form-data; name=\"key\"\r\n\r\n",
        "a/${filename}\r\n",
        "--XyZ  \r\n",
        "content-disposition: FORM-DATA; name=file; filename=\"x \\\"y\\\".txt\"\r\n",
        "Content-Type: text/plain\r\n\r\n",
        "line one\r\n-XyZ --XyZ\r\n--Xy\r\nend",
        "\r\n--XyZ--\r\nepilogue --XyZ"
    );
    for chunk in [1, 2, 5, 13, 1000] {
        let parts = read(body.as_bytes(), chunk).expect("well-formed");
        assert_eq!(parts.len(), 2, "{chunk}");
        assert_eq!(parts[0].0.name, "key");
        assert_eq!(parts[0].1, b"a/${filename}");
        assert_eq!(parts[1].0.name, "file");
        assert_eq!(parts[1].0.filename.as_deref(), Some("x \"y\".txt"));
        assert_eq!(parts[1].0.content_type.as_deref(), Some("text/plain"));
        assert_eq!(parts[1].1, b"line one\r\n-XyZ --XyZ\r\n--Xy\r\nend");
    }
}

#[test]
fn empty_values_and_empty_forms() {
    let body = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n--XyZ--";
    let parts = read(body.as_bytes(), 3).expect("well-formed");
    assert_eq!(parts.len(), 1);
    assert!(parts[0].1.is_empty());
    assert!(read(b"--XyZ--", 1).expect("empty form").is_empty());
}

#[test]
fn hostile_bodies() {
    let long_header = format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\nv\r\n--XyZ--",
        "n".repeat(MAX_PART_HEADER_BYTES)
    );
    let endless_header = format!("--XyZ\r\nX-Pad: {}", "p".repeat(3 * MAX_PART_HEADER_BYTES));
    let long_preamble = "q".repeat(2 * MAX_PART_HEADER_BYTES);
    let cases: &[(&str, FormError)] = &[
        ("", FormError::Truncated),
        (
            "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue",
            FormError::Truncated,
        ),
        (
            "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n--XyZ",
            FormError::Truncated,
        ),
        (
            "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--XyZ\r\n",
            FormError::Truncated,
        ),
        (
            "--XyZ\r\n\r\nvalue\r\n--XyZ--",
            FormError::Malformed("a part has no headers"),
        ),
        (
            "--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ--",
            FormError::Malformed("a part has no Content-Disposition"),
        ),
        (
            "--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--XyZ--",
            FormError::Malformed("a part is not form-data"),
        ),
        (
            "--XyZ\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nv\r\n--XyZ--",
            FormError::Malformed("a part has no name"),
        ),
        (
            "--XyZ\r\nno colon here\r\n\r\nv\r\n--XyZ--",
            FormError::Malformed("a part header has no colon"),
        ),
        (
            "--XyZ garbage\r\n",
            FormError::Malformed("a boundary is not followed by a line break"),
        ),
        (&long_header, FormError::HeadersTooLarge),
        (&endless_header, FormError::HeadersTooLarge),
        (&long_preamble, FormError::HeadersTooLarge),
    ];
    for (body, expected) in cases {
        for chunk in [1, 7, 100_000] {
            let error = read(body.as_bytes(), chunk).expect_err(&body[..body.len().min(60)]);
            assert_eq!(
                &error,
                expected,
                "{} / {chunk}",
                &body[..body.len().min(60)]
            );
        }
    }
}

#[test]
fn nested_quotes_and_odd_parameters() {
    let cases: &[(&str, &str, Option<&str>)] = &[
        (
            r#"form-data; name="a\"b"; filename="c;d""#,
            "a\"b",
            Some("c;d"),
        ),
        (
            r#"form-data;name=plain;filename=f.txt"#,
            "plain",
            Some("f.txt"),
        ),
        (r#"form-data; NAME="x"; bogus; filename="""#, "x", Some("")),
        (r#"form-data; name="\\\"""#, "\\\"", None),
        (r#"form-data; name="unterminated"#, "unterminated", None),
    ];
    for (disposition, name, filename) in cases {
        let head = parse_head(format!("Content-Disposition: {disposition}").as_bytes())
            .expect(disposition);
        assert_eq!(head.name, *name, "{disposition}");
        assert_eq!(head.filename.as_deref(), *filename, "{disposition}");
    }
}

#[test]
fn boundaries() {
    let cases: &[(&str, Option<&str>)] = &[
        ("multipart/form-data; boundary=abc", Some("abc")),
        ("Multipart/Form-Data;boundary=\"a b;c\"", Some("a b;c")),
        (
            "multipart/form-data; charset=utf-8; BOUNDARY=----WebKitFormBoundaryQ",
            Some("----WebKitFormBoundaryQ"),
        ),
        ("multipart/form-data", None),
        ("multipart/form-data; boundary=", None),
        ("multipart/mixed; boundary=abc", None),
        ("application/x-www-form-urlencoded", None),
    ];
    for (content_type, expected) in cases {
        assert_eq!(
            boundary(content_type).as_deref(),
            *expected,
            "{content_type}"
        );
    }
    let too_long = format!("multipart/form-data; boundary={}", "b".repeat(71));
    assert_eq!(boundary(&too_long), None);
    assert!(matches!(
        FormReader::new("text/plain"),
        Err(FormError::NotMultipart)
    ));
}

#[test]
fn content_streams_without_holding_the_whole_part() {
    let mut reader = FormReader::new(TYPE).expect("reader");
    reader.push(b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n");
    assert!(matches!(reader.step(), Ok(Step::Event(FormEvent::Part(_)))));
    let block = vec![b'z'; 64 * 1024];
    let mut out = 0usize;
    for _ in 0..64 {
        reader.push(&block);
        loop {
            match reader.step().expect("step") {
                Step::Event(FormEvent::Data(data)) => out += data.len(),
                Step::NeedMore => break,
                other => panic!("{other:?}"),
            }
        }
        assert!(reader.buffered() < 16, "{}", reader.buffered());
    }
    assert!(out > 64 * 64 * 1024 - 16);
    assert_eq!(reader.finish(), Err(FormError::Truncated));
}
