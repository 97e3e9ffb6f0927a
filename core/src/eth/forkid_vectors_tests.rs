//! EIP-2124 vectors: go-ethereum `core/forkid/forkid_test.go` at
//! 02b73d4ea7181464175e0a6cbecc0a3a2655a562 and the EIP-2124 text (ethereum/EIPs
//! f767a1e8078e17c9b381a91d35a09492189ede1b), transcribed from the shared vector file.

use crate::eth::chainspec::ChainSpec;
use crate::eth::forkid::{crc32_update, ForkFilter, ForkId, ForkIdError, Head};

fn b4(s: &str) -> [u8; 4] {
    hex::decode(s).unwrap().try_into().unwrap()
}

fn b32(s: &str) -> [u8; 32] {
    hex::decode(s).unwrap().try_into().unwrap()
}

/// Creation cases `(head, time, hash, next)`.
const CREATION_MAINNET: &[(u64, u64, &str, u64)] = &[
    (0, 0, "fc64ec04", 1150000),                    // Unsynced
    (1149999, 0, "fc64ec04", 1150000),              // Last Frontier block
    (1150000, 0, "97c2c34c", 1920000),              // First Homestead block
    (1919999, 0, "97c2c34c", 1920000),              // Last Homestead block
    (1920000, 0, "91d1f948", 2463000),              // First DAO block
    (2462999, 0, "91d1f948", 2463000),              // Last DAO block
    (2463000, 0, "7a64da13", 2675000),              // First Tangerine block
    (2674999, 0, "7a64da13", 2675000),              // Last Tangerine block
    (2675000, 0, "3edd5b10", 4370000),              // First Spurious block
    (4369999, 0, "3edd5b10", 4370000),              // Last Spurious block
    (4370000, 0, "a00bc324", 7280000),              // First Byzantium block
    (7279999, 0, "a00bc324", 7280000),              // Last Byzantium block
    (7280000, 0, "668db0af", 9069000), // First and last Constantinople, first Petersburg block
    (9068999, 0, "668db0af", 9069000), // Last Petersburg block
    (9069000, 0, "879d6e30", 9200000), // First Istanbul and first Muir Glacier block
    (9199999, 0, "879d6e30", 9200000), // Last Istanbul and first Muir Glacier block
    (9200000, 0, "e029e991", 12244000), // First Muir Glacier block
    (12243999, 0, "e029e991", 12244000), // Last Muir Glacier block
    (12244000, 0, "0eb440f6", 12965000), // First Berlin block
    (12964999, 0, "0eb440f6", 12965000), // Last Berlin block
    (12965000, 0, "b715077d", 13773000), // First London block
    (13772999, 0, "b715077d", 13773000), // Last London block
    (13773000, 0, "20c327fc", 15050000), // First Arrow Glacier block
    (15049999, 0, "20c327fc", 15050000), // Last Arrow Glacier block
    (15050000, 0, "f0afd0e3", 1681338455), // First Gray Glacier block
    (20000000, 1681338454, "f0afd0e3", 1681338455), // Last Gray Glacier block
    (20000000, 1681338455, "dce96c2d", 1710338135), // First Shanghai block
    (30000000, 1710338134, "dce96c2d", 1710338135), // Last Shanghai block
    (30000000, 1710338135, "9f3d2254", 1746612311), // First Cancun block
    (30000000, 1746022486, "9f3d2254", 1746612311), // Last Cancun block
    (30000000, 1746612311, "c376cf8b", 1764798551), // First Prague block
    (30000000, 1764798550, "c376cf8b", 1764798551), // Last Prague block
    (30000000, 1764798551, "5167e2a6", 1765290071), // First Osaka block
    (30000000, 1765290070, "5167e2a6", 1765290071), // Last Osaka block
    (30000000, 1765290071, "cba2a1c0", 1767747671), // First BPO1 block
    (30000000, 1767747670, "cba2a1c0", 1767747671), // Last BPO1 block
    (30000000, 1767747671, "07c9462e", 0), // First BPO2 block
    (50000000, 2000000000, "07c9462e", 0), // Future BPO2 block
];

/// Effective fork lists of mainnet after dedup (blocks, times).
const EFFECTIVE_MAINNET: (&[u64], &[u64]) = (
    &[
        1150000, 1920000, 2463000, 2675000, 4370000, 7280000, 9069000, 9200000, 12244000, 12965000,
        13773000, 15050000,
    ],
    &[
        1681338455, 1710338135, 1746612311, 1764798551, 1765290071, 1767747671,
    ],
);

/// Creation cases `(head, time, hash, next)`.
const CREATION_SEPOLIA: &[(u64, u64, &str, u64)] = &[
    (0, 0, "fe3366e7", 1735371), // Unsynced, last Frontier, Homestead, Tangerine, Spurious, Byzantium, Constantinople, Petersburg, Istanbul, Berlin and first London block
    (1735370, 0, "fe3366e7", 1735371), // Last London block
    (1735371, 0, "b96cbd13", 1677557088), // First MergeNetsplit block
    (1735372, 1677557087, "b96cbd13", 1677557088), // Last MergeNetsplit block
    (1735372, 1677557088, "f7f9bc08", 1706655072), // First Shanghai block
    (1735372, 1706655071, "f7f9bc08", 1706655072), // Last Shanghai block
    (1735372, 1706655072, "88cf81d9", 1741159776), // First Cancun block
    (1735372, 1741159775, "88cf81d9", 1741159776), // Last Cancun block
    (1735372, 1741159776, "ed88b5fd", 1760427360), // First Prague block
    (1735372, 1760427359, "ed88b5fd", 1760427360), // Last Prague block
    (1735372, 1760427360, "e2ae4999", 1761017184), // First Osaka block
    (1735372, 1761017183, "e2ae4999", 1761017184), // Last Osaka block
    (1735372, 1761017184, "56078a1e", 1761607008), // First BPO1 block
    (1735372, 1761607007, "56078a1e", 1761607008), // Last BPO1 block
    (1735372, 1761607008, "268956b6", 0), // First BPO2 block
    (1735372, 2000000000, "268956b6", 0), // Future BPO2 block
];

/// Effective fork lists of sepolia after dedup (blocks, times).
const EFFECTIVE_SEPOLIA: (&[u64], &[u64]) = (
    &[1735371],
    &[
        1677557088, 1706655072, 1741159776, 1760427360, 1761017184, 1761607008,
    ],
);

/// Creation cases `(head, time, hash, next)`.
const CREATION_HOLESKY: &[(u64, u64, &str, u64)] = &[
    (0, 0, "c61a6098", 1696000704), // Unsynced, last Frontier, Homestead, Tangerine, Spurious, Byzantium, Constantinople, Petersburg, Istanbul, Berlin, London, Paris block
    (123, 0, "c61a6098", 1696000704), // First MergeNetsplit block
    (123, 1696000704, "fd4f016b", 1707305664), // First Shanghai block
    (123, 1707305663, "fd4f016b", 1707305664), // Last Shanghai block
    (123, 1707305664, "9b192ad0", 1740434112), // First Cancun block
    (123, 1740434111, "9b192ad0", 1740434112), // Last Cancun block
    (123, 1740434112, "dfbd9bed", 1759308480), // First Prague block
    (123, 1759308479, "dfbd9bed", 1759308480), // Last Prague block
    (123, 1759308480, "783def52", 1759800000), // First Osaka block
    (123, 1759799999, "783def52", 1759800000), // Last Osaka block
    (123, 1759800000, "a280a45c", 1760389824), // First BPO1 block
    (123, 1760389823, "a280a45c", 1760389824), // Last BPO1 block
    (123, 1760389824, "9bc6cb31", 0), // First BPO2 block
    (123, 2000000000, "9bc6cb31", 0), // Future BPO1 block
];

/// Effective fork lists of holesky after dedup (blocks, times).
const EFFECTIVE_HOLESKY: (&[u64], &[u64]) = (
    &[],
    &[
        1696000704, 1707305664, 1740434112, 1759308480, 1759800000, 1760389824,
    ],
);

/// Creation cases `(head, time, hash, next)`.
const CREATION_HOODI: &[(u64, u64, &str, u64)] = &[
    (0, 0, "bef71d30", 1742999832), // Unsynced, last Frontier, Homestead, Tangerine, Spurious, Byzantium, Constantinople, Petersburg, Istanbul, Berlin, London, Paris, Shanghai, Cancun block
    (123, 1742999831, "bef71d30", 1742999832), // Last Cancun block
    (123, 1742999832, "0929e24e", 1761677592), // First Prague block
    (123, 1761677591, "0929e24e", 1761677592), // Last Prague block
    (123, 1761677592, "e7e0e7ff", 1762365720), // First Osaka block
    (123, 1762365719, "e7e0e7ff", 1762365720), // Last Osaka block
    (123, 1762365720, "3893353e", 1762955544), // First BPO1 block
    (123, 1762955543, "3893353e", 1762955544), // Last BPO1 block
    (123, 1762955544, "23aa1351", 0), // First BPO2 block
    (123, 2000000000, "23aa1351", 0), // Future BPO2 block
];

/// Effective fork lists of hoodi after dedup (blocks, times).
const EFFECTIVE_HOODI: (&[u64], &[u64]) = (&[], &[1742999832, 1761677592, 1762365720, 1762955544]);

/// Validation cases `(legacy_no_time_forks, head, time, remote_hash, remote_next, error)`.
/// One validation row.
type ValidationCase = (bool, u64, u64, &'static str, u64, Option<ForkIdError>);

const VALIDATION: &[ValidationCase] = &[
    (true, 15050000, 0, "f0afd0e3", 0, None), // Local is mainnet Gray Glacier, remote announces the same. No future fork is announced.
    (true, 15050000, 0, "f0afd0e3", 18446744073709551615, None), // Local is mainnet Gray Glacier, remote announces the same. Remote also announces a next fork at block 0xffffffff, but that is uncertain.
    (true, 7279999, 0, "a00bc324", 0, None), // Local is mainnet currently in Byzantium only (so it's aware of Petersburg), remote announces also Byzantium, but it's not yet aware of Petersburg (e.g. non updated node before the fork). In this case we don't know if Petersburg passed yet or not.
    (true, 7279999, 0, "a00bc324", 7280000, None), // Local is mainnet currently in Byzantium only (so it's aware of Petersburg), remote announces also Byzantium, and it's also aware of Petersburg (e.g. updated node before the fork). We don't know if Petersburg passed yet (will pass) or not.
    (true, 7279999, 0, "a00bc324", 18446744073709551615, None), // Local is mainnet currently in Byzantium only (so it's aware of Petersburg), remote announces also Byzantium, and it's also aware of some random fork (e.g. misconfigured Petersburg). As neither forks passed at neither nodes, they may mismatch, but we still connect for now.
    (true, 7280000, 0, "a00bc324", 7280000, None), // Local is mainnet exactly on Petersburg, remote announces Byzantium + knowledge about Petersburg. Remote is simply out of sync, accept.
    (true, 7987396, 0, "a00bc324", 7280000, None), // Local is mainnet Petersburg, remote announces Byzantium + knowledge about Petersburg. Remote is simply out of sync, accept.
    (true, 7987396, 0, "3edd5b10", 4370000, None), // Local is mainnet Petersburg, remote announces Spurious + knowledge about Byzantium. Remote is definitely out of sync. It may or may not need the Petersburg update, we don't know yet.
    (true, 7279999, 0, "668db0af", 0, None), // Local is mainnet Byzantium, remote announces Petersburg. Local is out of sync, accept.
    (true, 4369999, 0, "a00bc324", 0, None), // Local is mainnet Spurious, remote announces Byzantium, but is not aware of Petersburg. Local out of sync. Local also knows about a future fork, but that is uncertain yet.
    (
        true,
        7987396,
        0,
        "a00bc324",
        0,
        Some(ForkIdError::RemoteStale),
    ), // Local is mainnet Petersburg. remote announces Byzantium but is not aware of further forks. Remote needs software update.
    (
        true,
        7987396,
        0,
        "5cddc0e1",
        0,
        Some(ForkIdError::LocalIncompatibleOrStale),
    ), // Local is mainnet Petersburg, and isn't aware of more forks. Remote announces Petersburg + 0xffffffff. Local needs software update, reject.
    (
        true,
        7279999,
        0,
        "5cddc0e1",
        0,
        Some(ForkIdError::LocalIncompatibleOrStale),
    ), // Local is mainnet Byzantium, and is aware of Petersburg. Remote announces Petersburg + 0xffffffff. Local needs software update, reject.
    (
        true,
        7987396,
        0,
        "afec6b27",
        0,
        Some(ForkIdError::LocalIncompatibleOrStale),
    ), // Local is mainnet Petersburg, remote is Rinkeby Petersburg.
    (
        true,
        88888888,
        0,
        "f0afd0e3",
        88888888,
        Some(ForkIdError::LocalIncompatibleOrStale),
    ), // Local is mainnet Gray Glacier, far in the future. Remote announces Gopherium (non existing fork) at some future block 88888888, for itself, but past block for local. Local is incompatible. This case detects non-upgraded nodes with majority hash power (typical Ropsten mess).
    (
        true,
        7279999,
        0,
        "a00bc324",
        7279999,
        Some(ForkIdError::LocalIncompatibleOrStale),
    ), // Local is mainnet Byzantium. Remote is also in Byzantium, but announces Gopherium (non existing fork) at block 7279999, before Petersburg. Local is incompatible.
    (false, 15050000, 0, "f0afd0e3", 0, None), // Local is mainnet currently in Gray Glacier only (so it's aware of Shanghai), remote announces also Gray Glacier, but it's not yet aware of Shanghai (e.g. non updated node before the fork). In this case we don't know if Shanghai passed yet or not.
    (false, 15050000, 0, "f0afd0e3", 1681338455, None), // Local is mainnet currently in Gray Glacier only (so it's aware of Shanghai), remote announces also Gray Glacier, and it's also aware of Shanghai (e.g. updated node before the fork). We don't know if Shanghai passed yet (will pass) or not.
    (false, 15050000, 0, "f0afd0e3", 18446744073709551615, None), // Local is mainnet currently in Gray Glacier only (so it's aware of Shanghai), remote announces also Gray Glacier, and it's also aware of some random fork (e.g. misconfigured Shanghai). As neither forks passed at neither nodes, they may mismatch, but we still connect for now.
    (false, 20000000, 1681338455, "f0afd0e3", 1681338455, None), // Local is mainnet exactly on Shanghai, remote announces Gray Glacier + knowledge about Shanghai. Remote is simply out of sync, accept.
    (false, 20123456, 1681338456, "f0afd0e3", 1681338455, None), // Local is mainnet Shanghai, remote announces Gray Glacier + knowledge about Shanghai. Remote is simply out of sync, accept.
    (false, 20000000, 1681338455, "20c327fc", 15050000, None), // Local is mainnet Shanghai, remote announces Arrow Glacier + knowledge about Gray Glacier. Remote is definitely out of sync. It may or may not need the Shanghai update, we don't know yet.
    (false, 15050000, 0, "dce96c2d", 0, None), // Local is mainnet Gray Glacier, remote announces Shanghai. Local is out of sync, accept.
    (false, 13773000, 0, "f0afd0e3", 0, None), // Local is mainnet Arrow Glacier, remote announces Gray Glacier, but is not aware of Shanghai. Local out of sync. Local also knows about a future fork, but that is uncertain yet.
    (
        false,
        20000000,
        1681338455,
        "f0afd0e3",
        0,
        Some(ForkIdError::RemoteStale),
    ), // Local is mainnet Shanghai. remote announces Gray Glacier but is not aware of further forks. Remote needs software update.
    (
        false,
        15050000,
        0,
        "27a60dbd",
        0,
        Some(ForkIdError::LocalIncompatibleOrStale),
    ), // Local is mainnet Gray Glacier, and isn't aware of more forks. Remote announces Gray Glacier + 0xffffffff. Local needs software update, reject.
    (
        false,
        15050000,
        0,
        "726f5618",
        0,
        Some(ForkIdError::LocalIncompatibleOrStale),
    ), // Local is mainnet Gray Glacier, and is aware of Shanghai. Remote announces Shanghai + 0xffffffff. Local needs software update, reject.
    (
        false,
        888888888,
        1660000000,
        "f0afd0e3",
        1660000000,
        Some(ForkIdError::LocalIncompatibleOrStale),
    ), // Local is mainnet Gray Glacier, far in the future. Remote announces Gopherium (non existing fork) at some future timestamp 8888888888, for itself, but past block for local. Local is incompatible. This case detects non-upgraded nodes with majority hash power (typical Ropsten mess).
    (
        false,
        19999999,
        1667999999,
        "f0afd0e3",
        1667999999,
        Some(ForkIdError::LocalIncompatibleOrStale),
    ), // Local is mainnet Gray Glacier. Remote is also in Gray Glacier, but announces Gopherium (non existing fork) at block 7279999, before Shanghai. Local is incompatible.
    (false, 20000000, 1681338455, "dce96c2d", 0, None), // Local is mainnet Shanghai, remote announces the same. No future fork is announced.
    (
        false,
        20000000,
        1681338455,
        "dce96c2d",
        18446744073709551615,
        None,
    ), // Local is mainnet Shanghai, remote announces the same. Remote also announces a next fork at time 0xffffffff, but that is uncertain.
    (false, 20000000, 1668000000, "dce96c2d", 0, None), // Local is mainnet currently in Shanghai only (so it's aware of Cancun), remote announces also Shanghai, but it's not yet aware of Cancun (e.g. non updated node before the fork). In this case we don't know if Cancun passed yet or not.
    (false, 20000000, 1668000000, "dce96c2d", 1710338135, None), // Local is mainnet currently in Shanghai only (so it's aware of Cancun), remote announces also Shanghai, and it's also aware of Cancun (e.g. updated node before the fork). We don't know if Cancun passed yet (will pass) or not.
    (
        false,
        20000000,
        1668000000,
        "dce96c2d",
        18446744073709551615,
        None,
    ), // Local is mainnet currently in Shanghai only (so it's aware of Cancun), remote announces also Shanghai, and it's also aware of some random fork (e.g. misconfigured Cancun). As neither forks passed at neither nodes, they may mismatch, but we still connect for now.
    (false, 21000000, 1710338135, "dce96c2d", 1710338135, None), // Local is mainnet exactly on Cancun, remote announces Shanghai + knowledge about Cancun. Remote is simply out of sync, accept.
    (false, 21123456, 1710338136, "dce96c2d", 1710338135, None), // Local is mainnet Cancun, remote announces Shanghai + knowledge about Cancun. Remote is simply out of sync, accept.
    (false, 0, 0, "3edd5b10", 1710338135, None), // Local is mainnet Prague, remote announces Shanghai + knowledge about Cancun. Remote is definitely out of sync. It may or may not need the Prague update, we don't know yet.
    (false, 21000000, 1700000000, "9f3d2254", 0, None), // Local is mainnet Shanghai, remote announces Cancun. Local is out of sync, accept.
    (false, 21000000, 1678000000, "c376cf8b", 0, None), // Local is mainnet Shanghai, remote announces Cancun, but is not aware of Prague. Local out of sync. Local also knows about a future fork, but that is uncertain yet.
    (
        false,
        21000000,
        1710338135,
        "dce96c2d",
        0,
        Some(ForkIdError::RemoteStale),
    ), // Local is mainnet Cancun. remote announces Shanghai but is not aware of further forks. Remote needs software update.
    (
        false,
        20000000,
        1681338455,
        "726f5618",
        0,
        Some(ForkIdError::LocalIncompatibleOrStale),
    ), // Local is mainnet Shanghai, and isn't aware of more forks. Remote announces Shanghai + 0xffffffff. Local needs software update, reject.
    (
        false,
        20000000,
        1668000000,
        "43b8ae27",
        0,
        Some(ForkIdError::LocalIncompatibleOrStale),
    ), // Local is mainnet Shanghai, and is aware of Cancun. Remote announces Cancun + 0xffffffff. Local needs software update, reject.
    (
        false,
        20000000,
        1681338455,
        "12345678",
        0,
        Some(ForkIdError::LocalIncompatibleOrStale),
    ), // Local is mainnet Shanghai, remote is random Shanghai.
    (
        false,
        88888888,
        8888888888,
        "07c9462e",
        8888888888,
        Some(ForkIdError::LocalIncompatibleOrStale),
    ), // Local is mainnet BPO2, far in the future. Remote announces Gopherium (non existing fork) at some future timestamp 8888888888, for itself, but past block for local. Local is incompatible. This case detects non-upgraded nodes with majority hash power (typical Ropsten mess).
    (
        false,
        20999999,
        1699999999,
        "71147644",
        1700000000,
        Some(ForkIdError::LocalIncompatibleOrStale),
    ), // Local is mainnet Shanghai. Remote is also in Shanghai, but announces Gopherium (non existing fork) at timestamp 1668000000, before Cancun. Local is incompatible.
];

/// Creation cases `(head, time, hash, next)`.
const EIP2124_CREATION: &[(u64, u64, &str, u64)] = &[
    (0, 0, "fc64ec04", 1150000),       // Unsynced
    (1149999, 0, "fc64ec04", 1150000), // Last Frontier block
    (1150000, 0, "97c2c34c", 1920000), // First Homestead block
    (1919999, 0, "97c2c34c", 1920000), // Last Homestead block
    (1920000, 0, "91d1f948", 2463000), // First DAO block
    (2462999, 0, "91d1f948", 2463000), // Last DAO block
    (2463000, 0, "7a64da13", 2675000), // First Tangerine block
    (2674999, 0, "7a64da13", 2675000), // Last Tangerine block
    (2675000, 0, "3edd5b10", 4370000), // First Spurious block
    (4369999, 0, "3edd5b10", 4370000), // Last Spurious block
    (4370000, 0, "a00bc324", 7280000), // First Byzantium block
    (7279999, 0, "a00bc324", 7280000), // Last Byzantium block
    (7280000, 0, "668db0af", 0),       // First and last Constantinople, first Petersburg block
    (7987396, 0, "668db0af", 0),       // Today Petersburg block
];

/// EIP-2124 validation cases `(head, remote_hash, remote_next, error)` (mainnet capped at Petersburg).
const EIP2124_VALIDATION: &[(u64, &str, u64, Option<ForkIdError>)] = &[
    (7987396, "668db0af", 0, None), // Local is mainnet Petersburg, remote announces the same. No future fork is announced.
    (7987396, "668db0af", 18446744073709551615, None), // Local is mainnet Petersburg, remote announces the same. Remote also announces a next fork at block 0xffffffff, but that is uncertain.
    (7279999, "a00bc324", 0, None), // Local is mainnet currently in Byzantium only (so it's aware of Petersburg), remote announces also Byzantium, but it's not yet aware of Petersburg (e.g. non updated node before the fork). In this case we don't know if Petersburg passed yet or not.
    (7279999, "a00bc324", 7280000, None), // Local is mainnet currently in Byzantium only (so it's aware of Petersburg), remote announces also Byzantium, and it's also aware of Petersburg (e.g. updated node before the fork). We don't know if Petersburg passed yet (will pass) or not.
    (7279999, "a00bc324", 18446744073709551615, None), // Local is mainnet currently in Byzantium only (so it's aware of Petersburg), remote announces also Byzantium, and it's also aware of some random fork (e.g. misconfigured Petersburg). As neither forks passed at neither nodes, they may mismatch, but we still connect for now.
    (7987396, "a00bc324", 7280000, None), // Local is mainnet Petersburg, remote announces Byzantium + knowledge about Petersburg. Remote is simply out of sync, accept.
    (7987396, "3edd5b10", 4370000, None), // Local is mainnet Petersburg, remote announces Spurious + knowledge about Byzantium. Remote is definitely out of sync. It may or may not need the Petersburg update, we don't know yet.
    (7279999, "668db0af", 0, None), // Local is mainnet Byzantium, remote announces Petersburg. Local is out of sync, accept.
    (4369999, "a00bc324", 0, None), // Local is mainnet Spurious, remote announces Byzantium, but is not aware of Petersburg. Local out of sync. Local also knows about a future fork, but that is uncertain yet.
    (7987396, "a00bc324", 0, Some(ForkIdError::RemoteStale)), // Local is mainnet Petersburg. remote announces Byzantium but is not aware of further forks. Remote needs software update.
    (
        7987396,
        "5cddc0e1",
        0,
        Some(ForkIdError::LocalIncompatibleOrStale),
    ), // Local is mainnet Petersburg, and isn't aware of more forks. Remote announces Petersburg + 0xffffffff. Local needs software update, reject.
    (
        7279999,
        "5cddc0e1",
        0,
        Some(ForkIdError::LocalIncompatibleOrStale),
    ), // Local is mainnet Byzantium, and is aware of Petersburg. Remote announces Petersburg + 0xffffffff. Local needs software update, reject.
    (
        7987396,
        "afec6b27",
        0,
        Some(ForkIdError::LocalIncompatibleOrStale),
    ), // Local is mainnet Petersburg, remote is Rinkeby Petersburg.
    (
        88888888,
        "668db0af",
        88888888,
        Some(ForkIdError::LocalIncompatibleOrStale),
    ), // Local is mainnet Petersburg, far in the future. Remote announces Gopherium (non existing fork) at some future block 88888888, for itself, but past block for local. Local is incompatible. This case detects non-upgraded nodes with majority hash power (typical Ropsten mess).
    (
        7279999,
        "a00bc324",
        7279999,
        Some(ForkIdError::LocalIncompatibleOrStale),
    ), // Local is mainnet Byzantium. Remote is also in Byzantium, but announces Gopherium (non existing fork) at block 7279999, before Petersburg. Local is incompatible.
];

/// ropsten (EIP-2124 text): genesis hash and effective fork blocks.
const ROPSTEN_GENESIS: &str = "41941023680923e0fe4d74a34bdac8141f2540e3ae90623718e47d66d1ca4a2d";
const ROPSTEN_FORKS: &[u64] = &[10, 1700000, 4230000, 4939394, 6485846];
/// Creation cases `(head, time, hash, next)`.
const ROPSTEN_CREATION: &[(u64, u64, &str, u64)] = &[
    (0, 0, "30c7ddbc", 10), // Unsynced, last Frontier, Homestead and first Tangerine block
    (9, 0, "30c7ddbc", 10), // Last Tangerine block
    (10, 0, "63760190", 1700000), // First Spurious block
    (1699999, 0, "63760190", 1700000), // Last Spurious block
    (1700000, 0, "3ea159c7", 4230000), // First Byzantium block
    (4229999, 0, "3ea159c7", 4230000), // Last Byzantium block
    (4230000, 0, "97b544f3", 4939394), // First Constantinople block
    (4939393, 0, "97b544f3", 4939394), // Last Constantinople block
    (4939394, 0, "d6e2149b", 6485846), // First Petersburg block
    (6485845, 0, "d6e2149b", 6485846), // Last Petersburg block
    (6485846, 0, "4bc66396", 0), // First Istanbul block
    (7500000, 0, "4bc66396", 0), // Future Istanbul block
];

/// rinkeby (EIP-2124 text): genesis hash and effective fork blocks.
const RINKEBY_GENESIS: &str = "6341fd3daf94b748c72ced5a5b26028f2474f5f00d824504e4fa37a75767e177";
const RINKEBY_FORKS: &[u64] = &[1, 2, 3, 1035301, 3660663, 4321234, 5435345];
/// Creation cases `(head, time, hash, next)`.
const RINKEBY_CREATION: &[(u64, u64, &str, u64)] = &[
    (0, 0, "3b8e0691", 1),             // Unsynced, last Frontier block
    (1, 0, "60949295", 2),             // First and last Homestead block
    (2, 0, "8bde40dd", 3),             // First and last Tangerine block
    (3, 0, "cb3a64bb", 1035301),       // First Spurious block
    (1035300, 0, "cb3a64bb", 1035301), // Last Spurious block
    (1035301, 0, "8d748b57", 3660663), // First Byzantium block
    (3660662, 0, "8d748b57", 3660663), // Last Byzantium block
    (3660663, 0, "e49cab14", 4321234), // First Constantinople block
    (4321233, 0, "e49cab14", 4321234), // Last Constantinople block
    (4321234, 0, "afec6b27", 5435345), // First Petersburg block
    (5435344, 0, "afec6b27", 5435345), // Last Petersburg block
    (5435345, 0, "cbdb8838", 0),       // First Istanbul block
    (6000000, 0, "cbdb8838", 0),       // Future Istanbul block
];

/// goerli (EIP-2124 text): genesis hash and effective fork blocks.
const GOERLI_GENESIS: &str = "bf7e331f7f7c1dd2e05159666b3bf8bc7a8a3a9eb1d518969eab529dd9b88c1a";
const GOERLI_FORKS: &[u64] = &[1561651];
/// Creation cases `(head, time, hash, next)`.
const GOERLI_CREATION: &[(u64, u64, &str, u64)] = &[
    (0, 0, "a3f5ab08", 1561651), // Unsynced, last Frontier, Homestead, Tangerine, Spurious, Byzantium, Constantinople and first Petersburg block
    (1561650, 0, "a3f5ab08", 1561651), // Last Petersburg block
    (1561651, 0, "c25efa5c", 0), // First Istanbul block
    (2000000, 0, "c25efa5c", 0), // Future Istanbul block
];

/// Encoding cases `(hash, next, rlp)`.
const ENCODING: &[(&str, u64, &str)] = &[
    ("00000000", 0, "c6840000000080"),
    ("deadbeef", 3135097598, "ca84deadbeef84baddcafe"),
    (
        "ffffffff",
        18446744073709551615,
        "ce84ffffffff88ffffffffffffffff",
    ),
];

/// `TestTimeBasedForkInGenesis` genesis time.
const TIME_FORK_GENESIS_TIME: u64 = 1690475657;

fn check_creation(filter: &ForkFilter, cases: &[(u64, u64, &str, u64)], chain: &str) {
    for &(number, timestamp, hash, next) in cases {
        let got = filter.fork_id(Head { number, timestamp });
        assert_eq!(
            got,
            ForkId {
                hash: b4(hash),
                next
            },
            "{chain} at block {number} time {timestamp}"
        );
    }
}

#[test]
fn builtin_chain_specs_create_the_upstream_fork_ids() {
    for (spec, cases, effective) in [
        (ChainSpec::mainnet(), CREATION_MAINNET, EFFECTIVE_MAINNET),
        (ChainSpec::sepolia(), CREATION_SEPOLIA, EFFECTIVE_SEPOLIA),
        (ChainSpec::holesky(), CREATION_HOLESKY, EFFECTIVE_HOLESKY),
        (ChainSpec::hoodi(), CREATION_HOODI, EFFECTIVE_HOODI),
    ] {
        check_creation(&spec.fork_filter(), cases, &spec.name);
        // The deduplicated schedule equals the one upstream derives.
        let direct = ForkFilter::new(
            &spec.genesis_hash,
            spec.genesis_timestamp,
            effective.0,
            effective.1,
        );
        assert_eq!(direct, spec.fork_filter(), "{}", spec.name);
    }
}

/// Mainnet with only its block forks (go-ethereum's legacy validation config).
fn mainnet_legacy() -> ForkFilter {
    ForkFilter::new(&b32(MAINNET_HASH), 0, EFFECTIVE_MAINNET.0, &[])
}

const MAINNET_HASH: &str = "d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3";

#[test]
fn validation_follows_every_upstream_case() {
    let full = ChainSpec::mainnet().fork_filter();
    let legacy = mainnet_legacy();
    for &(is_legacy, number, timestamp, hash, next, want) in VALIDATION {
        let filter = if is_legacy { &legacy } else { &full };
        let got = filter.validate(
            Head { number, timestamp },
            ForkId {
                hash: b4(hash),
                next,
            },
        );
        assert_eq!(
            got.err(),
            want,
            "head {number} time {timestamp} remote {hash}/{next}"
        );
    }
}

/// Mainnet capped at Petersburg, as in the EIP text.
fn mainnet_petersburg() -> ForkFilter {
    ForkFilter::new(
        &b32(MAINNET_HASH),
        0,
        &[
            1_150_000, 1_920_000, 2_463_000, 2_675_000, 4_370_000, 7_280_000,
        ],
        &[],
    )
}

#[test]
fn eip2124_text_cases_hold() {
    let filter = mainnet_petersburg();
    check_creation(&filter, EIP2124_CREATION, "mainnet/petersburg");
    for &(number, hash, next, want) in EIP2124_VALIDATION {
        let got = filter.validate(
            Head {
                number,
                timestamp: 0,
            },
            ForkId {
                hash: b4(hash),
                next,
            },
        );
        assert_eq!(got.err(), want, "head {number} remote {hash}/{next}");
    }
}

#[test]
fn retired_testnets_from_the_eip_text() {
    for (genesis, forks, cases, name) in [
        (ROPSTEN_GENESIS, ROPSTEN_FORKS, ROPSTEN_CREATION, "ropsten"),
        (RINKEBY_GENESIS, RINKEBY_FORKS, RINKEBY_CREATION, "rinkeby"),
        (GOERLI_GENESIS, GOERLI_FORKS, GOERLI_CREATION, "goerli"),
    ] {
        check_creation(&ForkFilter::new(&b32(genesis), 0, forks, &[]), cases, name);
    }
}

#[test]
fn fork_id_rlp_matches_upstream() {
    for &(hash, next, rlp) in ENCODING {
        let id = ForkId {
            hash: b4(hash),
            next,
        };
        assert_eq!(hex::encode(id.encode()), rlp);
        assert_eq!(ForkId::decode(&hex::decode(rlp).unwrap()).unwrap(), id);
    }
}

#[test]
fn time_forks_at_or_before_genesis_are_not_counted() {
    // Upstream's genesis hash depends on a header we do not have; any hash shows the rule.
    let genesis = [0x42u8; 32];
    let t = TIME_FORK_GENESIS_TIME;
    for (shanghai, cancun) in [(t - 1, t + 1), (t, t + 1), (t + 1, t + 2)] {
        let filter = ForkFilter::new(&genesis, t, &[0, 0, 0], &[shanghai, cancun]);
        let id = filter.fork_id(Head {
            number: 0,
            timestamp: t,
        });
        assert_eq!(u32::from_be_bytes(id.hash), crc32_update(0, &genesis));
        assert_eq!(id.next, t + 1);
    }
}

#[test]
fn stale_and_incompatible_are_distinct_errors() {
    // A sanity check that the enum is wired: the remote on Frontier with no next fork,
    // while we are on Petersburg, is stale.
    let got = mainnet_petersburg().validate(
        Head {
            number: 7_987_396,
            timestamp: 0,
        },
        ForkId {
            hash: b4("fc64ec04"),
            next: 0,
        },
    );
    assert_eq!(got, Err(ForkIdError::RemoteStale));
}
