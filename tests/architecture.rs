//! The import graph stays one-way (docs/ARCHITECTURE.md, issue 16).
//!
//! Reads `src/` as text, as a reviewer would: an edge `a -> b` is a `crate::b` path in non-test
//! code of top-level module `a` (a folder or a file beside `lib.rs`). Two rules:
//!
//! 1. No cycle between top-level modules larger than two (a grammar pair such as a parser and
//!    its tree may name each other; three modules that do are a tangle).
//! 2. The leaves import nothing above them: each may import only the leaves listed before it.
//!
//! It runs in `cargo test`, so CI (which has only the repository) keeps the rule.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The leaves, bottom first, and what each may import. `error` and `verdict` sit with them: the
/// error type every layer returns, and how a command's end becomes an exit code.
const LEAVES: &[(&str, &[&str])] = &[
    ("support", &[]),
    ("error", &["support"]),
    ("verdict", &["support", "error"]),
    ("scim", &["support"]),
    ("transport", &["support", "error"]),
    ("outcome", &["support", "error", "transport"]),
];

type Graph = BTreeMap<String, BTreeSet<String>>;

fn top_level_modules(src: &Path) -> BTreeSet<String> {
    let mut mods = BTreeSet::new();
    for entry in std::fs::read_dir(src).expect("read src/") {
        let path = entry.expect("dir entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            mods.insert(name.to_string());
        } else if let Some(stem) = name.strip_suffix(".rs") {
            if stem != "main" && stem != "lib" {
                mods.insert(stem.to_string());
            }
        }
    }
    mods
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code a reader of the module's interface sees: test modules and comments removed.
fn non_test_code(text: &str) -> String {
    let cut = regex::Regex::new(r"#\[cfg\(test\)\]\s*mod\s+\w+").expect("regex");
    let code = cut.split(text).next().unwrap_or("");
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn import_graph(src: &Path) -> Graph {
    let mods = top_level_modules(src);
    let mut graph: Graph = mods.iter().map(|m| (m.clone(), BTreeSet::new())).collect();
    let path_re = regex::Regex::new(r"\bcrate::([a-z_][a-z0-9_]*)").expect("regex");
    let group_re = regex::Regex::new(r"(?s)\buse\s+crate::\{([^;]*)\}").expect("regex");
    let head_re =
        regex::Regex::new(r"(?:^|[,{\s])([a-z_][a-z0-9_]*)\s*(?:::|,|\}|$)").expect("regex");
    let mut files = Vec::new();
    rust_files(src, &mut files);
    for file in files {
        let rel = file.strip_prefix(src).expect("under src/");
        let first = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or("");
        let top = first.strip_suffix(".rs").unwrap_or(first).to_string();
        if !mods.contains(&top) {
            continue;
        }
        let text = non_test_code(&std::fs::read_to_string(&file).expect("read source"));
        let mut named: Vec<String> = path_re
            .captures_iter(&text)
            .map(|c| c[1].to_string())
            .collect();
        for group in group_re.captures_iter(&text) {
            named.extend(head_re.captures_iter(&group[1]).map(|c| c[1].to_string()));
        }
        for m in named {
            if mods.contains(&m) && m != top {
                graph.entry(top.clone()).or_default().insert(m);
            }
        }
    }
    graph
}

/// Strongly connected components (Tarjan).
fn components(graph: &Graph) -> Vec<Vec<String>> {
    struct Walk<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'g>(w: &mut Walk<'g>, v: &'g str) {
        let n = w.index.len();
        w.index.insert(v, n);
        w.low.insert(v, n);
        w.stack.push(v);
        w.on_stack.insert(v);
        for u in w.graph.get(v).into_iter().flatten() {
            let u = u.as_str();
            if !w.index.contains_key(u) {
                visit(w, u);
                let lu = w.low[u];
                let lv = w.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lu);
            } else if w.on_stack.contains(u) {
                let iu = w.index[u];
                let lv = w.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iu);
            }
        }
        if w.low[v] == w.index[v] {
            let mut comp = Vec::new();
            while let Some(u) = w.stack.pop() {
                w.on_stack.remove(u);
                comp.push(u.to_string());
                if u == v {
                    break;
                }
            }
            comp.sort();
            w.out.push(comp);
        }
    }
    let mut w = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !w.index.contains_key(v.as_str()) {
            visit(&mut w, v);
        }
    }
    w.out
}

fn src() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn no_import_cycle_larger_than_two() {
    let graph = import_graph(&src());
    let tangles: Vec<Vec<String>> = components(&graph)
        .into_iter()
        .filter(|c| c.len() > 2)
        .collect();
    assert!(
        tangles.is_empty(),
        "top-level modules importing each other in a cycle: {tangles:?}\nedges: {graph:#?}"
    );
}

#[test]
fn leaves_import_nothing_above_them() {
    let graph = import_graph(&src());
    let mut wrong = Vec::new();
    for (leaf, allowed) in LEAVES {
        let Some(imports) = graph.get(*leaf) else {
            wrong.push(format!("{leaf}: no such top-level module in src/"));
            continue;
        };
        for m in imports {
            if !allowed.contains(&m.as_str()) {
                wrong.push(format!("{leaf} imports {m}"));
            }
        }
    }
    assert!(wrong.is_empty(), "leaves importing upward: {wrong:#?}");
}

/// The checker itself: it sees `crate::` paths and grouped `use crate::{…}`, and skips tests
/// and comments (so it cannot pass by seeing nothing).
#[test]
fn the_checker_sees_edges() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path();
    std::fs::write(src.join("lib.rs"), "pub mod a; pub mod b; pub mod c;").expect("write");
    std::fs::write(src.join("a.rs"), "use crate::{b::X, c};\n").expect("write");
    std::fs::write(
        src.join("b.rs"),
        "// crate::a in a comment\nfn f() { crate::c::g() }\n#[cfg(test)]\nmod tests { use crate::a; }\n",
    )
    .expect("write");
    std::fs::create_dir(src.join("c")).expect("mkdir");
    std::fs::write(
        src.join("c").join("mod.rs"),
        "pub fn g() { crate::a::h() }\n",
    )
    .expect("write");
    let graph = import_graph(src);
    let edges = |m: &str| graph[m].iter().cloned().collect::<Vec<_>>();
    assert_eq!(edges("a"), ["b", "c"]);
    assert_eq!(edges("b"), ["c"]);
    assert_eq!(edges("c"), ["a"]);
    let comps = components(&graph);
    assert!(comps.contains(&vec!["a".to_string(), "b".into(), "c".into()]));
}
