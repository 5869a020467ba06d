//! The README and the reference in `docs/` keep their promises about the code
//! (issue 8: the repository reads as one design, and its documents do not
//! drift from it; issue 19: the README fits on a screen and the reference
//! moved to `docs/`, checked exactly as it was in the README).
//!
//! - Every test a document cites as `file.rs::name` (README.md, every
//!   `docs/*.md`, fuzz/RESULTS.md, qemu/README.md) is a `fn name` in that
//!   file: `src/x.rs` and other paths with a folder are taken from the
//!   repository root, a bare `x.rs` from `host-tests/tests/`.
//! - Every error the "What bad input gets" table (`docs/bad-input.md`) names
//!   is a variant of `rvf_boot::Error` with the fields it shows, a field shown
//!   with a string value is a `&'static str` field, and every `Type::Variant`
//!   it names is a variant of that enum in `src/`.
//! - Every `Error::Variant` named anywhere in those documents exists.
//! - Every library path the README and the reference name
//!   (`memory::is_usable`, `Container::kernel_at`, `gzip::InflateState::SIZE`)
//!   exists in `src/`.
//! - The README's Rust example is, line for line, the doctest in `src/lib.rs`
//!   (which compiles and runs on a golden file), so it cannot drift; the file
//!   it reads, `testdata/small.rvf`, is the golden file.
//! - The README is at most 150 lines and opens with the two commands; every
//!   relative link in the README, `docs/` and qemu/README.md names a file
//!   that exists (and a heading there, for `#anchor`s).
//! - The exit codes are one table (`docs/exit-codes.md`) that names every
//!   library error exactly once.

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

/// Every `docs/*.md`, sorted, as paths from the repository root.
fn docs() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    out.sort();
    out
}

/// Every document the checks read: the README, the reference in `docs/`,
/// the fuzz results and the QEMU README.
fn documents() -> Vec<String> {
    let mut out = vec!["README.md".to_string()];
    out.extend(docs());
    out.extend(["fuzz/RESULTS.md".to_string(), "qemu/README.md".to_string()]);
    out
}

/// Where the "What bad input gets" table lives.
const BAD_INPUT: &str = "docs/bad-input.md";

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
    for doc in documents() {
        for (line, file, name) in cited_tests(&read(&doc)) {
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

/// Every `.rs` file under `src/` (folders included, so a module split into
/// `src/m.rs` + `src/m/*.rs` or `src/m/mod.rs` is still read), with the
/// module names a document may use for it: the top-level module (`m`) and,
/// for a file inside a folder, its own name (`m/part.rs`: also `part`).
fn source_files() -> Vec<(Vec<String>, String)> {
    fn walk(dir: &Path, top: Option<&str>, out: &mut Vec<(Vec<String>, String)>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                walk(&path, Some(top.unwrap_or(&stem)), out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let mut names = vec![top.unwrap_or(&stem).to_string()];
                if top.is_some() && stem != "mod" {
                    names.push(stem);
                }
                out.push((names, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("src"), None, &mut out);
    assert!(out.len() >= 15, "only {} files in src/", out.len());
    out
}

/// Every `pub enum` in `src/`: (module, name) -> variants with their fields
/// (field name -> type text).
type Variants = BTreeMap<String, BTreeMap<String, String>>;

fn enums() -> BTreeMap<(String, String), Variants> {
    let mut out = BTreeMap::new();
    for (modules, src) in source_files() {
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
                let variants = std::mem::take(variants);
                for module in &modules {
                    out.insert((module.clone(), name.clone()), variants.clone());
                }
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
        .unwrap_or_else(|| panic!("no `{heading}` in the document"));
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
    let doc = read(BAD_INPUT);
    let (table, lines_before) = section(&doc, "# What bad input gets");
    let errors = error_variants();
    let enums = enums();
    let types: Vec<String> = source_files()
        .into_iter()
        .flat_map(|(_, src)| {
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
                                "{BAD_INPUT}:{line}: `{span}`: Error::{head} has no field `{name}`"
                            )),
                            Some(ty)
                                if value.is_some_and(|v| v.starts_with('"'))
                                    && ty != "&'static str" =>
                            {
                                problems.push(format!(
                                    "{BAD_INPUT}:{line}: `{span}`: `{name}` is a {ty}, not a string"
                                ))
                            }
                            Some(_) => {}
                        }
                    }
                }
            } else if shaped || !types.contains(&head) {
                problems.push(format!(
                    "{BAD_INPUT}:{line}: `{span}`: no variant Error::{head} in src/error.rs"
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
                    "{BAD_INPUT}:{line}: `{span}`: no variant {m}{ty}::{variant} in src/"
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
    for doc in documents() {
        for (n, line) in read(&doc).lines().enumerate() {
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

/// Every library path the README and the reference in `docs/` name in code
/// (`memory::is_usable`,
/// `gzip::InflateState::SIZE`, `Container::kernel_at()`) exists: a
/// `module::item` is a public item of `src/module.rs`, a `Type::member` a
/// function, constant or field of that public type somewhere in `src/`.
#[test]
fn every_library_path_in_the_readme_exists() {
    let files = source_files();
    let mut sources: BTreeMap<String, String> = BTreeMap::new();
    for (modules, src) in &files {
        for m in modules {
            sources.entry(m.clone()).or_default().push_str(src);
        }
    }
    let all: String = files.iter().map(|(_, src)| src.as_str()).collect();
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
    let mut readme_and_docs = vec!["README.md".to_string()];
    readme_and_docs.extend(docs());
    for (doc, (line, span)) in readme_and_docs
        .iter()
        .flat_map(|d| code_spans(&read(d)).into_iter().map(move |s| (d, s)))
    {
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
                problems.push(format!("{doc}:{line}: `{span}`: no `{a}::{b}` in src/"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked >= 30, "only {checked} paths checked");
}

/// The file the example reads is the golden file (a link in the repository,
/// a copy in the packaged crate).
#[test]
fn the_example_reads_the_golden_file() {
    let golden = std::fs::read(root().join("host-tests/golden/ruvbot/small.rvf")).unwrap();
    let example = std::fs::read(root().join("testdata/small.rvf")).unwrap();
    assert_eq!(golden.len(), 18_899);
    assert!(
        example == golden,
        "testdata/small.rvf is not the golden file"
    );
}

/// Issue 19: the README fits on a screen and opens with the two commands:
/// the main job and every test.
#[test]
fn the_readme_fits_on_a_screen() {
    let readme = read("README.md");
    let lines: Vec<&str> = readme.lines().collect();
    assert!(lines.len() <= 150, "README.md has {} lines", lines.len());
    assert_eq!(lines[..3], ["# rvf-boot", "", "```sh"]);
    assert!(
        lines[3].starts_with(
            "cargo run --release --bin rvf-boot -- inspect host-tests/golden/real-bzimage/testkernel.rvf "
        ),
        "{}",
        lines[3]
    );
    assert!(lines[4].starts_with("bash .ci/run "), "{}", lines[4]);
    assert_eq!(lines[5], "```");
    assert!(
        root()
            .join("host-tests/golden/real-bzimage/testkernel.rvf")
            .is_file()
    );
}

/// GitHub's anchor for a heading: lower case, spaces to `-`, punctuation
/// other than `-` and `_` dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// `[text](target)` links outside fenced blocks, with their line numbers.
fn links(text: &str) -> Vec<(usize, String)> {
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
        for (i, _) in line.match_indices("](") {
            let rest = &line[i + 2..];
            if let Some(end) = rest.find(')') {
                out.push((n + 1, rest[..end].to_string()));
            }
        }
    }
    out
}

/// Every relative link in the README, `docs/` and the QEMU README names a
/// file of the repository, and an `#anchor` a heading of that file.
#[test]
fn every_relative_link_resolves() {
    let mut docs_and_readmes = vec!["README.md".to_string(), "qemu/README.md".to_string()];
    docs_and_readmes.extend(docs());
    let (mut problems, mut checked) = (Vec::new(), 0);
    for doc in &docs_and_readmes {
        let dir = Path::new(doc).parent().unwrap();
        for (line, target) in links(&read(doc)) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let path = if file.is_empty() {
                PathBuf::from(doc)
            } else {
                // Lexically: `../docs/x.md` from `qemu/`.
                let mut p = dir.to_path_buf();
                for part in Path::new(file).components() {
                    match part {
                        std::path::Component::ParentDir => {
                            p.pop();
                        }
                        std::path::Component::CurDir => {}
                        other => p.push(other),
                    }
                }
                p
            };
            let rel = path.to_string_lossy().into_owned();
            checked += 1;
            let Ok(text) = std::fs::read_to_string(root().join(&path)) else {
                problems.push(format!("{doc}:{line}: ({target}): no file {rel}"));
                continue;
            };
            if !anchor.is_empty()
                && !text
                    .lines()
                    .filter_map(|l| l.strip_prefix('#'))
                    .any(|h| slug(h.trim_start_matches('#')) == anchor)
            {
                problems.push(format!(
                    "{doc}:{line}: ({target}): no heading #{anchor} in {rel}"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked >= 30, "only {checked} links checked");
}

/// The exit codes are one table, in `docs/exit-codes.md`: no other document
/// carries one, its QEMU status is `(code << 1) | 1`, and every library
/// error is named exactly once in its "library errors" column.
#[test]
fn the_exit_codes_are_one_table_naming_every_error_once() {
    let is_exit_table = |l: &str| l.starts_with("| code |") && l.contains("QEMU status");
    for doc in documents() {
        let tables = read(&doc).lines().filter(|l| is_exit_table(l)).count();
        let want = usize::from(doc == "docs/exit-codes.md");
        assert_eq!(tables, want, "{doc}: {tables} exit-code tables");
    }
    let text = read("docs/exit-codes.md");
    let mut rows = text
        .lines()
        .skip_while(|l| !is_exit_table(l))
        .skip(2)
        .take_while(|l| l.starts_with('|'));
    let errors = error_variants();
    let mut named: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut codes = Vec::new();
    for row in rows.by_ref() {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let code: u8 = cells[1].parse().unwrap_or_else(|_| panic!("{row}"));
        let status: u16 = cells[2].parse().unwrap_or_else(|_| panic!("{row}"));
        assert_eq!(status, (u16::from(code) << 1) | 1, "{row}");
        codes.push(code);
        for (_, span) in code_spans(cells[4]) {
            assert!(
                errors.contains_key(&span),
                "`{span}` is no Error variant: {row}"
            );
            named.entry(span).or_default().push(code);
        }
    }
    assert_eq!(codes, (1..=15).collect::<Vec<u8>>());
    let missing: Vec<&String> = errors.keys().filter(|v| !named.contains_key(*v)).collect();
    assert!(
        missing.is_empty(),
        "not in the exit-code table: {missing:?}"
    );
    let twice: Vec<_> = named.iter().filter(|(_, c)| c.len() > 1).collect();
    assert!(twice.is_empty(), "in more than one row: {twice:?}");
    assert_eq!(named.len(), errors.len());
}
