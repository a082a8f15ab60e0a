//! Unit tests of [`super`]: ids, locations, annotation rules, validation.

use super::*;

fn source(name: &str, text: &str) -> SourceFile {
    SourceFile {
        name: name.to_owned(),
        text: text.to_owned(),
    }
}

fn errors(files: &[SourceFile]) -> Vec<String> {
    match compile(files) {
        Ok(_) => panic!("expected the set to be rejected"),
        Err(error) => error
            .diagnostics()
            .iter()
            .map(ToString::to_string)
            .collect(),
    }
}

#[test]
fn policies_are_keyed_by_id_annotation_or_file_and_line() {
    let text = "// team a\n\n@id(\"team-a-read\")\npermit (principal, action in Action::\"read\", resource);\n\npermit (principal, action == Action::\"s3:PutObject\", resource)\n  when { context.secure_transport };\n";
    let compiled = compile(&[source("dir/teams.cedar", text)]).unwrap();
    let named = &compiled.info["team-a-read"];
    assert_eq!(named.location.to_string(), "dir/teams.cedar:3:1");
    assert_eq!(named.effect, PolicyEffect::Permit);
    assert!(!named.builtin);
    let unnamed = &compiled.info["teams.cedar:6"];
    assert_eq!(unnamed.location.to_string(), "dir/teams.cedar:6:1");
    assert!(compiled.info["cedargate-base/anonymous-read-only"].builtin);
    assert_eq!(
        compiled.files,
        vec![(BASE_FILE.to_owned(), 3), ("dir/teams.cedar".to_owned(), 2)]
    );
    let ids: Vec<String> = compiled
        .set
        .policies()
        .map(|p| p.id().to_string())
        .collect();
    assert!(ids.contains(&"teams.cedar:6".to_owned()), "{ids:?}");
}

#[test]
fn parse_errors_carry_file_line_and_column() {
    let text = "permit (principal, action, resource);\n\npermit (principal, action, resource)\n  when { context.secure_transport && };\n";
    let errors = errors(&[source("p/bad.cedar", text)]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    // The `}` where an expression was expected: line 4, column 38.
    assert!(errors[0].starts_with("p/bad.cedar:4:38: "), "{errors:?}");
    assert!(errors[0].contains("unexpected token"), "{errors:?}");
}

#[test]
fn validation_errors_point_at_the_offending_expression() {
    let ok = "permit (principal, action, resource);\n";
    let bad = "@id(\"typo\")\npermit (principal is Credential, action, resource)\nwhen { principal.nmae == \"alice\" };\n";
    let errors = errors(&[source("d/a.cedar", ok), source("d/b.cedar", bad)]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("d/b.cedar:3:8: "), "{errors:?}");
    assert!(errors[0].contains("nmae"), "{errors:?}");
}

#[test]
fn unknown_actions_and_entity_types_are_rejected() {
    let bad = "permit (principal, action == Action::\"s3:GetObjekt\", resource);\npermit (principal == User::\"x\", action, resource);\n";
    let errors = errors(&[source("x.cedar", bad)]);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].starts_with("x.cedar:1:"), "{errors:?}");
    assert!(errors[1].starts_with("x.cedar:2:"), "{errors:?}");
}

#[test]
fn duplicate_ids_name_both_files() {
    let a = "@id(\"shared\")\npermit (principal, action, resource);\n";
    let b = "\n\n@id(\"shared\")\nforbid (principal, action, resource);\n";
    let errors = errors(&[source("p/a.cedar", a), source("p/b.cedar", b)]);
    assert_eq!(
        errors,
        vec!["p/b.cedar:3:1: duplicate policy id `shared`: also used at `p/a.cedar:1:1`"]
    );
    let base =
        "@id(\"cedargate-base/anonymous-read-only\")\npermit (principal, action, resource);\n";
    let errors = self::errors(&[source("c.cedar", base)]);
    assert!(errors[0].contains("<builtin>/base.cedar"), "{errors:?}");
}

#[test]
fn annotation_rules() {
    let table = [
        (
            "@error(\"EntityTooLarge\") permit (principal, action, resource);",
            "`@error` only applies to forbid policies",
        ),
        (
            "@error(\"EntityToLarge\") forbid (principal, action, resource);",
            "unknown error code `EntityToLarge` in `@error`",
        ),
        (
            "@reason(\"Quota Exceeded\") forbid (principal, action, resource);",
            "must be lowercase snake_case",
        ),
        (
            "@reason(\"no_permit\") forbid (principal, action, resource);",
            "reason `no_permit` is reserved",
        ),
        (
            "@id(\"\") permit (principal, action, resource);",
            "`@id` must not be empty",
        ),
        (
            "permit (principal == ?principal, action, resource);",
            "policy templates",
        ),
    ];
    for (text, expected) in table {
        let errors = errors(&[source("a.cedar", text)]);
        assert!(errors[0].contains(expected), "{text}: {errors:?}");
        assert!(errors[0].starts_with("a.cedar:1:1: "), "{text}: {errors:?}");
    }
}

#[test]
fn strict_validation_accepts_type_tests_across_resource_kinds() {
    // The list group mixes Bucket and Object actions: `resource is Object`
    // guards the attribute access.
    let text = r#"
permit (principal, action in Action::"list", resource)
when { resource is Object && resource.key like "tmp/*" };
permit (principal is Credential, action, resource is Object)
when { resource.segments.first == "home" && resource.segments.second == principal.name };
permit (principal, action, resource)
when { context has bucket_hard_cap && context.bucket_usage + context.content_length <= context.bucket_hard_cap };
permit (principal is Session, action, resource)
when { principal.hasTag("team") && principal.getTag("team") == "data" };
permit (principal, action == Action::"s3:ListObjectsV2", resource)
when { context has list_segments && context.list_segments.first == "pub" };
"#;
    compile(&[source("ok.cedar", text)]).unwrap();
    // Without the guard strict validation refuses it.
    let unguarded = "permit (principal, action in Action::\"list\", resource) when { resource.key like \"tmp/*\" };";
    let errors = errors(&[source("bad.cedar", unguarded)]);
    assert!(errors[0].starts_with("bad.cedar:1:"), "{errors:?}");
}

#[test]
fn policy_starts_skip_comments_and_strings() {
    let text = "// a; comment\n@id(\"x;y\")\npermit (principal, action, resource)\nwhen { resource is Object && resource.key like \"a;\\\"b\" }; // trailing;\n  forbid (principal, action, resource);";
    let starts = policy_starts(text);
    let lines: Vec<String> = starts
        .iter()
        .map(|&offset| Location::at_offset("f", text, offset).to_string())
        .collect();
    assert_eq!(lines, ["f:2:1", "f:5:3"]);
}
