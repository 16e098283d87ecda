//! The master key file that seals signing keys at rest (DESIGN.md "Secrets").

use anyhow::{Context as _, bail};
use latchkey_core::secrets::MasterKey;
use std::io::Write as _;
use std::path::Path;

/// Reads the key file; a missing or malformed file is a clear error.
pub fn read(path: &Path) -> anyhow::Result<MasterKey> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "the master key file {} does not exist. `latchkey init` creates it beside the database; every `latchkey serve` sharing that database needs the same file (set --master-key-file or LATCHKEY_MASTER_KEY_FILE)",
            path.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("reading the master key file {}", path.display())),
    };
    MasterKey::from_file_contents(&text).with_context(|| format!("the master key file {} is not a latchkey key", path.display()))
}

/// Reads the key file, or creates it (mode 0600) when absent.
pub fn read_or_create(path: &Path) -> anyhow::Result<(MasterKey, bool)> {
    if path.exists() {
        return Ok((read(path)?, false));
    }
    let key = MasterKey::generate()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating the master key file {}", path.display()))?;
    file.write_all(key.to_file_contents().as_bytes())?;
    file.sync_all()?;
    Ok((key, true))
}
