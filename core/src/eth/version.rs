//! The eth protocol versions we speak and their message counts.

/// Protocol name in Hello capabilities.
pub const ETH_PROTOCOL_NAME: &str = "eth";

/// An eth protocol version we implement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EthVersion {
    /// eth/68 (EIP-5793).
    Eth68,
    /// eth/69 (EIP-7642).
    Eth69,
    /// eth/70 (EIP-7975): receipt lists paged within a block.
    Eth70,
}

impl EthVersion {
    /// All supported versions, newest first (the order to advertise).
    pub const ALL: [EthVersion; 3] = [EthVersion::Eth70, EthVersion::Eth69, EthVersion::Eth68];

    /// The version number.
    pub fn as_u32(self) -> u32 {
        match self {
            EthVersion::Eth68 => 68,
            EthVersion::Eth69 => 69,
            EthVersion::Eth70 => 70,
        }
    }

    /// The version for a number, if supported.
    pub fn from_u32(v: u32) -> Option<Self> {
        match v {
            68 => Some(EthVersion::Eth68),
            69 => Some(EthVersion::Eth69),
            70 => Some(EthVersion::Eth70),
            _ => None,
        }
    }

    /// Message-id space the capability occupies (go-ethereum `protocolLengths`: eth/68 has
    /// 17 ids, 0x00..=0x10; eth/69 adds BlockRangeUpdate at 0x11, so 18; eth/70 changes two message shapes and
    /// adds none, so 18).
    pub fn message_count(self) -> u8 {
        match self {
            EthVersion::Eth68 => 17,
            EthVersion::Eth69 | EthVersion::Eth70 => 18,
        }
    }

    /// Whether the Status and Receipts have the eth/69 forms (no total difficulty, no
    /// blooms) and BlockRangeUpdate exists.
    pub fn is_eth69_or_later(self) -> bool {
        self >= EthVersion::Eth69
    }
}
