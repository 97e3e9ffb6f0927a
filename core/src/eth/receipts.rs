//! Receipts in their two wire forms: eth/68 carries consensus encodings (with bloom, typed
//! ones wrapped as byte strings); eth/69 (EIP-7642) carries `[tx_type, status, gas, logs]`
//! with no bloom and no wrapping. [`Receipt::consensus_encoding`] rebuilds the form the
//! receipts trie stores, so eth/69 receipts can be checked against `receipts_root`.

use crate::eth::error::{Budget, EthDecodeError};
use crate::eth::primitives::{bloom_add, Address, Bloom, B256, BLOOM_BYTES};
use crate::eth::rlp::{self, Item};
use crate::eth::trie::ordered_trie_root;
use crate::eth::tx::TxType;

/// A log entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Log {
    /// Emitting contract.
    pub address: Address,
    /// Indexed topics.
    pub topics: Vec<B256>,
    /// Unindexed data.
    pub data: Vec<u8>,
}

/// The outcome field: a status code since Byzantium (EIP-658), a state root before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceiptOutcome {
    /// Success (true) or failure.
    Status(bool),
    /// Pre-Byzantium intermediate state root.
    PostState(B256),
}

/// A receipt without its bloom (the bloom is derived from the logs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Type of the transaction it belongs to.
    pub tx_type: TxType,
    /// Status or post-state.
    pub outcome: ReceiptOutcome,
    /// Gas used by the block up to and including this transaction.
    pub cumulative_gas_used: u64,
    /// Logs emitted.
    pub logs: Vec<Log>,
}

/// A receipt as eth/68 sends it: with its bloom, which we keep as sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptWithBloom {
    /// The receipt.
    pub receipt: Receipt,
    /// The bloom the peer sent (should equal [`Receipt::bloom`]).
    pub bloom: Box<Bloom>,
}

impl Receipt {
    /// The logs bloom of this receipt.
    pub fn bloom(&self) -> Bloom {
        let mut b = [0u8; BLOOM_BYTES];
        for log in &self.logs {
            bloom_add(&mut b, &log.address);
            for t in &log.topics {
                bloom_add(&mut b, t);
            }
        }
        b
    }

    /// Appends the outcome, gas, `bloom` (if given) and logs.
    fn put_fields(&self, out: &mut Vec<u8>, bloom: Option<&Bloom>) {
        match &self.outcome {
            ReceiptOutcome::Status(ok) => rlp::put_bool(out, *ok),
            ReceiptOutcome::PostState(root) => rlp::put_bytes(out, root),
        }
        rlp::put_u64(out, self.cumulative_gas_used);
        if let Some(b) = bloom {
            rlp::put_bytes(out, b);
        }
        let mut logs = Vec::new();
        for log in &self.logs {
            let mut l = Vec::with_capacity(log.data.len() + 30 + log.topics.len() * 33);
            rlp::put_bytes(&mut l, &log.address);
            let mut t = Vec::with_capacity(log.topics.len() * 33);
            for topic in &log.topics {
                rlp::put_bytes(&mut t, topic);
            }
            rlp::put_list(&mut l, &t);
            rlp::put_bytes(&mut l, &log.data);
            rlp::put_list(&mut logs, &l);
        }
        rlp::put_list(out, &logs);
    }

    /// The consensus encoding with `bloom`: `rlp([status, gas, bloom, logs])`, prefixed by
    /// the type byte for typed transactions.
    fn consensus_with(&self, bloom: &Bloom) -> Vec<u8> {
        let mut p = Vec::new();
        self.put_fields(&mut p, Some(bloom));
        let mut out = Vec::with_capacity(p.len() + 6);
        if self.tx_type != TxType::Legacy {
            out.push(self.tx_type.as_u8());
        }
        rlp::put_list(&mut out, &p);
        out
    }

    /// The consensus encoding (what the receipts trie stores), bloom recomputed.
    pub fn consensus_encoding(&self) -> Vec<u8> {
        self.consensus_with(&self.bloom())
    }

    /// The eth/69 encoding `[tx_type, status, gas, logs]`.
    pub fn encode_eth69(&self) -> Vec<u8> {
        let mut p = Vec::new();
        rlp::put_u64(&mut p, u64::from(self.tx_type.as_u8()));
        self.put_fields(&mut p, None);
        rlp::list(&p)
    }

    /// Decodes the outcome, gas, optional bloom and logs from `f`.
    fn fields(
        tx_type: TxType,
        f: &mut rlp::ListReader<'_>,
        with_bloom: bool,
        b: &mut Budget,
    ) -> Result<(Receipt, Option<Box<Bloom>>), EthDecodeError> {
        b.take(1)?;
        let outcome_bytes = f.next_item()?.bytes()?;
        let outcome = match outcome_bytes {
            [] => ReceiptOutcome::Status(false),
            [1] => ReceiptOutcome::Status(true),
            _ => ReceiptOutcome::PostState(
                outcome_bytes
                    .try_into()
                    .map_err(|_| EthDecodeError::Invalid("receipt status"))?,
            ),
        };
        let cumulative_gas_used = f.next_item()?.u64()?;
        let bloom = if with_bloom {
            Some(Box::new(f.next_item()?.array::<BLOOM_BYTES>()?))
        } else {
            None
        };
        let mut logs_list = f.next_item()?.list()?;
        let mut logs = Vec::new();
        while let Some(l) = logs_list.next_opt()? {
            b.take(1)?;
            let mut lf = l.list()?;
            let address = lf.next_item()?.array()?;
            let mut tl = lf.next_item()?.list()?;
            let mut topics = Vec::new();
            while let Some(t) = tl.next_opt()? {
                topics.push(t.array()?);
            }
            let data = lf.next_item()?.bytes()?.to_vec();
            lf.finish()?;
            logs.push(Log {
                address,
                topics,
                data,
            });
        }
        let r = Receipt {
            tx_type,
            outcome,
            cumulative_gas_used,
            logs,
        };
        Ok((r, bloom))
    }

    /// Decodes one eth/69 receipt item.
    pub(crate) fn from_eth69_item(item: Item<'_>, b: &mut Budget) -> Result<Self, EthDecodeError> {
        let mut f = item.list()?;
        let ty = f.next_item()?.u64()?;
        let ty = u8::try_from(ty).ok().and_then(TxType::from_u8).ok_or(
            EthDecodeError::UnknownTxType(u8::try_from(ty).unwrap_or(u8::MAX)),
        )?;
        let (r, _) = Self::fields(ty, &mut f, false, b)?;
        f.finish()?;
        Ok(r)
    }
}

impl ReceiptWithBloom {
    /// The consensus encoding with the bloom as sent.
    pub fn consensus_encoding(&self) -> Vec<u8> {
        self.receipt.consensus_with(&self.bloom)
    }

    /// Appends the eth/68 message element: legacy as a list, typed as a byte string.
    pub(crate) fn put_message_item(&self, out: &mut Vec<u8>) {
        let enc = self.consensus_encoding();
        if self.receipt.tx_type == TxType::Legacy {
            out.extend_from_slice(&enc);
        } else {
            rlp::put_bytes(out, &enc);
        }
    }

    /// Decodes one eth/68 receipt element.
    pub(crate) fn from_message_item(
        item: Item<'_>,
        b: &mut Budget,
    ) -> Result<Self, EthDecodeError> {
        let (ty, list) = if item.is_list {
            (TxType::Legacy, item)
        } else {
            let bytes = item.bytes()?;
            let (&t, rest) = bytes
                .split_first()
                .ok_or(EthDecodeError::Invalid("empty typed receipt"))?;
            let ty = match TxType::from_u8(t) {
                Some(TxType::Legacy) | None => return Err(EthDecodeError::UnknownTxType(t)),
                Some(ty) => ty,
            };
            (ty, rlp::single_item(rest)?)
        };
        let mut f = list.list()?;
        let (receipt, bloom) = Receipt::fields(ty, &mut f, true, b)?;
        f.finish()?;
        let bloom = bloom.ok_or(EthDecodeError::Invalid("receipt bloom"))?;
        Ok(ReceiptWithBloom { receipt, bloom })
    }
}

/// Root of the receipts trie of a block's receipts.
pub fn receipts_root(receipts: &[Receipt]) -> B256 {
    let enc: Vec<Vec<u8>> = receipts.iter().map(Receipt::consensus_encoding).collect();
    ordered_trie_root(&enc)
}

/// The storage form of one block's receipts: the RLP list of their eth/69 encodings (the
/// bloom is derived from the logs, so it is not stored).
pub fn encode_receipt_list(receipts: &[Receipt]) -> Vec<u8> {
    let mut p = Vec::new();
    for r in receipts {
        p.extend_from_slice(&r.encode_eth69());
    }
    rlp::list(&p)
}

/// Decodes [`encode_receipt_list`]'s form (no trailing bytes), within the message object
/// budget.
pub fn decode_receipt_list(bytes: &[u8]) -> Result<Vec<Receipt>, EthDecodeError> {
    let mut b = Budget::new();
    let mut l = rlp::single_item(bytes)?.list()?;
    let mut out = Vec::new();
    while let Some(r) = l.next_opt()? {
        out.push(Receipt::from_eth69_item(r, &mut b)?);
    }
    Ok(out)
}
