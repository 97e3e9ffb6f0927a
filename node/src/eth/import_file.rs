//! Reading a block file as `geth export` writes it (go-ethereum `cmd/utils/cmd.go`
//! `ExportChain`/`ImportChain`): RLP-encoded blocks `[header, transactions, uncles,
//! withdrawals?]` one after another, gzip-compressed when the file name ends in `.gz`.
//! The reader splits the stream into encoded blocks without trusting it: each block's
//! length comes from its RLP prefix and is capped before anything is allocated.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// Largest encoded block read, bytes: the Osaka block cap (8 MiB, go-ethereum
/// `params.MaxBlockSize`) with room for older blocks; a longer item is a corrupt file.
pub const MAX_FILE_BLOCK_BYTES: u64 = 64 << 20;

/// Splits a stream into encoded blocks.
pub struct BlockFileReader {
    r: Box<dyn Read>,
    /// Byte offset of the next block in the (decompressed) stream.
    offset: u64,
}

impl std::fmt::Debug for BlockFileReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockFileReader")
            .field("offset", &self.offset)
            .finish_non_exhaustive()
    }
}

impl BlockFileReader {
    /// Opens `path`, decompressing it if its name ends in `.gz` (as go-ethereum does).
    pub fn open(path: &Path) -> Result<Self, String> {
        let f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let gz = path.extension().is_some_and(|e| e == "gz");
        let r: Box<dyn Read> = if gz {
            Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(f)))
        } else {
            Box::new(BufReader::new(f))
        };
        Ok(Self::new(r))
    }

    /// Reads blocks from `r`.
    pub fn new(r: Box<dyn Read>) -> Self {
        Self { r, offset: 0 }
    }

    /// The next encoded block, `Ok(None)` at a clean end of the stream.
    pub fn next_block(&mut self) -> Result<Option<Vec<u8>>, String> {
        let at = self.offset;
        let mut first = [0u8; 1];
        match self.r.read(&mut first) {
            Ok(0) => return Ok(None),
            Ok(_) => {}
            Err(e) => return Err(format!("read error at byte {at}: {e}")),
        }
        let [prefix] = first;
        let (head, payload_len) = match prefix {
            0xc0..=0xf7 => (vec![prefix], u64::from(prefix - 0xc0)),
            0xf8..=0xff => {
                let n = usize::from(prefix - 0xf7);
                let mut len = vec![0u8; n];
                self.read_exact(&mut len, at)?;
                if len.first() == Some(&0) {
                    return Err(format!("non-canonical RLP length at byte {at}"));
                }
                let v = len.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
                let mut head = vec![prefix];
                head.extend_from_slice(&len);
                (head, v)
            }
            _ => return Err(format!("expected an RLP list (a block) at byte {at}")),
        };
        if payload_len > MAX_FILE_BLOCK_BYTES {
            return Err(format!(
                "block at byte {at} claims {payload_len} bytes, above the {MAX_FILE_BLOCK_BYTES} limit"
            ));
        }
        let mut block = head;
        let start = block.len();
        // Bounded by the check above.
        block.resize(start + payload_len as usize, 0);
        let body = block.get_mut(start..).unwrap_or(&mut []);
        self.read_exact(body, at)?;
        self.offset = at + block.len() as u64;
        Ok(Some(block))
    }

    fn read_exact(&mut self, buf: &mut [u8], at: u64) -> Result<(), String> {
        self.r.read_exact(buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                format!("truncated block at byte {at}")
            } else {
                format!("read error at byte {at}: {e}")
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(bytes: Vec<u8>) -> BlockFileReader {
        BlockFileReader::new(Box::new(std::io::Cursor::new(bytes)))
    }

    #[test]
    fn splits_short_and_long_lists_and_reports_truncation() {
        let long: Vec<u8> = [vec![0xf8, 60], vec![0x80; 60]].concat();
        let mut r = reader([vec![0xc2, 0x80, 0x80], long.clone()].concat());
        assert_eq!(r.next_block().unwrap(), Some(vec![0xc2, 0x80, 0x80]));
        assert_eq!(r.next_block().unwrap(), Some(long.clone()));
        assert_eq!(r.next_block().unwrap(), None);
        let mut cut = reader(long.get(..30).unwrap().to_vec());
        assert!(cut
            .next_block()
            .unwrap_err()
            .contains("truncated block at byte 0"));
        assert!(reader(vec![0x80])
            .next_block()
            .unwrap_err()
            .contains("RLP list"));
        // A huge claimed length is refused before allocating.
        let huge = reader(vec![0xfb, 0xff, 0xff, 0xff, 0xff]).next_block();
        assert!(huge.unwrap_err().contains("limit"));
        assert!(reader(vec![0xf9, 0x00, 0x10]).next_block().is_err());
    }

    #[test]
    fn reads_gzip_files_by_name() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blocks.rlp.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&[0xc1, 0x80, 0xc0]).unwrap();
        std::fs::write(&path, enc.finish().unwrap()).unwrap();
        let mut r = BlockFileReader::open(&path).unwrap();
        assert_eq!(r.next_block().unwrap(), Some(vec![0xc1, 0x80]));
        assert_eq!(r.next_block().unwrap(), Some(vec![0xc0]));
        assert_eq!(r.next_block().unwrap(), None);
    }
}
