//! The engine's modules stay in layers: a top-level module imports only
//! modules of its own row or of a row above it in [`LAYERS`] (the table of
//! book/src/life-of-a-connection.md), and no two modules import each other,
//! directly or around a loop. Read from the source, as `use crate::...`
//! paths outside comments and test modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top to bottom: what each row may build on is above it.
const LAYERS: &[&[&str]] = &[
    &[
        "net", "identity", "rdp", "pool", "log", "counters", "shutdown", "vrrp",
    ],
    &["config"],
    &["acl", "http", "rules"],
    &["balance", "slowstart"],
    &["server", "layers"],
    &["backend"],
    &["check", "status"],
    &["stream", "proxy"],
    &["stats", "api"],
    &["runtime", "cli"],
    &["master"],
];

/// Files that are not modules of the library's layers.
const OUTSIDE: &[&str] = &["lib", "main", "testing"];

/// Each top-level module and the top-level modules it imports, with a
/// file that shows each import.
fn imports() -> BTreeMap<String, BTreeMap<String, String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let top = rel
                .split('/')
                .next()
                .unwrap()
                .trim_end_matches(".rs")
                .to_string();
            if OUTSIDE.contains(&top.as_str()) {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read file");
            // Test modules may reach anywhere; they come last in a file.
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (i, _) in line.match_indices("crate::") {
                    let name: String = line[i + 7..]
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != top {
                        edges
                            .entry(top.clone())
                            .or_default()
                            .entry(name)
                            .or_insert_with(|| rel.clone());
                    }
                }
            }
        }
    }
    edges
}

fn row(module: &str) -> Option<usize> {
    LAYERS.iter().position(|r| r.contains(&module))
}

#[test]
fn every_module_imports_only_its_row_and_the_rows_above() {
    let mut wrong = vec![];
    for (from, to) in imports() {
        let Some(from_row) = row(&from) else {
            wrong.push(format!("{from} is in no row of LAYERS"));
            continue;
        };
        for (module, file) in to {
            match row(&module) {
                None => wrong.push(format!("{module} (imported in {file}) is in no row")),
                Some(r) if r > from_row => {
                    wrong.push(format!("{from} imports {module}, a row below ({file})"))
                }
                Some(_) => {}
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_two_modules_import_each_other() {
    let edges = imports();
    // Depth-first, looking for a path back to where it started.
    fn path_back(
        edges: &BTreeMap<String, BTreeMap<String, String>>,
        start: &str,
        at: &str,
        seen: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> bool {
        for next in edges.get(at).map(|m| m.keys()).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if path_back(edges, start, next, seen, path) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    for start in edges.keys() {
        let mut path = vec![start.clone()];
        let looped = path_back(&edges, start, start, &mut BTreeSet::new(), &mut path);
        assert!(!looped, "import loop: {}", path.join(" -> "));
    }
}
