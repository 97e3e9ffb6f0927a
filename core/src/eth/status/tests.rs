use super::*;
use crate::eth::chainspec::ChainSpec;

fn local(version: EthVersion) -> (LocalStatus, ForkFilter, ChainSpec) {
    let spec = ChainSpec::mainnet();
    let head = Head {
        number: 22_000_000,
        timestamp: 1_750_000_000,
    };
    let local = LocalStatus {
        version,
        network_id: spec.network_id,
        genesis_hash: spec.genesis_hash,
        head,
    };
    (local, spec.fork_filter(), spec)
}

fn remote69(spec: &ChainSpec, head: Head) -> Status69 {
    Status69 {
        version: 69,
        network_id: 1,
        genesis_hash: spec.genesis_hash,
        fork_id: spec.fork_id(head),
        earliest_block: 0,
        latest_block: head.number,
        latest_block_hash: [9; 32],
    }
}

#[test]
fn matching_status_is_accepted_in_both_versions() {
    let (l69, filter, spec) = local(EthVersion::Eth69);
    let r = Status::Eth69(remote69(&spec, l69.head));
    assert_eq!(validate_status(&l69, &r, &filter), Ok(()));
    let (l68, filter, spec) = local(EthVersion::Eth68);
    let r = Status::Eth68(Status68 {
        version: 68,
        network_id: 1,
        total_difficulty: U256::from_u64(1 << 60),
        head_hash: [1; 32],
        genesis_hash: spec.genesis_hash,
        fork_id: spec.fork_id(l68.head),
    });
    assert_eq!(validate_status(&l68, &r, &filter), Ok(()));
    // Round trip through the wire layout of each version.
    assert_eq!(Status::decode(EthVersion::Eth68, &r.encode()).unwrap(), r);
    assert!(Status::decode(EthVersion::Eth69, &r.encode()).is_err());
}

#[test]
fn each_mismatch_has_its_own_error() {
    let (l, filter, spec) = local(EthVersion::Eth69);
    let good = remote69(&spec, l.head);
    let check = |s: Status69| validate_status(&l, &Status::Eth69(s), &filter);

    let mut s = good.clone();
    s.network_id = 5;
    assert_eq!(
        check(s),
        Err(StatusError::NetworkIdMismatch {
            remote: 5,
            local: 1
        })
    );
    let mut s = good.clone();
    s.version = 68;
    assert!(matches!(check(s), Err(StatusError::VersionMismatch { .. })));
    let mut s = good.clone();
    s.genesis_hash = [0xab; 32];
    assert_eq!(check(s), Err(StatusError::GenesisMismatch));
    let mut s = good.clone();
    s.fork_id.hash = [1, 2, 3, 4];
    assert_eq!(
        check(s),
        Err(StatusError::ForkId(ForkIdError::LocalIncompatibleOrStale))
    );
    let mut s = good.clone();
    s.earliest_block = s.latest_block + 1;
    assert_eq!(check(s), Err(StatusError::InvalidBlockRange));
    let mut s = good;
    s.latest_block_hash = [0; 32];
    assert_eq!(check(s.clone()), Err(StatusError::InvalidBlockRange));
    assert!(!StatusError::InvalidBlockRange.is_incompatibility());
    assert_eq!(
        StatusError::GenesisMismatch.disconnect_reason(),
        DisconnectReason::SubprotocolError
    );
}

#[test]
fn a_status_of_the_other_layout_is_a_version_mismatch() {
    let (l68, filter, spec) = local(EthVersion::Eth68);
    let r = Status::Eth69(remote69(&spec, l68.head));
    assert!(matches!(
        validate_status(&l68, &r, &filter),
        Err(StatusError::VersionMismatch { .. })
    ));
}

#[test]
fn status_with_extra_fields_is_refused() {
    let (l, _, spec) = local(EthVersion::Eth69);
    let enc = Status::Eth69(remote69(&spec, l.head)).encode();
    let item = crate::eth::rlp::single_item(&enc).unwrap();
    let mut payload = item.payload.to_vec();
    payload.push(0x01);
    assert!(Status::decode(EthVersion::Eth69, &crate::eth::rlp::list(&payload)).is_err());
}
