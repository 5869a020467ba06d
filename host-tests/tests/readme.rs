//! The README keeps its promises about the code (issue 8: the repository
//! reads as one design, and its documents do not drift from it).
//!
//! - Every test a document cites as `file.rs::name` (README.md, fuzz/RESULTS.md,
//!   qemu/README.md) is a `fn name` in that file: `src/x.rs` and other paths
//!   with a folder are taken from the repository root, a bare `x.rs` from
//!   `host-tests/tests/`.
//! - Every error the README's "What bad input gets" table names is a variant
//!   of `rvf_boot::Error` with the fields it shows, a field shown with a string
//!   value is a `&'static str` field, and every `Type::Variant` it names is a
//!   variant of that enum in `src/`.
//! - Every `Error::Variant` named anywhere in those documents exists.
//! - Every library path the README names (`memory::is_usable`,
//!   `Container::kernel_at`, `gzip::InflateState::SIZE`) exists in `src/`.
//! - The README's Rust example is, line for line, the doctest in `src/lib.rs`
//!   (which compiles and runs on a golden file), so it cannot drift.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn read(rel: &str) -> String {
    let p = root().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The library's source files with the top-level module each belongs to:
/// `src/a.rs` is `a`, every `.rs` file under `src/a/` is `a` too (a module
/// split into files re-exports them).
fn library_sources() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root().join("src")).unwrap() {
        let path = entry.unwrap().path();
        let module = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "rs"))
                .collect();
            files.sort();
            out.extend(files.into_iter().map(|f| (module.clone(), f)));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((module, path));
        }
    }
    out.sort();
    out
}

const DOCUMENTS: [&str; 3] = ["README.md", "fuzz/RESULTS.md", "qemu/README.md"];

/// The inline code spans of a Markdown text outside fenced blocks, with
/// their line numbers; a table cell's `\|` is unescaped.
fn code_spans(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 1 {
                out.push((n + 1, part.replace("\\|", "|")));
            }
        }
    }
    out
}

fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

/// `CamelCase` (not a `CONSTANT`).
fn is_type_name(s: &str) -> bool {
    is_ident(s)
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.contains(|c: char| c.is_ascii_lowercase())
        && !s.contains('_')
}

/// `(file, function)` for every `path.rs::name` span.
fn cited_tests(text: &str) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    for (line, span) in code_spans(text) {
        let Some((file, name)) = span.split_once(".rs::") else {
            continue;
        };
        if is_ident(name) && !file.contains(' ') {
            out.push((line, format!("{file}.rs"), name.to_string()));
        }
    }
    out
}

fn resolve(file: &str) -> PathBuf {
    if file.contains('/') {
        root().join(file)
    } else {
        root().join("host-tests/tests").join(file)
    }
}

fn defines_fn(source: &str, name: &str) -> bool {
    [format!("fn {name}("), format!("fn {name}<")]
        .iter()
        .any(|p| source.contains(p.as_str()))
}

#[test]
fn every_cited_test_exists() {
    let mut problems = Vec::new();
    let mut count = 0;
    for doc in DOCUMENTS {
        for (line, file, name) in cited_tests(&read(doc)) {
            count += 1;
            let path = resolve(&file);
            match std::fs::read_to_string(&path) {
                Ok(src) if defines_fn(&src, &name) => {}
                Ok(_) => problems.push(format!(
                    "{doc}:{line}: `{file}::{name}`: no `fn {name}` in {}",
                    path.display()
                )),
                Err(e) => problems.push(format!(
                    "{doc}:{line}: `{file}::{name}`: {}: {e}",
                    path.display()
                )),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "stale test references:\n{}",
        problems.join("\n")
    );
    assert!(
        count >= 60,
        "only {count} test references found: the parser lost them"
    );
}

/// Every `pub enum` in `src/`: (module, name) -> variants with their fields
/// (field name -> type text).
type Variants = BTreeMap<String, BTreeMap<String, String>>;

fn enums() -> BTreeMap<(String, String), Variants> {
    let mut out = BTreeMap::new();
    for (module, path) in library_sources() {
        let src = std::fs::read_to_string(&path).unwrap();
        let mut current: Option<(String, Variants)> = None;
        let mut variant: Option<String> = None;
        for line in src.lines() {
            if let Some(rest) = line.strip_prefix("pub enum ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                current = Some((name, Variants::new()));
                continue;
            }
            let Some((name, variants)) = current.as_mut() else {
                continue;
            };
            if line.starts_with('}') {
                out.insert((module.clone(), name.clone()), std::mem::take(variants));
                current = None;
                variant = None;
            } else if let Some(v) = line
                .strip_prefix("    ")
                .filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase()))
            {
                let id: String = v
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                variants.insert(id.clone(), BTreeMap::new());
                variant = Some(id);
            } else if let Some(f) = line
                .strip_prefix("        ")
                .filter(|l| !l.starts_with("//"))
                && let (Some(v), Some((field, ty))) = (&variant, f.split_once(':'))
                && is_ident(field)
            {
                let ty = ty.trim().trim_end_matches(',').to_string();
                variants.get_mut(v).unwrap().insert(field.to_string(), ty);
            }
        }
    }
    out
}

fn error_variants() -> Variants {
    enums()
        .remove(&("error".to_string(), "Error".to_string()))
        .expect("src/error.rs defines `pub enum Error`")
}

/// Splits `a, b: X { c, d }, e` at the commas outside braces and parentheses.
fn top_level_items(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth) = (Vec::new(), String::new(), 0i32);
    for c in s.chars() {
        match c {
            '{' | '(' => depth += 1,
            '}' | ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.into_iter().map(|s| s.trim().to_string()).collect()
}

/// The text inside the braces that open at `open` (a `{` or `(`), or to the
/// end when they do not close.
fn inside(s: &str, open: usize) -> &str {
    let mut depth = 0;
    for (i, c) in s.char_indices().skip_while(|(i, _)| *i < open) {
        match c {
            '{' | '(' => depth += 1,
            '}' | ')' => {
                depth -= 1;
                if depth == 0 {
                    return &s[open + 1..i];
                }
            }
            _ => {}
        }
    }
    &s[open + 1..]
}

/// The text under `heading` up to the next `## ` heading, and the number of
/// lines before it.
fn section<'a>(text: &'a str, heading: &str) -> (&'a str, usize) {
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("README has no `{heading}`"));
    let rest = &text[start..];
    let lines_before = text[..start].lines().count();
    (
        &rest[..rest[1..].find("\n## ").map_or(rest.len(), |i| i + 1)],
        lines_before,
    )
}

/// The `Type::Variant` paths in a span (`gzip::HeaderField::Method`,
/// `BootItem::Kernel`): the type and its optional module.
fn typed_paths(span: &str) -> Vec<(Option<String>, String, String)> {
    let mut out = Vec::new();
    let words: Vec<&str> = span
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| w.contains("::"))
        .collect();
    for w in words {
        let parts: Vec<&str> = w.split("::").filter(|p| !p.is_empty()).collect();
        for i in 1..parts.len() {
            let (ty, variant) = (parts[i - 1], parts[i]);
            if is_type_name(ty) && is_type_name(variant) {
                let module = (i >= 2)
                    .then(|| parts[i - 2].to_string())
                    .filter(|m| is_ident(m) && !is_type_name(m));
                out.push((module, ty.to_string(), variant.to_string()));
            }
        }
    }
    out
}

#[test]
fn the_bad_input_table_names_real_errors() {
    let readme = read("README.md");
    let (table, lines_before) = section(&readme, "## What bad input gets");
    let errors = error_variants();
    let enums = enums();
    let types: Vec<String> = library_sources()
        .into_iter()
        .flat_map(|(_, path)| {
            let src = std::fs::read_to_string(path).unwrap();
            src.lines()
                .filter_map(|l| {
                    let l = l.trim_start();
                    ["pub struct ", "pub enum ", "pub trait ", "pub type "]
                        .iter()
                        .find_map(|p| l.strip_prefix(p))
                        .map(|r| {
                            r.chars()
                                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                                .collect()
                        })
                })
                .collect::<Vec<String>>()
        })
        .collect();
    let mut problems = Vec::new();
    let mut variants_seen = 0;
    for (line, span) in code_spans(table) {
        let line = line + lines_before;
        let span = span.trim();
        // `Variant`, `Variant { .. }`, `Variant(..)`, `Error::Variant ...`.
        let head_start = span.strip_prefix("Error::").unwrap_or(span);
        let head: String = head_start
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let after = head_start[head.len()..].trim_start();
        let std_name =
            ["Ok", "Err", "Some", "None", "Display", "Debug", "Copy"].contains(&head.as_str());
        if is_type_name(&head) && !std_name && !after.starts_with("::") {
            let shaped = after.starts_with('{') || after.starts_with('(');
            if let Some(fields) = errors.get(&head) {
                variants_seen += 1;
                if after.starts_with('{') {
                    let open = head_start.len() - after.len();
                    for item in top_level_items(inside(head_start, open)) {
                        if item.is_empty() || item.starts_with("..") {
                            continue;
                        }
                        let (name, value) = match item.split_once(':') {
                            Some((n, v)) => (n.trim(), Some(v.trim())),
                            None => (item.as_str(), None),
                        };
                        match fields.get(name) {
                            None => problems.push(format!(
                                "README.md:{line}: `{span}`: Error::{head} has no field `{name}`"
                            )),
                            Some(ty)
                                if value.is_some_and(|v| v.starts_with('"'))
                                    && ty != "&'static str" =>
                            {
                                problems.push(format!(
                                    "README.md:{line}: `{span}`: `{name}` is a {ty}, not a string"
                                ))
                            }
                            Some(_) => {}
                        }
                    }
                }
            } else if shaped || !types.contains(&head) {
                problems.push(format!(
                    "README.md:{line}: `{span}`: no variant Error::{head} in src/error.rs"
                ));
            }
        }
        for (module, ty, variant) in typed_paths(span) {
            let candidates: Vec<&Variants> = enums
                .iter()
                .filter(|((m, n), _)| *n == ty && module.as_ref().is_none_or(|want| want == m))
                .map(|(_, v)| v)
                .collect();
            if ty == "Error" || candidates.is_empty() {
                continue; // `Error::X` is checked above; not an enum of ours (e.g. `Policy::allowing_unset_hash`)
            }
            if !candidates.iter().any(|v| v.contains_key(&variant)) {
                let m = module.map(|m| format!("{m}::")).unwrap_or_default();
                problems.push(format!(
                    "README.md:{line}: `{span}`: no variant {m}{ty}::{variant} in src/"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the bad-input table is stale:\n{}",
        problems.join("\n")
    );
    assert!(
        variants_seen >= 60,
        "only {variants_seen} error variants found: the parser lost them"
    );
}

#[test]
fn every_error_path_in_the_documents_exists() {
    let errors = error_variants();
    let mut problems = Vec::new();
    for doc in DOCUMENTS {
        for (n, line) in read(doc).lines().enumerate() {
            for (i, _) in line.match_indices("Error::") {
                let before = line[..i].chars().next_back();
                if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    continue; // `MeasureError::...`, `SomeError::...`
                }
                let name: String = line[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if is_type_name(&name) && !errors.contains_key(&name) {
                    problems.push(format!("{doc}:{}: Error::{name} does not exist", n + 1));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The lines of the first ```` ```rust ```` block; `prefix` is stripped from
/// each line first (`//! ` for crate docs).
fn rust_block(text: &str, prefix: &str) -> Vec<String> {
    let lines: Vec<String> = text
        .lines()
        .map(|l| match l.strip_prefix(prefix.trim_end()) {
            Some(rest) if !prefix.is_empty() => rest.strip_prefix(' ').unwrap_or(rest).to_string(),
            _ => l.to_string(),
        })
        .collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == "```rust")
        .expect("a ```rust block");
    lines[start + 1..]
        .iter()
        .take_while(|l| l.trim() != "```")
        .cloned()
        .collect()
}

#[test]
fn the_readme_example_is_the_crate_doctest() {
    let readme = rust_block(&read("README.md"), "");
    let lib = rust_block(&read("src/lib.rs"), "//! ");
    assert!(readme.len() >= 5, "README example: {readme:?}");
    assert!(
        lib.iter().all(|l| !l.starts_with("# ")),
        "the doctest hides no lines: the README shows all of it"
    );
    assert_eq!(
        readme, lib,
        "README.md's Rust example differs from the doctest in src/lib.rs"
    );
}

/// Every library path the README names in code (`memory::is_usable`,
/// `gzip::InflateState::SIZE`, `Container::kernel_at()`) exists: a
/// `module::item` is a public item of `src/module.rs`, a `Type::member` a
/// function, constant or field of that public type somewhere in `src/`.
#[test]
fn every_library_path_in_the_readme_exists() {
    let mut sources: BTreeMap<String, String> = BTreeMap::new();
    for (m, p) in library_sources() {
        sources
            .entry(m)
            .or_default()
            .push_str(&std::fs::read_to_string(&p).unwrap());
    }
    let all: String = sources.values().cloned().collect();
    // `text` occurs in `src` followed by a character that ends an identifier.
    let declares = |src: &str, text: &str| {
        src.match_indices(text).any(|(i, _)| {
            src[i + text.len()..]
                .chars()
                .next()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
        })
    };
    let public_item = |src: &str, name: &str| {
        [
            "fn", "const fn", "const", "struct", "enum", "type", "trait", "mod",
        ]
        .iter()
        .any(|k| declares(src, &format!("pub {k} {name}")))
    };
    let is_type = |name: &str| {
        is_type_name(name)
            && ["struct", "enum"]
                .iter()
                .any(|k| declares(&all, &format!("pub {k} {name}")))
    };
    let member = |name: &str| {
        [
            format!("fn {name}("),
            format!("fn {name}<"),
            format!("const {name}:"),
            format!("pub {name}:"),
        ]
        .iter()
        .any(|p| all.contains(p.as_str()))
    };
    let enums = enums();
    let (mut problems, mut checked) = (Vec::new(), 0);
    for (line, span) in code_spans(&read("README.md")) {
        let path = span.split('(').next().unwrap_or_default();
        let path = path.strip_prefix("rvf_boot::").unwrap_or(path);
        if path.contains(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            || !path.contains("::")
        {
            continue;
        }
        let parts: Vec<&str> = path.split("::").collect();
        for pair in parts.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let ok = if let Some(src) = sources.get(a) {
                public_item(src, b)
            } else if is_type(a) {
                member(b) || enums.values().any(|v| v.contains_key(b))
            } else {
                continue; // std (`usize::MAX`), clippy lints, `file::test`
            };
            checked += 1;
            if !ok {
                problems.push(format!("README.md:{line}: `{span}`: no `{a}::{b}` in src/"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked >= 30, "only {checked} paths checked");
}
