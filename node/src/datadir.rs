//! The data directory: `nodekey` (hex, mode 0600, created on first start and reused) and the
//! node database `nodes`.

use std::path::{Path, PathBuf};

use secp256k1::SecretKey;

use crate::keyfile;

/// A node's data directory.
#[derive(Clone, Debug)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Opens (creating if needed, mode 0700) the directory.
    pub fn open(root: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(root).map_err(|e| format!("{}: {e}", root.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o700));
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// The node key: read from `nodekey`, or generated and written with mode 0600.
    pub fn node_key(&self) -> Result<SecretKey, String> {
        let path = self.root.join("nodekey");
        if path.exists() {
            return keyfile::read(&path).map_err(|e| e.to_string());
        }
        let key = keyfile::generate();
        keyfile::write(&path, &key).map_err(|e| e.to_string())?;
        Ok(key)
    }

    /// Path of the embedded block store.
    pub fn chain_db(&self) -> PathBuf {
        self.root.join("chain")
    }

    /// Path of the node database.
    pub fn nodes_db(&self) -> PathBuf {
        self.root.join("nodes")
    }
}
