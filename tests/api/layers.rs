//! The layers' import rules (README, Layout), checked on the source itself:
//! storage never reaches up, and the two HTTP edges call the use cases,
//! never each other nor what lies below the use cases.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out
}

/// Lines of the files under `src/<layer>` that name `crate::<module>`.
fn reaches(layer: &str, modules: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(layer);
    let mut found = Vec::new();
    for file in rust_files(&root) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for m in modules {
                let needle = format!("crate::{m}");
                let hit = code.match_indices(&needle).any(|(i, _)| {
                    let after = code[i + needle.len()..].chars().next();
                    !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                if hit {
                    found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    found
}

#[test]
fn storage_imports_nothing_above_it() {
    // `error` carries HTTP (Problem): storage answers with DbError and its
    // callers decide what a failure means to a client.
    let up = reaches(
        "db",
        &["notify", "auth", "routes", "web", "app", "state", "error"],
    );
    assert!(up.is_empty(), "src/db reaches up:\n{}", up.join("\n"));
}

#[test]
fn the_pages_do_not_import_the_json_routes() {
    let edge = reaches("web", &["routes"]);
    assert!(
        edge.is_empty(),
        "src/web imports routes:\n{}",
        edge.join("\n")
    );
    let edge = reaches("routes", &["web"]);
    assert!(
        edge.is_empty(),
        "src/routes imports web:\n{}",
        edge.join("\n")
    );
}

#[test]
fn the_edges_call_the_use_cases_and_nothing_below() {
    for edge in ["routes", "web"] {
        let below = reaches(edge, &["db", "notify", "state"]);
        assert!(
            below.is_empty(),
            "src/{edge} reaches below app:\n{}",
            below.join("\n")
        );
    }
}

#[test]
fn the_check_sees_an_import() {
    // The scanner itself must be able to fail: the use cases do import db.
    assert!(!reaches("app", &["db"]).is_empty());
}
