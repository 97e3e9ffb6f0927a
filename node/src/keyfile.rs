//! Node keys on disk: 64 hex characters in a file created with mode 0600, as go-ethereum's
//! `nodekey`. A key file readable by group or others is refused.

use std::fs;
use std::io::Write;
use std::path::Path;

use paxeer_p2p_core::crypto::keys::{generate_secret_key, secret_key_from_bytes};
use paxeer_p2p_core::driver::os_seed;
use paxeer_p2p_core::rng::MachineRng;
use secp256k1::SecretKey;

/// Why a key could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The content is not 64 hex characters of a valid key.
    #[error("invalid node key: want 64 hex characters of a valid secp256k1 key")]
    Invalid,
    /// The file is readable by others.
    #[error("{0}: key file is accessible by group or others (mode {1:o}); run chmod 600")]
    Permissions(String, u32),
}

/// A fresh key from the OS RNG.
pub fn generate() -> SecretKey {
    generate_secret_key(&mut MachineRng::new(os_seed()))
}

/// Parses a hex key (optional `0x`, surrounding whitespace ignored).
pub fn parse_hex(s: &str) -> Result<SecretKey, KeyFileError> {
    let s = s.trim();
    let s = s.strip_prefix("0x").unwrap_or(s);
    let bytes = hex::decode(s).map_err(|_| KeyFileError::Invalid)?;
    if bytes.len() != 32 {
        return Err(KeyFileError::Invalid);
    }
    secret_key_from_bytes(&bytes).map_err(|_| KeyFileError::Invalid)
}

/// Writes `key` as hex to a new file with mode 0600 (refuses to overwrite).
pub fn write(path: &Path, key: &SecretKey) -> Result<(), KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io)?;
    f.write_all(hex::encode(key.secret_bytes()).as_bytes())
        .map_err(io)?;
    f.sync_all().map_err(io)
}

/// Reads a key file, refusing one that group or others can access.
pub fn read(path: &Path) -> Result<SecretKey, KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.display().to_string(),
        source,
    };
    let meta = fs::metadata(path).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyFileError::Permissions(path.display().to_string(), mode));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    parse_hex(&fs::read_to_string(path).map_err(io)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_key_has_mode_0600_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nodekey");
        let k = generate();
        write(&p, &k).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert_eq!(read(&p).unwrap(), k);
        assert!(write(&p, &k).is_err(), "must not overwrite an existing key");
    }

    #[cfg(unix)]
    #[test]
    fn world_readable_key_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nodekey");
        write(&p, &generate()).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(read(&p), Err(KeyFileError::Permissions(..))));
    }

    #[test]
    fn bad_hex_is_invalid() {
        assert!(matches!(parse_hex("zz"), Err(KeyFileError::Invalid)));
        assert!(matches!(
            parse_hex(&"00".repeat(32)),
            Err(KeyFileError::Invalid)
        ));
        assert!(parse_hex(&format!("0x{}", "11".repeat(32))).is_ok());
    }
}
