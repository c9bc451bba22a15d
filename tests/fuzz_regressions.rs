//! Inputs the fuzz targets in `fuzz/` (scripts/fuzz.sh) turned up, kept as plain tests so the
//! fixes stay fixed in the default `cargo test`. Each test names the target and the input.

use idpsim::idp::entra::expr::{self, EvalContext, Outcome, Value, MAX_NESTING};
use idpsim::scim::filter;
use serde_json::{json, Map};

/// Fuzz target `scim_filter`, input `b"l.t le 4.541e265"`
/// (fuzz/artifacts/scim_filter/crash-58c9cbff8aeb3073851e86cacac700c7ac8347f3).
/// serde_json's default float parser is off by one unit in the last place for some numbers,
/// and differently for `4.541e265` and its printed form `4.541e+265`: the filter printed as
/// `4.541e+265` but re-parsed as `4.5410000000000004e+265`. With serde_json's
/// `float_roundtrip` feature numbers parse exactly, so printing and re-parsing is stable.
#[test]
fn a_filter_number_survives_print_and_reparse() {
    let input = std::str::from_utf8(b"l.t le 4.541e265").expect("ASCII");
    let parsed = filter::parse(input).expect("a valid filter");
    let printed = parsed.to_string();
    let reparsed = filter::parse(&printed).expect("the printed form parses");
    assert_eq!(reparsed.to_string(), printed);
    assert_eq!(reparsed, parsed);
    // The value is the number written, exactly.
    let filter::Filter::Compare { value, .. } = &parsed else {
        panic!("expected a comparison, got {parsed:?}");
    };
    assert_eq!(value.as_f64(), Some(4.541e265));
}

/// The same exactness where it matters at run time: a server's JSON number and the same number
/// in a filter compare equal.
#[test]
fn a_filter_number_matches_the_same_number_in_a_resource() {
    let f = filter::parse("loginCount eq 4.541e265").expect("a valid filter");
    let resource: serde_json::Value =
        serde_json::from_str(r#"{"loginCount": 4.541e+265}"#).expect("valid JSON");
    assert!(f.matches(
        &resource,
        idpsim::scim::schema::ResourceKind::User,
        filter::EvalOptions::default()
    ));
}

fn nested_not(depth: usize) -> String {
    format!("{}[a]{}", "Not(".repeat(depth), ")".repeat(depth))
}

fn source() -> Map<String, serde_json::Value> {
    match json!({"a": "True"}) {
        serde_json::Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Fuzz target `entra_expression`, input `"Not(" × 1999 + "[a]" + ")" × 1999` (9,998
/// characters, within Entra's 10,000-character limit; written by hand, since the parser had
/// no depth limit, and run through the target): evaluating it overflowed the stack
/// (AddressSanitizer: stack-overflow in `entra::expr::functions::call`). Calls now nest at
/// most `MAX_NESTING` levels; deeper is a parse error at the call that goes too deep.
#[test]
fn deeply_nested_entra_calls_are_a_parse_error_not_a_stack_overflow() {
    let input = nested_not(1999);
    assert!(input.chars().count() <= expr::MAX_EXPRESSION_CHARS);
    let err = expr::parse(&input).expect_err("too deep");
    assert!(
        err.message
            .contains(&format!("more than {MAX_NESTING} levels")),
        "{err}"
    );
    // The column of the first call past the limit: each `Not(` is four characters.
    assert_eq!(err.column, 4 * MAX_NESTING + 1, "{err}");
}

/// At the limit, parsing, printing and evaluating fit in the 2 MiB stack of a Tokio worker
/// thread, where scenarios run.
#[test]
fn entra_calls_nested_to_the_limit_evaluate_on_a_worker_sized_stack() {
    let worker = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let nots = expr::parse(&nested_not(MAX_NESTING)).expect("at the limit");
            let printed = nots.to_string();
            assert_eq!(expr::parse(&printed).map(|e| e.to_string()), Ok(printed));
            let ctx = EvalContext {
                now: time::OffsetDateTime::UNIX_EPOCH,
                rng_seed: Some(1),
            };
            // An even number of Not() gives the value back.
            let outcome = expr::evaluate_outcome(&nots, &source(), &ctx);
            assert_eq!(outcome, Ok(Outcome::Value(Value::str("True"))));
            // IIF chains, the common deep shape: each level adds a condition frame.
            let iifs = format!(
                "{}\"deep\"{}",
                "IIF([a]=\"True\", ".repeat(MAX_NESTING),
                ", \"no\")".repeat(MAX_NESTING)
            );
            let iifs = expr::parse(&iifs).expect("at the limit");
            let outcome = expr::evaluate_outcome(&iifs, &source(), &ctx);
            assert_eq!(outcome, Ok(Outcome::Value(Value::str("deep"))));
        })
        .expect("spawn a thread");
    assert!(
        worker.join().is_ok(),
        "evaluation at the nesting limit failed"
    );
}

/// Fuzz target `scim_filter`, input
/// fuzz/artifacts/scim_filter/crash-faa0d7d7ff68b2a78d047e88fd4101cdbdb6b250: a flat chain of
/// 70 `… pr or …` terms ending in `usdrTypert eq "Intn"`. It parsed, but the printer put every
/// `or` in parentheses, and the 70 nested groups of the printed form went past the parser's
/// nesting limit ("filter nested too deeply at position 65"). The printer now writes only the
/// parentheses precedence needs.
#[test]
fn a_long_flat_filter_prints_without_nesting() {
    let mut input = (0..70)
        .map(|i| format!("attr{i} pr"))
        .collect::<Vec<_>>()
        .join(" or ");
    input.push_str(r#" or usdrTypert eq "Intn""#);
    let parsed = filter::parse(&input).expect("a flat chain parses");
    let printed = parsed.to_string();
    assert_eq!(printed, input, "nothing to parenthesise in a flat chain");
    assert_eq!(filter::parse(&printed), Ok(parsed));
}

/// Parentheses the structure needs are kept: `and` binds tighter than `or`, a right operand of
/// the same operator is a group, `not` and value paths keep their brackets.
#[test]
fn filter_printing_keeps_the_parentheses_precedence_needs() {
    for (input, printed) in [
        ("a pr or b pr and c pr", "a pr or b pr and c pr"),
        ("(a pr or b pr) and c pr", "(a pr or b pr) and c pr"),
        ("a pr or (b pr or c pr)", "a pr or (b pr or c pr)"),
        ("((a pr) or b pr) or c pr", "a pr or b pr or c pr"),
        ("a pr and (b pr and c pr)", "a pr and (b pr and c pr)"),
        (
            r#"not (a pr or b pr) and emails[type eq "work" or primary eq true]"#,
            r#"not (a pr or b pr) and emails[type eq "work" or primary eq true]"#,
        ),
    ] {
        let parsed = filter::parse(input).expect("valid");
        assert_eq!(parsed.to_string(), printed, "{input}");
        assert_eq!(filter::parse(printed), Ok(parsed), "{input}");
    }
}

/// Fuzz target `template` (the input was written by hand and confirmed there with a libFuzzer
/// timeout after 10 s): `{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}
/// {% endfor %}` rendered for hours. Rendering now has a budget of `TEMPLATE_FUEL` steps.
#[test]
fn a_runaway_template_loop_is_an_error_not_a_hang() {
    use idpsim::scenario::template;
    let input = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}";
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(template::render(input, &json!({})));
    });
    // A hang guard, not a timing assertion: the fixed render stops within milliseconds.
    let rendered = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("rendering did not stop within two minutes");
    let err = rendered.expect_err("over budget");
    assert!(err.contains("steps to render"), "{err}");
    // Ordinary loops stay within the budget.
    assert_eq!(
        template::render("{% for i in range(1000) %}{{ i }},{% endfor %}", &json!({}))
            .map(|s| s.len()),
        Ok(3890)
    );
}

/// Fuzz target `template`, input `b"{{778*77771777*( )}}_hnotex2%-d777}}"`
/// (fuzz/artifacts/template/timeout-0d931ce3458c7a79dc9236cdc574991348f77800): minijinja 2
/// repeated the empty tuple `( )` 60 billion times, lazily and in one step, so the fuel budget
/// never ran out (libFuzzer timeout). minijinja 3 answers an empty repetition at once and
/// refuses repetitions past its size limit.
#[test]
fn repeating_a_sequence_billions_of_times_does_not_hang() {
    use idpsim::scenario::template;
    let input = std::str::from_utf8(b"{{778*77771777*( )}}_hnotex2%-d777}}")
        .expect("ASCII")
        .to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let empty = template::render(&input, &json!({}));
        let huge = template::render("{{ [1, 2] * 60505318606 }}", &json!({}));
        let _ = tx.send((empty, huge));
    });
    // A hang guard, not a timing assertion.
    let (empty, huge) = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("rendering did not stop within two minutes");
    assert_eq!(empty.as_deref(), Ok("()_hnotex2%-d777}}"));
    let err = huge.expect_err("too large");
    assert!(err.contains("too large"), "{err}");
}

/// Every harness over its committed seeds (and the loader over the shipped scenarios): the
/// harnesses are compiled by the ordinary build and a seed that now panics fails here, not in
/// the next nightly fuzzing run. Each harness returns or panics; there is nothing else to check.
#[test]
fn every_fuzz_harness_survives_its_seeds() {
    use idpsim::fuzzing;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    type Harness = fn(&[u8]);
    let harnesses: [(&str, Harness); 6] = [
        ("scenario_loader", fuzzing::scenario_loader::run),
        ("scim_filter", fuzzing::scim_filter::run),
        ("patch_path", fuzzing::patch_path::run),
        ("entra_expression", fuzzing::entra_expression::run),
        ("response_checker", fuzzing::response_checker::run),
        ("template", fuzzing::template::run),
    ];
    for (target, run) in harnesses {
        let dir = root.join("fuzz/seeds").join(target);
        let mut seeds: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .collect();
        if target == "scenario_loader" {
            seeds.extend(yaml_files(&root.join("scenarios")));
        }
        seeds.sort();
        assert!(
            !seeds.is_empty(),
            "no seeds for {target} in {}",
            dir.display()
        );
        for seed in &seeds {
            let bytes = std::fs::read(seed).unwrap_or_else(|e| panic!("{}: {e}", seed.display()));
            run(&bytes);
        }
        // And the inputs every parser must shrug off.
        for edge in [&b""[..], b"\0", b"\xff\xfe", b"((((((((", b"{{", b"- - - -"] {
            run(edge);
        }
    }
}

fn yaml_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(yaml_files(&path));
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
    out
}
