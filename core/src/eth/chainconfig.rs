//! A chain's fork rules as go-ethereum's `params.ChainConfig` states them (v1.17.10,
//! `params/config.go`): fork blocks, fork times, the terminal total difficulty and the blob
//! schedule. It answers "is fork X active at (number, time)" and feeds the fork id and the
//! header rules. Parsing the genesis JSON is the node's job; here the rules are plain fields.

use crate::eth::chainspec::ScheduledFork;
use crate::eth::primitives::U256;

/// EIP-4844 blob parameters of one fork (`params.BlobConfig`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlobParams {
    /// Target blobs per block.
    pub target: u64,
    /// Maximum blobs per block.
    pub max: u64,
    /// Blob base fee update fraction.
    pub update_fraction: u64,
}

/// The blob schedule (`params.BlobScheduleConfig`): one entry per fork that changes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlobSchedule {
    /// From Cancun.
    pub cancun: Option<BlobParams>,
    /// From Prague.
    pub prague: Option<BlobParams>,
    /// From the BPO1..BPO5 blob-parameter-only forks, in order.
    pub bpo: [Option<BlobParams>; 5],
}

/// Fork rules of a chain. Every `Option` is "not scheduled" when `None`, active from the
/// given block number or Unix time otherwise.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainConfig {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Forks by block number, in go-ethereum's field order: (name, block).
    pub block_forks: Vec<(BlockFork, Option<u64>)>,
    /// Forks by time, in go-ethereum's field order: (name, time).
    pub time_forks: Vec<(TimeFork, Option<u64>)>,
    /// Total difficulty at which the chain moved to proof of stake.
    pub terminal_total_difficulty: Option<U256>,
    /// Blob parameters per fork.
    pub blob_schedule: BlobSchedule,
}

/// The forks go-ethereum activates by block number (`*big.Int` fields ending in `Block`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // The names are the forks'.
pub enum BlockFork {
    Homestead,
    DaoFork,
    Eip150,
    Eip155,
    Eip158,
    Byzantium,
    Constantinople,
    Petersburg,
    Istanbul,
    MuirGlacier,
    Berlin,
    London,
    ArrowGlacier,
    GrayGlacier,
    MergeNetsplit,
}

/// The forks go-ethereum activates by time (`*uint64` fields ending in `Time`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // The names are the forks'.
pub enum TimeFork {
    Shanghai,
    Cancun,
    Prague,
    Osaka,
    Bpo1,
    Bpo2,
    Bpo3,
    Bpo4,
    Bpo5,
    Amsterdam,
    Bogota,
    Ubt,
}

impl BlockFork {
    /// All of them, in `params.ChainConfig` field order.
    pub const ALL: [BlockFork; 15] = [
        BlockFork::Homestead,
        BlockFork::DaoFork,
        BlockFork::Eip150,
        BlockFork::Eip155,
        BlockFork::Eip158,
        BlockFork::Byzantium,
        BlockFork::Constantinople,
        BlockFork::Petersburg,
        BlockFork::Istanbul,
        BlockFork::MuirGlacier,
        BlockFork::Berlin,
        BlockFork::London,
        BlockFork::ArrowGlacier,
        BlockFork::GrayGlacier,
        BlockFork::MergeNetsplit,
    ];

    /// The go-ethereum genesis JSON key (`homesteadBlock`, …).
    pub fn json_key(self) -> &'static str {
        match self {
            BlockFork::Homestead => "homesteadBlock",
            BlockFork::DaoFork => "daoForkBlock",
            BlockFork::Eip150 => "eip150Block",
            BlockFork::Eip155 => "eip155Block",
            BlockFork::Eip158 => "eip158Block",
            BlockFork::Byzantium => "byzantiumBlock",
            BlockFork::Constantinople => "constantinopleBlock",
            BlockFork::Petersburg => "petersburgBlock",
            BlockFork::Istanbul => "istanbulBlock",
            BlockFork::MuirGlacier => "muirGlacierBlock",
            BlockFork::Berlin => "berlinBlock",
            BlockFork::London => "londonBlock",
            BlockFork::ArrowGlacier => "arrowGlacierBlock",
            BlockFork::GrayGlacier => "grayGlacierBlock",
            BlockFork::MergeNetsplit => "mergeNetsplitBlock",
        }
    }

    /// The name for logs.
    pub fn name(self) -> &'static str {
        match self {
            BlockFork::Homestead => "Homestead",
            BlockFork::DaoFork => "DAO",
            BlockFork::Eip150 => "EIP150",
            BlockFork::Eip155 => "EIP155",
            BlockFork::Eip158 => "EIP158",
            BlockFork::Byzantium => "Byzantium",
            BlockFork::Constantinople => "Constantinople",
            BlockFork::Petersburg => "Petersburg",
            BlockFork::Istanbul => "Istanbul",
            BlockFork::MuirGlacier => "MuirGlacier",
            BlockFork::Berlin => "Berlin",
            BlockFork::London => "London",
            BlockFork::ArrowGlacier => "ArrowGlacier",
            BlockFork::GrayGlacier => "GrayGlacier",
            BlockFork::MergeNetsplit => "MergeNetsplit",
        }
    }
}

impl TimeFork {
    /// All of them, in `params.ChainConfig` field order.
    pub const ALL: [TimeFork; 12] = [
        TimeFork::Shanghai,
        TimeFork::Cancun,
        TimeFork::Prague,
        TimeFork::Osaka,
        TimeFork::Bpo1,
        TimeFork::Bpo2,
        TimeFork::Bpo3,
        TimeFork::Bpo4,
        TimeFork::Bpo5,
        TimeFork::Amsterdam,
        TimeFork::Bogota,
        TimeFork::Ubt,
    ];

    /// The go-ethereum genesis JSON key (`shanghaiTime`, …).
    pub fn json_key(self) -> &'static str {
        match self {
            TimeFork::Shanghai => "shanghaiTime",
            TimeFork::Cancun => "cancunTime",
            TimeFork::Prague => "pragueTime",
            TimeFork::Osaka => "osakaTime",
            TimeFork::Bpo1 => "bpo1Time",
            TimeFork::Bpo2 => "bpo2Time",
            TimeFork::Bpo3 => "bpo3Time",
            TimeFork::Bpo4 => "bpo4Time",
            TimeFork::Bpo5 => "bpo5Time",
            TimeFork::Amsterdam => "amsterdamTime",
            TimeFork::Bogota => "bogotaTime",
            TimeFork::Ubt => "ubtTime",
        }
    }

    /// The name for logs.
    pub fn name(self) -> &'static str {
        match self {
            TimeFork::Shanghai => "Shanghai",
            TimeFork::Cancun => "Cancun",
            TimeFork::Prague => "Prague",
            TimeFork::Osaka => "Osaka",
            TimeFork::Bpo1 => "BPO1",
            TimeFork::Bpo2 => "BPO2",
            TimeFork::Bpo3 => "BPO3",
            TimeFork::Bpo4 => "BPO4",
            TimeFork::Bpo5 => "BPO5",
            TimeFork::Amsterdam => "Amsterdam",
            TimeFork::Bogota => "Bogota",
            TimeFork::Ubt => "UBT",
        }
    }
}

impl ChainConfig {
    /// The activation block of `fork`, if scheduled.
    pub fn block(&self, fork: BlockFork) -> Option<u64> {
        self.block_forks
            .iter()
            .find(|(f, _)| *f == fork)
            .and_then(|(_, at)| *at)
    }

    /// The activation time of `fork`, if scheduled.
    pub fn time(&self, fork: TimeFork) -> Option<u64> {
        self.time_forks
            .iter()
            .find(|(f, _)| *f == fork)
            .and_then(|(_, at)| *at)
    }

    /// Whether `fork` is active at block `number` (`isBlockForked`).
    pub fn block_active(&self, fork: BlockFork, number: u64) -> bool {
        self.block(fork).is_some_and(|at| at <= number)
    }

    /// Whether London is active at block `number`.
    pub fn is_london(&self, number: u64) -> bool {
        self.block_active(BlockFork::London, number)
    }

    /// Whether time fork `fork` is active at (`number`, `time`). As in go-ethereum
    /// (`IsShanghai` and later), every time fork also needs London active.
    pub fn time_active(&self, fork: TimeFork, number: u64, time: u64) -> bool {
        self.is_london(number) && self.time(fork).is_some_and(|at| at <= time)
    }

    /// The forks by block number that are scheduled, for the fork id (duplicates and block 0
    /// are dropped by the fork filter, as go-ethereum's `gatherForks` does).
    pub fn scheduled_block_forks(&self) -> Vec<ScheduledFork> {
        self.block_forks
            .iter()
            .filter_map(|(f, at)| {
                at.map(|at| ScheduledFork {
                    name: f.name().to_string(),
                    at,
                })
            })
            .collect()
    }

    /// The forks by time that are scheduled, for the fork id.
    pub fn scheduled_time_forks(&self) -> Vec<ScheduledFork> {
        self.time_forks
            .iter()
            .filter_map(|(f, at)| {
                at.map(|at| ScheduledFork {
                    name: f.name().to_string(),
                    at,
                })
            })
            .collect()
    }

    /// The blob parameters in force at `time`, the latest scheduled fork that has an entry
    /// in the blob schedule (`eip4844.latestBlobConfig`: BPO5 down to Cancun; Osaka keeps
    /// Prague's). `None` before Cancun or without a schedule entry.
    pub fn blob_params_at(&self, time: u64) -> Option<BlobParams> {
        // go-ethereum asks with the London block as the block number.
        let london = self.block(BlockFork::London)?;
        let bpo = [
            TimeFork::Bpo1,
            TimeFork::Bpo2,
            TimeFork::Bpo3,
            TimeFork::Bpo4,
            TimeFork::Bpo5,
        ];
        for (fork, params) in bpo.iter().zip(self.blob_schedule.bpo.iter()).rev() {
            if let Some(p) = params {
                if self.time_active(*fork, london, time) {
                    return Some(*p);
                }
            }
        }
        if let Some(p) = self.blob_schedule.prague {
            if self.time_active(TimeFork::Prague, london, time) {
                return Some(p);
            }
        }
        if let Some(p) = self.blob_schedule.cancun {
            if self.time_active(TimeFork::Cancun, london, time) {
                return Some(p);
            }
        }
        None
    }

    /// A config with every block fork through London at 0 and the given time forks.
    pub fn all_blocks_at_genesis(chain_id: u64, times: &[(TimeFork, u64)]) -> Self {
        let block_forks = BlockFork::ALL
            .iter()
            .map(|&f| {
                let at = match f {
                    BlockFork::DaoFork
                    | BlockFork::MuirGlacier
                    | BlockFork::ArrowGlacier
                    | BlockFork::GrayGlacier
                    | BlockFork::MergeNetsplit => None,
                    _ => Some(0),
                };
                (f, at)
            })
            .collect();
        let time_forks = TimeFork::ALL
            .iter()
            .map(|&f| (f, times.iter().find(|(g, _)| *g == f).map(|(_, t)| *t)))
            .collect();
        ChainConfig {
            chain_id,
            block_forks,
            time_forks,
            terminal_total_difficulty: None,
            blob_schedule: BlobSchedule::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ChainConfig {
        let mut c = ChainConfig::all_blocks_at_genesis(
            1,
            &[
                (TimeFork::Shanghai, 0),
                (TimeFork::Cancun, 60),
                (TimeFork::Prague, 120),
                (TimeFork::Osaka, 180),
                (TimeFork::Bpo1, 240),
            ],
        );
        c.blob_schedule.cancun = Some(BlobParams {
            target: 3,
            max: 6,
            update_fraction: 3_338_477,
        });
        c.blob_schedule.prague = Some(BlobParams {
            target: 6,
            max: 9,
            update_fraction: 5_007_716,
        });
        c.blob_schedule.bpo[0] = Some(BlobParams {
            target: 10,
            max: 15,
            update_fraction: 8_346_193,
        });
        c
    }

    #[test]
    fn time_forks_need_london_and_their_time() {
        let mut c = config();
        assert!(c.time_active(TimeFork::Cancun, 5, 60));
        assert!(!c.time_active(TimeFork::Cancun, 5, 59));
        assert!(!c.time_active(TimeFork::Amsterdam, 5, u64::MAX));
        c.block_forks
            .iter_mut()
            .filter(|(f, _)| *f == BlockFork::London)
            .for_each(|(_, at)| *at = Some(10));
        assert!(!c.time_active(TimeFork::Shanghai, 9, 100));
        assert!(c.time_active(TimeFork::Shanghai, 10, 100));
    }

    #[test]
    fn blob_params_follow_the_latest_fork_with_an_entry() {
        let c = config();
        assert_eq!(c.blob_params_at(59), None);
        assert_eq!(c.blob_params_at(60).map(|p| p.max), Some(6));
        assert_eq!(c.blob_params_at(120).map(|p| p.max), Some(9));
        // Osaka has no entry of its own: Prague's stays.
        assert_eq!(c.blob_params_at(200).map(|p| p.max), Some(9));
        assert_eq!(c.blob_params_at(240).map(|p| p.max), Some(15));
    }

    #[test]
    fn scheduled_forks_list_only_the_set_ones() {
        let c = config();
        let times: Vec<u64> = c.scheduled_time_forks().iter().map(|f| f.at).collect();
        assert_eq!(times, vec![0, 60, 120, 180, 240]);
        assert_eq!(c.scheduled_block_forks().len(), 10);
    }
}
