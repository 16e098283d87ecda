//! Both backends' migration folders must carry the same version numbers, so a schema change
//! cannot reach one database and not the other (STYLE.md habit 2).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

/// Version number → file name, for every `NNNN_name.sql` in `migrations/<backend>`.
fn versions(backend: &str) -> BTreeMap<u64, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let name = entry.expect("directory entry").file_name().into_string().expect("UTF-8 file name");
        let (version, rest) = name
            .split_once('_')
            .unwrap_or_else(|| panic!("{backend}/{name} is not named NNNN_description.sql"));
        assert!(
            rest.ends_with(".sql") && rest.len() > 4,
            "{backend}/{name} is not named NNNN_description.sql"
        );
        let version: u64 = version
            .parse()
            .unwrap_or_else(|_| panic!("{backend}/{name} does not start with a version number"));
        if let Some(other) = out.insert(version, name.clone()) {
            panic!("{backend} has two migrations numbered {version}: {other} and {name}");
        }
    }
    out
}

#[test]
fn both_migration_folders_carry_the_same_version_numbers() {
    let sqlite = versions("sqlite");
    let postgres = versions("postgres");
    assert!(!sqlite.is_empty(), "no SQLite migrations found");
    let only_sqlite: Vec<&String> = sqlite.iter().filter(|(v, _)| !postgres.contains_key(v)).map(|(_, n)| n).collect();
    let only_postgres: Vec<&String> = postgres.iter().filter(|(v, _)| !sqlite.contains_key(v)).map(|(_, n)| n).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "the migration folders have drifted apart: only in sqlite/ {only_sqlite:?}, only in postgres/ {only_postgres:?}"
    );
}
