//! The book's scenarios are real: every ```yaml block in book/src is a
//! scenario the simulator accepts (config files relative to scenarios/,
//! mdBook includes read).

use std::path::Path;

use sim::scenario::Scenario;

#[test]
fn every_yaml_block_of_the_book_is_a_valid_scenario() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut chapters: Vec<_> = std::fs::read_dir(root.join("book/src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    chapters.sort();
    let mut checked = 0;
    for chapter in chapters {
        let text = std::fs::read_to_string(&chapter).unwrap();
        let mut block: Option<(usize, String)> = None;
        for (n, line) in text.lines().enumerate() {
            match (&mut block, line.trim_start().strip_prefix("```")) {
                (None, Some("yaml")) => block = Some((n + 1, String::new())),
                (Some((at, body)), Some("")) => {
                    let name = format!("{}:{at}", chapter.display());
                    if let Err(e) = Scenario::parse(&name, body, &root.join("scenarios")) {
                        panic!("{e}");
                    }
                    checked += 1;
                    block = None;
                }
                (Some((_, body)), _) => {
                    // mdBook's include: the file itself, as the reader sees it.
                    match line
                        .strip_prefix("{{#include ")
                        .and_then(|l| l.strip_suffix("}}"))
                    {
                        Some(file) => {
                            let path = chapter.parent().unwrap().join(file);
                            body.push_str(&std::fs::read_to_string(&path).unwrap());
                        }
                        None => {
                            body.push_str(line);
                            body.push('\n');
                        }
                    }
                }
                _ => {}
            }
        }
    }
    assert!(checked > 0, "no yaml block in the book");
}
