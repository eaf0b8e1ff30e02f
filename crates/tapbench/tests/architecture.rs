//! The shape of the workspace, checked: no source file over 1000 lines, and no two files
//! that import each other, directly or round a loop (ARCHITECTURE.md: "No file imports
//! another in a loop").
//!
//! A file's imports are the module paths it names outside its tests: `use` trees, paths
//! starting with `crate::`, `super::` or `self::`, and `child::` for a child module it
//! declares. A path resolves to the deepest module file it reaches; a name re-exported by
//! a module (`pub use a::b::Name`) resolves to where it is defined. A parent that only
//! declares a child (`mod child;`) does not import it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest a source file may be.
const MAX_LINES: usize = 1000;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The crates' source directories (each `crates/*/src`).
fn source_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(workspace().join("crates"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The module path of a file of a crate: `report/charts.rs` is `["report", "charts"]`,
/// `report/mod.rs` is `["report"]`, `lib.rs` and `main.rs` are `[]`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut segs: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        segs.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        segs.pop();
    }
    segs
}

/// The code of a file without comments and without its `#[cfg(test)]` modules.
fn code_of(text: &str) -> String {
    let mut code = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            code.push('\n');
            continue;
        }
        let line = match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        code.push_str(line);
        code.push('\n');
    }
    // Cut each `#[cfg(test)] mod name { ... }` by matching its braces.
    while let Some(start) = code.find("#[cfg(test)]") {
        let rest = &code[start..];
        let Some(open) = rest.find('{') else {
            code.truncate(start);
            break;
        };
        if !rest[..open].contains("mod ") {
            // A test-only item other than a module: drop the attribute line only.
            code.replace_range(start..start + "#[cfg(test)]".len(), "");
            continue;
        }
        let mut depth = 0usize;
        let mut end = code.len();
        for (i, ch) in rest[open..].char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = start + open + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        code.replace_range(start..end, "");
    }
    code
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `use` trees expanded into paths: `use super::{a, b::{c, d}}` gives `super::a`,
/// `super::b::c`, `super::b::d`.
fn use_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("use ") {
        let boundary = rest[..i].chars().last().is_none_or(|c| !is_ident_char(c));
        let tail = &rest[i + 4..];
        rest = tail;
        if !boundary {
            continue;
        }
        let Some(end) = tail.find(';') else { break };
        expand_tree("", &normalise(&tail[..end]), &mut out);
    }
    out
}

/// A `use` tree on one line, without spaces except around `as`.
fn normalise(tree: &str) -> String {
    let words: Vec<&str> = tree.split_whitespace().collect();
    let mut out = String::new();
    for (i, word) in words.iter().enumerate() {
        let glue = i > 0 && (*word == "as" || words[i - 1] == "as");
        if glue {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

fn expand_tree(prefix: &str, tree: &str, out: &mut Vec<String>) {
    let join = |p: &str, s: &str| {
        if p.is_empty() {
            s.to_string()
        } else {
            format!("{p}::{s}")
        }
    };
    if let Some(open) = tree.find('{') {
        let head = tree[..open].trim_end_matches("::");
        let inner = &tree[open + 1..tree.len().saturating_sub(1)];
        let prefix = join(prefix, head);
        let mut depth = 0;
        let mut item = String::new();
        for ch in inner.chars() {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand_tree(&prefix, &std::mem::take(&mut item), out);
                    continue;
                }
                _ => {}
            }
            item.push(ch);
        }
        if !item.is_empty() {
            expand_tree(&prefix, &item, out);
        }
    } else {
        let path = tree.split(" as ").next().unwrap_or(tree);
        out.push(join(prefix, path));
    }
}

/// Paths in the code that start with `crate::`, `super::` or `self::`.
fn rooted_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for root in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(root) {
            let at = from + i;
            from = at + root.len();
            if code[..at].chars().last().is_some_and(is_ident_char) {
                continue;
            }
            let path: String = code[at..]
                .chars()
                .take_while(|c| is_ident_char(*c) || *c == ':')
                .collect();
            out.push(path.trim_end_matches(':').to_string());
        }
    }
    out
}

/// Child modules a file declares (`mod name;`).
fn declared_children(code: &str) -> Vec<String> {
    code.lines()
        .filter_map(|line| {
            let line = line.trim();
            let line = line
                .strip_prefix("pub(crate) ")
                .or_else(|| line.strip_prefix("pub "))
                .unwrap_or(line);
            let name = line.strip_prefix("mod ")?.strip_suffix(';')?;
            Some(name.trim().to_string())
        })
        .collect()
}

/// One crate's files and what each imports.
struct CrateGraph {
    files: BTreeMap<Vec<String>, PathBuf>,
    /// `(module, name)` -> the path a module re-exports `name` from.
    reexports: BTreeMap<(Vec<String>, String), String>,
    edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
}

impl CrateGraph {
    fn new(src: &Path) -> Self {
        let files: BTreeMap<Vec<String>, PathBuf> = rust_files(src)
            .into_iter()
            .map(|f| (module_path(src, &f), f))
            .collect();
        let codes: BTreeMap<Vec<String>, String> = files
            .iter()
            .map(|(m, f)| (m.clone(), code_of(&std::fs::read_to_string(f).unwrap())))
            .collect();
        let mut reexports = BTreeMap::new();
        for (module, code) in &codes {
            for line in code.split(';') {
                let line = line.trim();
                let Some(tree) = line.strip_prefix("pub use ") else {
                    continue;
                };
                let mut paths = Vec::new();
                expand_tree("", &normalise(tree), &mut paths);
                for path in paths {
                    if let Some(name) = path.rsplit("::").next() {
                        reexports.insert((module.clone(), name.to_string()), path.clone());
                    }
                }
            }
        }
        let mut graph = CrateGraph {
            files,
            reexports,
            edges: BTreeMap::new(),
        };
        for (module, code) in &codes {
            let mut paths = use_paths(code);
            paths.extend(rooted_paths(code));
            for child in declared_children(code) {
                let named = code.match_indices(&format!("{child}::")).any(|(i, _)| {
                    !code[..i]
                        .chars()
                        .last()
                        .is_some_and(|c| is_ident_char(c) || c == ':')
                });
                if named {
                    paths.push(format!("self::{child}::_"));
                }
            }
            let deps: BTreeSet<Vec<String>> = paths
                .iter()
                .filter_map(|p| graph.resolve(module, p, 0))
                .filter(|t| t != module)
                .collect();
            graph.edges.insert(module.clone(), deps);
        }
        graph
    }

    /// The module file a path names from `module`, following re-exports.
    fn resolve(&self, module: &[String], path: &str, depth: usize) -> Option<Vec<String>> {
        let mut segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        let mut full: Vec<String> = match segs.first() {
            Some(&"crate") => {
                segs.remove(0);
                Vec::new()
            }
            Some(&"super") => {
                let mut base = module.to_vec();
                while segs.first() == Some(&"super") {
                    segs.remove(0);
                    base.pop();
                }
                base
            }
            Some(&"self") => {
                segs.remove(0);
                module.to_vec()
            }
            // A path relative to the file: only its own children count (see `new`).
            _ => return None,
        };
        full.extend(segs.iter().map(|s| s.to_string()));
        for k in (0..=full.len()).rev() {
            let target = &full[..k];
            if self.files.contains_key(target) {
                if let Some(name) = full.get(k) {
                    let key = (target.to_vec(), name.clone());
                    if let Some(source) = self.reexports.get(&key) {
                        if depth < 8 {
                            let from = if source.starts_with("crate")
                                || source.starts_with("super")
                                || source.starts_with("self")
                            {
                                source.clone()
                            } else {
                                format!("self::{source}")
                            };
                            if let Some(defined) = self.resolve(target, &from, depth + 1) {
                                return Some(defined);
                            }
                        }
                    }
                }
                return Some(target.to_vec());
            }
        }
        None
    }

    /// Groups of files that import each other round a loop.
    fn loops(&self) -> Vec<Vec<Vec<String>>> {
        // Tarjan's strongly connected components.
        struct State<'a> {
            graph: &'a CrateGraph,
            index: BTreeMap<Vec<String>, usize>,
            low: BTreeMap<Vec<String>, usize>,
            stack: Vec<Vec<String>>,
            next: usize,
            found: Vec<Vec<Vec<String>>>,
        }
        fn visit(s: &mut State<'_>, v: &Vec<String>) {
            s.index.insert(v.clone(), s.next);
            s.low.insert(v.clone(), s.next);
            s.next += 1;
            s.stack.push(v.clone());
            let deps: Vec<Vec<String>> = s
                .graph
                .edges
                .get(v)
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            for w in &deps {
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let low = s.low[v].min(s.low[w]);
                    s.low.insert(v.clone(), low);
                } else if s.stack.contains(w) {
                    let low = s.low[v].min(s.index[w]);
                    s.low.insert(v.clone(), low);
                }
            }
            if s.low[v] == s.index[v] {
                let mut component = Vec::new();
                while let Some(w) = s.stack.pop() {
                    let done = &w == v;
                    component.push(w);
                    if done {
                        break;
                    }
                }
                if component.len() > 1 {
                    s.found.push(component);
                }
            }
        }
        let mut state = State {
            graph: self,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            next: 0,
            found: Vec::new(),
        };
        for v in self.edges.keys() {
            if !state.index.contains_key(v) {
                visit(&mut state, v);
            }
        }
        state.found
    }
}

fn name(module: &[String]) -> String {
    if module.is_empty() {
        "(crate root)".into()
    } else {
        module.join("/")
    }
}

#[test]
fn no_source_file_is_over_1000_lines() {
    let mut long = Vec::new();
    let mut dirs = source_dirs();
    dirs.push(workspace().join("benches"));
    for dir in dirs {
        for file in rust_files(&dir) {
            let lines = std::fs::read_to_string(&file).unwrap().lines().count();
            if lines > MAX_LINES {
                long.push(format!("{} ({lines} lines)", file.display()));
            }
        }
    }
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:#?}");
}

#[test]
fn no_file_imports_another_in_a_loop() {
    let mut loops = Vec::new();
    for src in source_dirs() {
        let graph = CrateGraph::new(&src);
        assert!(graph.files.len() > 1 || graph.edges.len() <= 1);
        for component in graph.loops() {
            let detail: Vec<String> = component
                .iter()
                .map(|m| {
                    let inside: Vec<String> = graph.edges[m]
                        .iter()
                        .filter(|d| component.contains(d))
                        .map(|d| name(d))
                        .collect();
                    format!("{} -> {}", name(m), inside.join(", "))
                })
                .collect();
            loops.push(format!("{}: {}", src.display(), detail.join("; ")));
        }
    }
    assert!(loops.is_empty(), "files that import each other: {loops:#?}");
}

/// The checker itself finds what it is meant to find.
#[test]
fn the_loop_checker_sees_loops_through_super_children_and_reexports() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("report")).unwrap();
    let write = |name: &str, text: &str| std::fs::write(src.join(name), text).unwrap();
    write("lib.rs", "mod report;\nmod model;\npub use model::Model;\n");
    write("model.rs", "pub struct Model;\n");
    // A parent that names its child, and a child that uses the parent: a loop.
    write(
        "report/mod.rs",
        "mod charts;\nmod html;\npub fn render() { charts::draw(); }\npub fn escape() {}\n",
    );
    write(
        "report/charts.rs",
        "use super::escape;\n// use super::html; (a comment)\npub fn draw() { escape(); }\n",
    );
    // A re-exported name resolves to where it is defined, not to the crate root.
    write(
        "report/html.rs",
        "use crate::Model;\n#[cfg(test)]\nmod tests {\n    use super::super::charts;\n}\n",
    );
    let graph = CrateGraph::new(&src);
    let report = vec!["report".to_string()];
    let charts = vec!["report".to_string(), "charts".to_string()];
    let html = vec!["report".to_string(), "html".to_string()];
    assert!(graph.edges[&report].contains(&charts));
    assert!(graph.edges[&charts].contains(&report));
    assert!(
        !graph.edges[&charts].contains(&html),
        "a comment is not an import"
    );
    assert_eq!(
        graph.edges[&html].iter().collect::<Vec<_>>(),
        [&vec!["model".to_string()]],
        "re-export followed, test module ignored"
    );
    let loops = graph.loops();
    assert_eq!(loops.len(), 1, "{:?}", graph.edges);
    assert_eq!(loops[0].len(), 2);
}
