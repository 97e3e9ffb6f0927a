//! The pool's view of the chain: chain id, which forks are active at the head, and the
//! head's gas limit and base fee. Updated from every imported block.

use paxeer_p2p_core::eth::block::Header;
use paxeer_p2p_core::eth::ChainSpec;
use ruint::aliases::U256 as Wei;

/// The forks whose rules the pool applies, oldest first. A fork counts as active when it,
/// or any later fork in this list, is scheduled at or before the head: a chain spec may
/// list only the forks it cares about.
const FORK_ORDER: [&str; 7] = [
    "Istanbul", "Berlin", "London", "Shanghai", "Cancun", "Prague", "Osaka",
];

/// Which transaction rules are in force (go-ethereum `params.Rules`, the parts the pool
/// reads). Amsterdam repricings are not modelled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Forks {
    /// EIP-2028: 16 gas per non-zero calldata byte (68 before).
    pub istanbul: bool,
    /// EIP-2930 access-list transactions.
    pub berlin: bool,
    /// EIP-1559 dynamic-fee transactions.
    pub london: bool,
    /// EIP-3860 init code limit and word cost.
    pub shanghai: bool,
    /// EIP-4844 blob transactions.
    pub cancun: bool,
    /// EIP-7702 set-code transactions, EIP-7623 calldata floor.
    pub prague: bool,
    /// EIP-7825 per-transaction gas cap, EIP-7594 cell-proof sidecars only.
    pub osaka: bool,
}

impl Forks {
    /// Every fork active (tests, and chains that start at the latest rules).
    pub fn all() -> Self {
        Forks {
            istanbul: true,
            berlin: true,
            london: true,
            shanghai: true,
            cancun: true,
            prague: true,
            osaka: true,
        }
    }

    /// The forks of `spec` active at block `number` with `timestamp`.
    pub fn at(spec: &ChainSpec, number: u64, timestamp: u64) -> Self {
        let mut latest: Option<usize> = None;
        let scheduled = spec
            .fork_blocks
            .iter()
            .filter(|f| f.at <= number)
            .chain(spec.fork_times.iter().filter(|f| f.at <= timestamp));
        for f in scheduled {
            if let Some(i) = FORK_ORDER
                .iter()
                .position(|n| n.eq_ignore_ascii_case(&f.name))
            {
                latest = Some(latest.map_or(i, |l| l.max(i)));
            }
        }
        let on = |name: &str| {
            let idx = FORK_ORDER.iter().position(|n| *n == name);
            matches!((idx, latest), (Some(i), Some(l)) if i <= l)
        };
        Forks {
            istanbul: on("Istanbul"),
            berlin: on("Berlin"),
            london: on("London"),
            shanghai: on("Shanghai"),
            cancun: on("Cancun"),
            prague: on("Prague"),
            osaka: on("Osaka"),
        }
    }
}

/// What the pool knows of the chain head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolEnv {
    /// EIP-155 chain id transactions must be signed for.
    pub chain_id: u64,
    /// Rules at the head.
    pub forks: Forks,
    /// The head's gas limit: no transaction may ask for more.
    pub gas_limit: u64,
    /// The head's base fee. Informational: like go-ethereum's pools we admit fee caps
    /// below it (such transactions wait for the base fee to fall), so it is not checked.
    pub base_fee: Option<Wei>,
}

impl PoolEnv {
    /// The environment for `spec` at `head`.
    pub fn at_head(spec: &ChainSpec, head: &Header) -> Self {
        PoolEnv {
            chain_id: spec.chain_id,
            forks: Forks::at(spec, head.number, head.timestamp),
            gas_limit: head.gas_limit,
            base_fee: head
                .base_fee_per_gas
                .as_ref()
                .map(|b| Wei::from_be_bytes(b.0)),
        }
    }

    /// An environment with every fork active and `gas_limit` (tests and tools).
    pub fn latest(chain_id: u64, gas_limit: u64) -> Self {
        PoolEnv {
            chain_id,
            forks: Forks::all(),
            gas_limit,
            base_fee: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forks_follow_the_schedule_and_imply_earlier_ones() {
        let mut spec = ChainSpec::mainnet();
        let f = Forks::at(&spec, 12_965_000, 0);
        assert!(f.berlin && f.london && f.istanbul);
        assert!(!f.shanghai && !f.cancun);
        let f = Forks::at(&spec, 20_000_000, 1_746_612_311);
        assert!(f.cancun && f.prague && !f.osaka);
        let f = Forks::at(&spec, 12_000_000, 0);
        assert!(f.istanbul && !f.berlin);
        // A spec listing only Prague still has London rules once Prague is active.
        spec.fork_blocks.clear();
        spec.fork_times = vec![paxeer_p2p_core::eth::chainspec::ScheduledFork {
            name: "prague".into(),
            at: 10,
        }];
        assert_eq!(Forks::at(&spec, 0, 9), Forks::default());
        let f = Forks::at(&spec, 0, 10);
        assert!(f.london && f.cancun && f.prague && !f.osaka);
    }
}
