//! The scenario JSON Schema and `idpsim init`: the committed schema is what the loader's tables
//! generate; every shipped scenario passes it; every malformed fixture that the loader rejects
//! for a structural reason fails it too; `init` writes files that run as written against the
//! built-in reference server, and refuses to overwrite.

use std::path::{Path, PathBuf};
use std::process::Output;

use idpsim::scenario::parse::parse_scenario;
use idpsim::scenario::yaml::parse_document;
use idpsim::server::{start, ServerConfig};

mod common;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(Path::new(ROOT).join("docs/scenario.schema.json"))
        .expect("the schema is committed");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

/// What the schema says about a YAML text: `Ok` when it passes, the errors otherwise.
fn schema_check(v: &jsonschema::Validator, text: &str) -> Result<(), Vec<String>> {
    let doc = parse_document(text).map_err(|e| vec![format!("YAML: {}", e.message)])?;
    let errors: Vec<String> = v
        .iter_errors(&doc.to_json())
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    out.sort();
}

#[test]
fn the_committed_schema_is_what_the_loader_tables_generate() {
    let committed = std::fs::read_to_string(Path::new(ROOT).join("docs/scenario.schema.json"))
        .expect("the schema is committed");
    assert!(
        committed == idpsim::scenario::schema::render(&idpsim::idp::Catalogue),
        "docs/scenario.schema.json is stale: regenerate it with `cargo run -- schema > docs/scenario.schema.json`"
    );
}

#[test]
fn every_shipped_scenario_and_init_example_passes_the_schema() {
    let v = validator();
    let mut files = Vec::new();
    yaml_files(&Path::new(ROOT).join("scenarios"), &mut files);
    yaml_files(&Path::new(ROOT).join("src/commands/init"), &mut files);
    assert!(files.len() > 30, "found {} scenario files", files.len());
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        if let Err(errors) = schema_check(&v, &text) {
            panic!("{}: {errors:#?}", file.display());
        }
    }
}

/// Every malformed fixture, and whether the loader's reason is structural (a key, a type, a
/// name the schema lists) or one only the loader can see.
const FIXTURES: &[(&str, bool)] = &[
    ("action-in-generic.yaml", true),
    ("bad-capture.yaml", true),
    ("bad-header.yaml", true),
    ("bad-method.yaml", true),
    ("bad-status.yaml", true),
    ("empty.yaml", true),
    ("missing-name.yaml", true),
    ("steps-not-a-list.yaml", true),
    ("unknown-idp.yaml", true),
    ("unknown-key.yaml", true),
    ("unknown-profile.yaml", true),
    // Not structural: a regular expression's syntax, a template's syntax or its names, a YAML
    // tag (JSON has none), a directory key that names no user, and YAML-level errors.
    ("bad-regex.yaml", false),
    ("bad-template.yaml", false),
    ("undefined-variable.yaml", false),
    ("unknown-matcher.yaml", false),
    ("directory-unknown-member.yaml", false),
    ("two-documents.yaml", false),
    ("yaml-syntax.yaml", false),
];

#[test]
fn malformed_fixtures_the_loader_rejects_structurally_fail_the_schema() {
    let v = validator();
    let dir = Path::new(ROOT).join("fixtures/malformed");
    let mut files = Vec::new();
    yaml_files(&dir, &mut files);
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    for name in &names {
        assert!(
            FIXTURES.iter().any(|(n, _)| n == name),
            "fixtures/malformed/{name} is new: say in FIXTURES whether its problem is structural"
        );
    }
    for (name, structural) in FIXTURES {
        let text = std::fs::read_to_string(dir.join(name)).expect("fixture exists");
        assert!(
            parse_scenario(name, &text, &idpsim::idp::Catalogue).is_err(),
            "{name}: the loader accepts it"
        );
        if *structural {
            assert!(
                schema_check(&v, &text).is_err(),
                "{name}: the loader rejects it, the schema does not"
            );
        }
    }
}

fn idpsim(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = common::idpsim();
    cmd.args(args).current_dir(cwd).envs(env.iter().copied());
    cmd.output().expect("the idpsim binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The project folder as `DIR`, then the shared scrubber.
fn stable(s: &str, dir: &Path) -> String {
    common::stable(&s.replace(&dir.display().to_string(), "DIR"))
}

const WRITTEN: &[&str] = &[
    "idpsim.toml",
    "idpsim-baseline.toml",
    "scenarios/okta-example.yaml",
    "scenarios/entra-example.yaml",
    "scenarios/generic-example.yaml",
    "scenarios/scenario.schema.json",
    ".github/workflows/idpsim.yml",
    ".gitlab-ci.yml",
];

#[test]
fn init_writes_a_project_whose_scenarios_pass_against_the_built_in_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = idpsim(&["init"], dir.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    insta::assert_snapshot!("init_output", stable(&text(&o.stdout), dir.path()));
    for f in WRITTEN {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    // The examples point editors at the schema beside them, which is the shipped one.
    let schema =
        std::fs::read_to_string(dir.path().join("scenarios/scenario.schema.json")).expect("schema");
    assert_eq!(
        schema,
        idpsim::scenario::schema::render(&idpsim::idp::Catalogue)
    );
    for example in ["okta", "entra", "generic"] {
        let yaml =
            std::fs::read_to_string(dir.path().join(format!("scenarios/{example}-example.yaml")))
                .expect("example");
        assert!(
            yaml.starts_with("# yaml-language-server: $schema=scenario.schema.json\n"),
            "{example}"
        );
    }

    // The examples, against the built-in server, as the printed next step says.
    let o = idpsim(&["run", "--no-config", "scenarios"], dir.path(), &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    let console = text(&o.stdout);
    assert!(console.contains("3 scenario(s): 3 passed"), "{console}");
    for idp in ["(okta oin)", "(entra default)"] {
        assert!(console.contains(idp), "{idp}: {console}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_ci_files_run_as_written_with_the_generated_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rev = "0123456789abcdef0123456789abcdef01234567";
    let o = idpsim(
        &["init", "--git", "https://git.test/idpsim.git", "--rev", rev],
        dir.path(),
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        !text(&o.stdout).contains("fill IDPSIM_GIT"),
        "{}",
        text(&o.stdout)
    );
    let gh =
        std::fs::read_to_string(dir.path().join(".github/workflows/idpsim.yml")).expect("workflow");
    let gl = std::fs::read_to_string(dir.path().join(".gitlab-ci.yml")).expect("gitlab");
    for ci in [&gh, &gl] {
        let doc = parse_document(ci).expect("the CI file is YAML");
        let json = doc.to_json().to_string();
        assert!(json.contains("https://git.test/idpsim.git"), "{ci}");
        assert!(json.contains(rev), "{ci}");
        assert!(ci
            .contains("cargo install --locked --git \"$IDPSIM_GIT\" --rev \"$IDPSIM_REV\" idpsim"));
        assert!(
            !ci.contains("cargo install --locked idpsim"),
            "idpsim is not on crates.io"
        );
        assert!(ci.contains("idpsim-report/"), "the reports are uploaded");
    }
    assert!(gl.contains("junit: idpsim-report/junit.xml"));
    assert!(gh.contains("actions/upload-artifact"));

    // The CI jobs' own command with the generated config, against a server where the config's
    // URL would be (the jobs start `idpsim serve` there; here a free port, given by --target).
    let token = "tok-init-never-printed";
    let srv = start(ServerConfig {
        token: Some(token.into()),
        ..ServerConfig::default()
    })
    .await
    .expect("the reference server starts");
    let url = srv.base_url();
    let cwd = dir.path().to_path_buf();
    let o = tokio::task::spawn_blocking(move || {
        idpsim(
            &["run", "--format", "github", "--target", &url],
            &cwd,
            &[("SCIM_TOKEN", token)],
        )
    })
    .await
    .expect("runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert!(text(&o.stdout).contains("3 scenario(s): 3 passed"));
    for report in ["junit.xml", "report.json", "summary.md", "report.html"] {
        assert!(
            dir.path().join("idpsim-report").join(report).is_file(),
            "{report}"
        );
    }
    srv.shutdown().await;
}

#[test]
fn init_refuses_to_overwrite_unless_forced() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("idpsim.toml"), "# mine\n").expect("write");
    let o = idpsim(&["init"], dir.path(), &[]);
    assert_eq!(o.status.code(), Some(2));
    insta::assert_snapshot!("init_refuses", stable(&text(&o.stderr), dir.path()));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("idpsim.toml")).expect("kept"),
        "# mine\n"
    );
    assert!(
        !dir.path().join(".gitlab-ci.yml").exists(),
        "nothing was written"
    );
    let o = idpsim(&["init", "--force"], dir.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_ne!(
        std::fs::read_to_string(dir.path().join("idpsim.toml")).expect("written"),
        "# mine\n"
    );
    let o = idpsim(&["init", "--rev", "main"], dir.path(), &[]);
    assert_eq!(o.status.code(), Some(2), "a branch name does not pin");
}
