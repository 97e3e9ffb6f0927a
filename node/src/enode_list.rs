//! Static and trusted node lists: a JSON array of enode URLs, as go-ethereum's
//! `static-nodes.json` and `trusted-nodes.json`. Files are read up to [`MAX_LIST_BYTES`]; every
//! bad entry is reported with its index so an operator can fix them all at once.

use std::fmt;
use std::io::Read;
use std::path::Path;

use paxeer_p2p_core::enode::Enode;

/// The largest list file read (1 MiB: about 6 000 enode URLs, far more than any node needs).
pub const MAX_LIST_BYTES: u64 = 1 << 20;

/// How many bad entries an error lists; the rest are only counted.
const MAX_REPORTED_ENTRIES: usize = 8;

/// The longest entry quoted back in an error message, in characters.
const MAX_QUOTED_CHARS: usize = 48;

/// One entry that is not an enode URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadEntry {
    /// Position in the array, from 0.
    pub index: usize,
    /// The start of the entry as written (or its JSON type when it is not a string).
    pub value: String,
    /// Why it was refused.
    pub reason: String,
}

impl fmt::Display for BadEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry {} ({}): {}", self.index, self.value, self.reason)
    }
}

/// Why a list could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnodeListError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_LIST_BYTES`].
    #[error("{path}: larger than {MAX_LIST_BYTES} bytes")]
    TooLarge {
        /// The file.
        path: String,
    },
    /// The content is not a JSON array of strings.
    #[error("not a JSON array of enode URLs: {0}")]
    Json(String),
    /// Some entries are not enode URLs.
    #[error("{}", describe_bad(.0, *.1))]
    BadEntries(Vec<BadEntry>, usize),
}

fn describe_bad(listed: &[BadEntry], total: usize) -> String {
    let mut s = format!("{total} invalid enode URL(s): ");
    let parts: Vec<String> = listed.iter().map(ToString::to_string).collect();
    s.push_str(&parts.join("; "));
    if total > listed.len() {
        s.push_str(&format!("; and {} more", total - listed.len()));
    }
    s
}

/// Cuts `s` to at most [`MAX_QUOTED_CHARS`] characters for an error message.
fn quote(s: &str) -> String {
    let mut out: String = s.chars().take(MAX_QUOTED_CHARS).collect();
    if s.chars().nth(MAX_QUOTED_CHARS).is_some() {
        out.push('…');
    }
    format!("{out:?}")
}

/// Parses a list of enode URL strings, reporting every bad one with its index.
pub fn parse_enode_strings<S: AsRef<str>>(entries: &[S]) -> Result<Vec<Enode>, EnodeListError> {
    collect(entries.iter().map(|s| Ok(s.as_ref())))
}

/// Parses the content of a list file: a JSON array whose entries are enode URL strings.
pub fn parse_enode_list(bytes: &[u8]) -> Result<Vec<Enode>, EnodeListError> {
    if bytes.len() as u64 > MAX_LIST_BYTES {
        return Err(EnodeListError::TooLarge {
            path: "<input>".into(),
        });
    }
    let values: Vec<serde_json::Value> =
        serde_json::from_slice(bytes).map_err(|e| EnodeListError::Json(e.to_string()))?;
    collect(
        values
            .iter()
            .map(|v| v.as_str().ok_or_else(|| json_type(v))),
    )
}

/// Parses each entry (`Err` holds the JSON type of a non-string), keeping the first
/// [`MAX_REPORTED_ENTRIES`] failures and counting the rest.
fn collect<'a>(
    entries: impl Iterator<Item = Result<&'a str, &'static str>>,
) -> Result<Vec<Enode>, EnodeListError> {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    let mut bad_total = 0usize;
    for (index, entry) in entries.enumerate() {
        let failure = match entry {
            Ok(s) => match s.parse::<Enode>() {
                Ok(e) => {
                    good.push(e);
                    continue;
                }
                Err(e) => (quote(s), e.to_string()),
            },
            Err(kind) => (kind.to_string(), "not a string".to_string()),
        };
        bad_total += 1;
        if bad.len() < MAX_REPORTED_ENTRIES {
            bad.push(BadEntry {
                index,
                value: failure.0,
                reason: failure.1,
            });
        }
    }
    if bad_total > 0 {
        return Err(EnodeListError::BadEntries(bad, bad_total));
    }
    Ok(good)
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Reads and parses a list file, refusing files over [`MAX_LIST_BYTES`] without reading them
/// whole.
pub fn read_enode_list(path: &Path) -> Result<Vec<Enode>, EnodeListError> {
    let shown = path.display().to_string();
    let io = |source| EnodeListError::Io {
        path: shown.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_LIST_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_LIST_BYTES {
        return Err(EnodeListError::TooLarge { path: shown });
    }
    parse_enode_list(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const ID: &str = "fda1cff674c90c9a197539fe3dfb53086ace64f83ed7c6eabec741f7f381cc803e52ab2cd55d5569bce4347107a310dfd5f88a010cd2ffd1005ca406f1842877";

    #[test]
    fn parses_an_array_of_enodes() {
        let json = format!(
            r#"["enode://{ID}@10.0.0.1:30303", "enode://{ID}@[::1]:30304?discport=30301"]"#
        );
        let list = parse_enode_list(json.as_bytes()).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].udp_port, 30301);
    }

    #[test]
    fn empty_array_is_an_empty_list() {
        assert!(parse_enode_list(b" [] ").unwrap().is_empty());
    }

    #[test]
    fn bad_entries_are_reported_with_their_index() {
        let json =
            format!(r#"["enode://{ID}@10.0.0.1:30303", "nope", 7, "enode://{ID}@10.0.0.1"]"#);
        let err = parse_enode_list(json.as_bytes()).unwrap_err();
        let EnodeListError::BadEntries(bad, total) = &err else {
            panic!("{err}")
        };
        assert_eq!(*total, 3);
        let idx: Vec<_> = bad.iter().map(|b| b.index).collect();
        assert_eq!(idx, [1, 2, 3]);
        let msg = err.to_string();
        assert!(msg.contains("entry 1 (\"nope\")"), "{msg}");
        assert!(msg.contains("entry 2 (a number): not a string"), "{msg}");
    }

    #[test]
    fn many_bad_entries_are_counted_not_all_listed() {
        let entries: Vec<String> = (0..100).map(|i| format!("bad{i}")).collect();
        let err = parse_enode_strings(&entries).unwrap_err();
        let EnodeListError::BadEntries(bad, total) = &err else {
            panic!()
        };
        assert_eq!(bad.len(), MAX_REPORTED_ENTRIES);
        assert_eq!(*total, 100);
        assert!(err.to_string().ends_with("and 92 more"));
    }

    #[test]
    fn not_an_array_is_a_json_error() {
        assert!(matches!(
            parse_enode_list(b"{\"a\":1}"),
            Err(EnodeListError::Json(_))
        ));
        assert!(matches!(
            parse_enode_list(b""),
            Err(EnodeListError::Json(_))
        ));
    }

    #[test]
    fn oversized_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("static-nodes.json");
        std::fs::write(&path, vec![b' '; MAX_LIST_BYTES as usize + 1]).unwrap();
        assert!(matches!(
            read_enode_list(&path),
            Err(EnodeListError::TooLarge { .. })
        ));
        let ok = dir.path().join("ok.json");
        std::fs::write(&ok, format!("[\"enode://{ID}@1.2.3.4:1\"]")).unwrap();
        assert_eq!(read_enode_list(&ok).unwrap().len(), 1);
        assert!(matches!(
            read_enode_list(&dir.path().join("missing")),
            Err(EnodeListError::Io { .. })
        ));
    }
}
