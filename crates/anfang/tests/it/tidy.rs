//! Tidy: fails when an internal dependency edge breaks the layering in ARCHITECTURE.md, when a
//! layer that must not know a transport or driver depends on one, or when a source file does
//! not open with a `//!` paragraph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// (crate, internal crates it may depend on, external crates it must not depend on).
const LAYERS: &[(&str, &[&str], &[&str])] = &[
    ("anfang-base", &[], &["sqlx", "axum", "tokio"]),
    ("anfang-domain", &[], &["sqlx", "axum", "tokio", "serde_json"]),
    ("anfang-store", &["anfang-base"], &["sqlx", "axum"]),
    ("anfang-store-sql", &["anfang-base", "anfang-store"], &["axum"]),
    // Recognition: models, images and vectors; no storage, network or HTTP.
    ("anfang-vision", &[], &["sqlx", "axum", "reqwest"]),
    (
        "anfang-app",
        &["anfang-base", "anfang-domain", "anfang-store", "anfang-vision"],
        &["sqlx", "axum", "tower-http"],
    ),
    // Protocol crates know one protocol each and nothing of storage, use-cases or HTTP routes.
    ("anfang-protocol", &[], &["sqlx", "axum", "tokio"]),
    ("anfang-mqtt", &[], &["sqlx", "axum"]),
    ("anfang-gat1400", &[], &["sqlx", "axum", "tokio"]),
    // GB/T 28181 runs its own SIP sockets (tokio) and shares the GA/T 1400 Digest arithmetic.
    (
        "anfang-gb28181",
        &["anfang-base", "anfang-gat1400"],
        &["sqlx", "axum"],
    ),
    (
        "anfang-pipeline",
        &["anfang-app", "anfang-protocol"],
        &["sqlx", "axum"],
    ),
    (
        "anfang-api",
        &[
            "anfang-base",
            "anfang-app",
            "anfang-pipeline",
            "anfang-protocol",
            "anfang-gat1400",
        ],
        &["sqlx"],
    ),
    (
        "anfang",
        &[
            "anfang-base",
            "anfang-domain",
            "anfang-store",
            "anfang-store-sql",
            "anfang-app",
            "anfang-pipeline",
            "anfang-protocol",
            "anfang-mqtt",
            "anfang-gat1400",
            "anfang-gb28181",
            "anfang-api",
            "anfang-vision",
        ],
        &[],
    ),
];

#[test]
fn internal_dependencies_follow_the_layering() {
    let output = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(workspace_root())
        .output()
        .expect("run cargo metadata");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let layers: BTreeMap<&str, (&[&str], &[&str])> =
        LAYERS.iter().map(|(n, ok, bad)| (*n, (*ok, *bad))).collect();
    let mut problems = Vec::new();
    for package in meta["packages"].as_array().unwrap() {
        let name = package["name"].as_str().unwrap();
        let Some((allowed, forbidden)) = layers.get(name) else {
            problems.push(format!(
                "{name} is not in the layering table of tidy.rs and ARCHITECTURE.md"
            ));
            continue;
        };
        for dep in package["dependencies"].as_array().unwrap() {
            // Tests may assemble anything; the layering is about what ships.
            if dep["kind"].as_str() == Some("dev") {
                continue;
            }
            let dep_name = dep["name"].as_str().unwrap();
            if dep_name.starts_with("anfang") && !allowed.contains(&dep_name) {
                problems.push(format!("{name} must not depend on {dep_name}"));
            }
            if forbidden.contains(&dep_name) {
                problems.push(format!("{name} must not depend on {dep_name}"));
            }
        }
    }
    assert!(problems.is_empty(), "layering broken:\n{}", problems.join("\n"));
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_source_file_opens_with_a_doc_paragraph() {
    let mut files = Vec::new();
    rust_files(&workspace_root().join("crates"), &mut files);
    assert!(files.len() > 20);
    let missing: BTreeSet<String> = files
        .iter()
        .filter(|f| {
            !std::fs::read_to_string(f)
                .unwrap()
                .trim_start()
                .starts_with("//!")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a leading //! paragraph: {missing:?}"
    );
}
