//! The book's configuration examples are real: every ```haproxy block in
//! book/src loads without error, and every ```haproxy-check block is
//! followed by a ```text block holding exactly what `engine -c` prints for
//! it (file name `haproxy.cfg`, pid 1234, without the two banner lines).

use std::path::Path;

use engine::config;

struct Block {
    chapter: String,
    line: usize,
    kind: String,
    body: String,
}

fn blocks() -> Vec<Block> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src");
    let mut chapters: Vec<_> = std::fs::read_dir(&dir)
        .expect("book/src")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    chapters.sort();
    let mut out = vec![];
    for path in chapters {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut current: Option<Block> = None;
        for (n, line) in text.lines().enumerate() {
            match (&mut current, line.strip_prefix("```")) {
                (None, Some(kind)) => {
                    current = Some(Block {
                        chapter: path.file_name().unwrap().to_string_lossy().into(),
                        line: n + 1,
                        kind: kind.trim().to_string(),
                        body: String::new(),
                    })
                }
                (Some(_), Some("")) => out.push(current.take().unwrap()),
                (Some(b), _) => {
                    b.body.push_str(line);
                    b.body.push('\n');
                }
                (None, None) => {}
            }
        }
    }
    out
}

#[test]
fn every_haproxy_block_is_a_valid_config() {
    let all = blocks();
    let valid: Vec<&Block> = all.iter().filter(|b| b.kind == "haproxy").collect();
    assert!(valid.len() >= 3, "the book shows configurations");
    for b in valid {
        let name = format!("{}:{}", b.chapter, b.line);
        if let Err(e) = config::load_str(&name, &b.body) {
            panic!("book example {name} does not load: {:?}", e.diagnostics);
        }
    }
}

#[test]
fn every_check_block_shows_what_dash_c_prints() {
    let all = blocks();
    let mut checked = 0;
    for (i, b) in all.iter().enumerate() {
        if b.kind != "haproxy-check" {
            continue;
        }
        let expected = all
            .get(i + 1)
            .filter(|t| t.kind == "text")
            .unwrap_or_else(|| {
                panic!(
                    "{}:{}: a haproxy-check block is followed by a text block",
                    b.chapter, b.line
                )
            });
        let report = config::check_report(&config::load_str("haproxy.cfg", &b.body), 1234);
        let printed = format!("{}{}", report.stderr, report.stdout);
        assert_eq!(printed, expected.body, "{}:{}", b.chapter, b.line);
        checked += 1;
    }
    assert!(checked >= 3, "the book shows what -c prints");
}
