//! The documentation as shipped: the README's three recipes are the files
//! of `examples/` (which CI runs with `cargo run --example` and builds as
//! programs of `ci/downstream`) word for word, so a recipe edited in one
//! place and not the other fails here (the README's blocks themselves run
//! as doctests); the README's links to `docs/` lead to files that exist;
//! and no doc comment cites the project's SPEC.md, which does not ship.
#![allow(clippy::unwrap_used)]

const RECIPES: [&str; 3] = ["files_to_pfx", "scoped_export", "rustls_types"];

/// The `rust` code blocks of the README, in order.
fn readme_blocks() -> Vec<String> {
    let readme = include_str!("../README.md");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match &mut current {
            None if line == "```rust" => current = Some(String::new()),
            Some(_) if line == "```" => blocks.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

#[test]
fn each_recipe_in_the_readme_is_its_example_file() {
    let blocks = readme_blocks();
    for name in RECIPES {
        let file = std::fs::read_to_string(format!("{}/examples/{name}.rs", env!("CARGO_MANIFEST_DIR"))).unwrap();
        // The file is its `//!` header, a blank line, then the recipe.
        let body: String = file
            .lines()
            .skip_while(|l| l.starts_with("//!"))
            .skip(1)
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(!body.is_empty(), "{name}");
        assert!(
            blocks.contains(&body),
            "examples/{name}.rs is not one of the README's rust blocks word for word"
        );
        // No hidden setup: a recipe has no `# ` lines.
        assert!(!body.lines().any(|l| l.trim_start().starts_with("# ")), "{name}");
    }
}

#[test]
fn the_readme_links_to_documents_that_exist() {
    let readme = include_str!("../README.md");
    let mut linked = 0;
    for (at, _) in readme.match_indices("](docs/") {
        let target = &readme[at + 2..];
        let target = &target[..target.find([')', '#']).unwrap()];
        assert!(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(target).is_file(),
            "{target}"
        );
        linked += 1;
    }
    // The command line, serve, PostgreSQL, security, performance, decisions.
    assert!(linked >= 6, "{linked}");
}

#[test]
fn no_doc_cites_the_spec() {
    fn visit(dir: &std::path::Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                visit(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs" || e == "md") {
                let text = std::fs::read_to_string(&path).unwrap();
                if text.contains("SPEC §") || text.contains("SPEC.md") {
                    found.push(path.display().to_string());
                }
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    visit(&root.join("src"), &mut found);
    visit(&root.join("docs"), &mut found);
    for file in ["README.md"] {
        if std::fs::read_to_string(root.join(file)).unwrap().contains("SPEC §") {
            found.push(file.into());
        }
    }
    assert!(found.is_empty(), "SPEC cited in {found:?}");
}
