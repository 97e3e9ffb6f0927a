use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use clap::Parser;

use super::*;
use crate::logging::LogFormat;
use crate::rt::RuntimeKind;

const ID: &str = "fda1cff674c90c9a197539fe3dfb53086ace64f83ed7c6eabec741f7f381cc803e52ab2cd55d5569bce4347107a310dfd5f88a010cd2ffd1005ca406f1842877";

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    run: RunArgs,
}

fn args(argv: &[&str]) -> RunArgs {
    let mut full = vec!["run"];
    full.extend_from_slice(argv);
    Cli::try_parse_from(full).unwrap().run
}

fn file(text: &str) -> FileConfig {
    parse_config_toml(text).unwrap()
}

fn resolve(argv: &[&str], text: &str) -> Result<Settings, ConfigError> {
    Settings::resolve(&args(argv), &file(text))
}

#[test]
fn defaults_are_go_ethereums() {
    let s = resolve(&[], "").unwrap();
    assert_eq!(s.port, 30303);
    assert_eq!(s.discovery_port, 30303);
    assert_eq!(s.max_peers, 50);
    assert_eq!(s.max_pending_peers, 50);
    assert_eq!(s.memory_budget, 48 << 20);
    assert_eq!(s.dial_ratio, 3);
    assert!(s.discovery);
    assert_eq!(s.verbosity, 3);
    assert_eq!(s.log_format, LogFormat::Text);
    assert_eq!(s.runtime, RuntimeKind::Tokio);
    assert_eq!(s.nat, Nat::None);
    assert_eq!(s.node_key, NodeKeySource::DataDir);
    assert_eq!(s.http, None);
    assert_eq!(s.metrics, None);
    assert!(s.bootnodes.is_empty() && s.static_nodes.is_empty() && s.trusted_nodes.is_empty());
    assert_eq!(s.netrestrict, None);
}

#[test]
fn flags_override_file_which_overrides_defaults() {
    let text = r#"
        [p2p]
        port = 4000
        max_peers = 10
        dial_ratio = 2
        [log]
        verbosity = 4
        format = "json"
        [node]
        runtime = "smol"
    "#;
    let s = resolve(&[], text).unwrap();
    assert_eq!(
        (s.port, s.discovery_port, s.max_peers, s.dial_ratio),
        (4000, 4000, 10, 2)
    );
    assert_eq!((s.verbosity, s.log_format), (4, LogFormat::Json));
    assert_eq!(s.runtime, RuntimeKind::Smol);

    let s = resolve(
        &[
            "--port",
            "5000",
            "--maxpeers",
            "7",
            "--verbosity",
            "1",
            "--runtime",
            "tokio",
        ],
        text,
    )
    .unwrap();
    assert_eq!(
        (s.port, s.discovery_port, s.max_peers, s.dial_ratio),
        (5000, 5000, 7, 2)
    );
    assert_eq!((s.verbosity, s.log_format), (1, LogFormat::Json));
    assert_eq!(s.runtime, RuntimeKind::Tokio);

    let s = resolve(&["--discovery.port", "5001"], text).unwrap();
    assert_eq!((s.port, s.discovery_port), (4000, 5001));
}

#[test]
fn lists_from_flags_replace_the_files() {
    let text = format!(
        "[p2p]\nbootnodes = [\"enode://{ID}@10.0.0.1:30303\", \"enode://{ID}@10.0.0.2:30303\"]\n\
         netrestrict = [\"10.0.0.0/8\", \"192.168.0.0/16, 172.16.0.0/12\"]\n"
    );
    let s = resolve(&[], &text).unwrap();
    assert_eq!(s.bootnodes.len(), 2);
    assert_eq!(s.netrestrict.as_ref().unwrap().len(), 3);

    let flag = format!("enode://{ID}@10.0.0.9:1, ");
    let s = resolve(
        &["--bootnodes", &flag, "--netrestrict", "1.2.3.0/24"],
        &text,
    )
    .unwrap();
    assert_eq!(s.bootnodes.len(), 1);
    assert_eq!(s.bootnodes[0].tcp_port, 1);
    assert_eq!(s.netrestrict.unwrap().len(), 1);

    let s = resolve(&["--bootnodes", ""], &text).unwrap();
    assert!(
        s.bootnodes.is_empty(),
        "an empty flag clears the file's bootnodes"
    );
}

#[test]
fn static_and_trusted_files_replace_inline_lists() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("static-nodes.json");
    std::fs::write(&path, format!("[\"enode://{ID}@10.0.0.3:30303\"]")).unwrap();
    let text = format!("[p2p]\nstatic_nodes = []\ntrusted_nodes = [\"enode://{ID}@10.0.0.4:1\"]\n");
    let p = path.to_str().unwrap();
    let s = resolve(&["--static-nodes", p], &text).unwrap();
    assert_eq!(s.static_nodes.len(), 1);
    assert_eq!(s.trusted_nodes.len(), 1);
    let s = resolve(&["--trusted-nodes", p], &text).unwrap();
    assert_eq!(s.trusted_nodes[0].tcp_port, 30303);

    std::fs::write(&path, "[\"enode://x\"]").unwrap();
    let err = resolve(&["--static-nodes", p], "").unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Enodes {
                key: "--static-nodes",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("entry 0"), "{err}");
}

#[test]
fn boolean_flags_switch_features_on_over_the_file() {
    let text = "[metrics]\nenabled = false\n[http]\nenabled = false\n[p2p]\nno_discovery = false";
    let s = resolve(&["--metrics", "--http", "--nodiscover"], text).unwrap();
    assert_eq!(s.metrics, Some(SocketAddr::from(([127, 0, 0, 1], 6060))));
    assert_eq!(s.http, Some(SocketAddr::from(([127, 0, 0, 1], 8545))));
    assert!(!s.discovery);
    let s = resolve(&[], "[http]\nenabled = true\nport = 9000\naddr = \"::1\"").unwrap();
    assert_eq!(s.http, Some("[::1]:9000".parse().unwrap()));
}

#[test]
fn nonloopback_admin_or_metrics_needs_the_opt_in() {
    let err = resolve(&["--http", "--http.addr", "0.0.0.0"], "").unwrap_err();
    assert!(matches!(
        err,
        ConfigError::NonLoopback {
            service: "http",
            ..
        }
    ));
    let msg = err.to_string();
    assert!(msg.contains("--http.allow-nonloopback"), "{msg}");
    assert!(msg.contains("0.0.0.0"), "{msg}");

    let err = resolve(&["--metrics", "--metrics.addr", "192.168.1.5"], "").unwrap_err();
    assert!(matches!(
        err,
        ConfigError::NonLoopback {
            service: "metrics",
            ..
        }
    ));

    // A disabled service's address is not checked.
    resolve(&["--http.addr", "0.0.0.0"], "").unwrap();
    // IPv4-mapped loopback is loopback.
    resolve(&["--http", "--http.addr", "::ffff:127.0.0.1"], "").unwrap();

    let s = resolve(
        &[
            "--http",
            "--http.addr",
            "0.0.0.0",
            "--http.allow-nonloopback",
        ],
        "",
    )
    .unwrap();
    assert_eq!(s.http.unwrap().ip(), IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let s = resolve(
        &["--metrics", "--metrics.addr", "10.1.1.1"],
        "[http]\nallow_nonloopback = true",
    )
    .unwrap();
    assert!(s.allow_nonloopback);
}

#[test]
fn out_of_range_numbers_are_refused() {
    for (argv, key) in [
        (vec!["--maxpeers", "10001"], "--maxpeers ([p2p] max_peers)"),
        (
            vec!["--maxpendpeers", "0"],
            "--maxpendpeers ([p2p] max_pending_peers)",
        ),
        (vec!["--dialratio", "0"], "--dialratio ([p2p] dial_ratio)"),
        (
            vec!["--memory-budget", "0"],
            "--memory-budget ([p2p] memory_budget)",
        ),
    ] {
        let err = resolve(&argv, "").unwrap_err();
        assert!(
            matches!(err, ConfigError::OutOfRange { key: k, .. } if k == key),
            "{err}"
        );
    }
    let err = resolve(&[], "[log]\nverbosity = 6").unwrap_err();
    assert!(
        matches!(err, ConfigError::OutOfRange { value: 6, .. }),
        "{err}"
    );
    // clap refuses it on the command line already.
    assert!(Cli::try_parse_from(["run", "--verbosity", "6"]).is_err());
}

#[test]
fn invalid_values_name_their_flag() {
    let cases: &[(&[&str], &str, &str)] = &[
        (&["--nat", "upnp"], "", "--nat"),
        (&["--nat", "extip:nope"], "", "--nat"),
        (&[], "[p2p]\nnat = \"extip\"", "--nat"),
        (&["--netrestrict", "10.0.0.0/33"], "", "--netrestrict"),
        (&[], "[p2p]\nnetrestrict = [\"x\"]", "--netrestrict"),
        (&["--nodekeyhex", "abcd"], "", "--nodekeyhex"),
        (&[], "[node]\nruntime = \"async-std\"", "[node] runtime"),
        (&["--identity", "a/b"], "", "--identity"),
        (&["--identity", &"x".repeat(65)], "", "--identity"),
    ];
    for (argv, text, want) in cases {
        let err = resolve(argv, text).unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { .. }),
            "{argv:?}: {err}"
        );
        assert!(err.to_string().starts_with(want), "{argv:?}: {err}");
    }
}

#[test]
fn nat_parses_none_and_extip() {
    let s = resolve(&["--nat", "extip:203.0.113.7"], "").unwrap();
    assert_eq!(s.nat, Nat::ExtIp("203.0.113.7".parse().unwrap()));
    assert_eq!(s.nat.to_string(), "extip:203.0.113.7");
    assert_eq!("NONE".parse::<Nat>(), Ok(Nat::None));
}

#[test]
fn bad_enodes_are_reported_by_key_and_index() {
    let text = format!("[p2p]\ntrusted_nodes = [\"enode://{ID}@1.2.3.4:5\", \"enode://{ID}\"]");
    let err = resolve(&[], &text).unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Enodes {
                key: "[p2p] trusted_nodes",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("entry 1"), "{err}");
    let err = resolve(&["--bootnodes", "enode://zz@1.2.3.4:5"], "").unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Enodes {
                key: "--bootnodes",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn node_key_sources() {
    let hex = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
    let s = resolve(&["--nodekeyhex", hex], "[node]\nnodekey = \"/k\"").unwrap();
    assert!(matches!(s.node_key, NodeKeySource::Hex(_)));
    assert!(
        !format!("{s:?}").contains(hex),
        "the key must not reach Debug output"
    );
    let s = resolve(&[], "[node]\nnodekey = \"/k\"").unwrap();
    assert_eq!(s.node_key, NodeKeySource::File("/k".into()));
    let s = resolve(&["--nodekey", "/f"], "[node]\nnodekey = \"/k\"").unwrap();
    assert_eq!(s.node_key, NodeKeySource::File("/f".into()));
    let err = resolve(&["--nodekey", "/f", "--nodekeyhex", hex], "").unwrap_err();
    assert!(matches!(err, ConfigError::NodeKeyConflict));
}

#[test]
fn listeners_on_one_port_conflict() {
    let err = resolve(&["--http", "--metrics", "--metrics.port", "8545"], "").unwrap_err();
    assert!(
        matches!(err, ConfigError::PortConflict { port: 8545, .. }),
        "{err}"
    );
    let err = resolve(&["--http", "--http.port", "30303"], "").unwrap_err();
    assert!(matches!(
        err,
        ConfigError::PortConflict {
            a: "--port",
            b: "--http.port",
            ..
        }
    ));
    // Different loopback addresses, or port 0, do not collide.
    resolve(
        &[
            "--http",
            "--metrics",
            "--metrics.port",
            "8545",
            "--metrics.addr",
            "127.0.0.2",
        ],
        "",
    )
    .unwrap();
    resolve(
        &[
            "--http",
            "--metrics",
            "--http.port",
            "0",
            "--metrics.port",
            "0",
        ],
        "",
    )
    .unwrap();
    // A disabled service cannot collide.
    resolve(&["--http", "--metrics.port", "8545"], "").unwrap();
}

#[test]
fn unknown_and_mistyped_keys_are_toml_errors() {
    for text in [
        "[p2p]\nmaxpeers = 5",
        "[p2pp]\n",
        "top = 1",
        "[p2p]\nport = 70000",
        "[p2p]\nport = \"30303\"",
        "[log]\nformat = \"xml\"",
        "[http]\naddr = \"localhost\"",
        "[p2p",
    ] {
        let err = parse_config_toml(text).unwrap_err();
        assert!(matches!(err, ConfigError::Toml(_)), "{text}: {err}");
    }
}

#[test]
fn oversized_config_is_refused() {
    let text = format!("# {}", "x".repeat(MAX_CONFIG_BYTES));
    assert!(matches!(
        parse_config_toml(&text),
        Err(ConfigError::TooLarge { .. })
    ));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, text).unwrap();
    assert!(matches!(
        read_config_file(&path),
        Err(ConfigError::TooLarge { .. })
    ));
}

#[test]
fn example_file_parses_to_the_defaults() {
    let text = include_str!("../../config.example.toml");
    let parsed = parse_config_toml(text).unwrap();
    let from_example = Settings::resolve(&RunArgs::default(), &parsed).unwrap();
    let from_nothing = Settings::resolve(&RunArgs::default(), &FileConfig::default()).unwrap();
    assert_eq!(from_example, from_nothing);
}

#[test]
fn load_reads_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, "[p2p]\nport = 1234").unwrap();
    let s = load(&args(&["--config", path.to_str().unwrap()])).unwrap();
    assert_eq!(s.port, 1234);
    std::fs::write(&path, "[p2p]\nbogus = 1").unwrap();
    let err = load(&args(&["--config", path.to_str().unwrap()])).unwrap_err();
    assert!(err.to_string().contains("c.toml"), "{err}");
    assert!(matches!(
        load(&args(&["--config", "/nonexistent/c.toml"])),
        Err(ConfigError::Read { .. })
    ));
}

#[test]
fn client_id_carries_the_identity() {
    let s = resolve(&["--identity", "alpha"], "").unwrap();
    assert!(
        s.client_id().starts_with("paxeer-p2p/v") && s.client_id().contains("/alpha/"),
        "{}",
        s.client_id()
    );
    let s = resolve(&[], "").unwrap();
    assert_eq!(s.client_id(), crate::client_id());
}

#[test]
fn flag_definitions_are_consistent_and_use_geth_names() {
    use clap::CommandFactory;
    let cmd = Cli::command();
    cmd.clone().debug_assert();
    let longs: Vec<String> = cmd
        .get_arguments()
        .filter_map(|a| a.get_long().map(String::from))
        .collect();
    for name in [
        "datadir",
        "port",
        "discovery.port",
        "maxpeers",
        "maxpendpeers",
        "memory-budget",
        "nodiscover",
        "bootnodes",
        "nodekey",
        "nodekeyhex",
        "identity",
        "netrestrict",
        "nat",
        "metrics",
        "metrics.addr",
        "metrics.port",
        "http",
        "http.addr",
        "http.port",
        "http.allow-nonloopback",
        "verbosity",
        "log.format",
        "config",
        "static-nodes",
        "trusted-nodes",
        "runtime",
        "dialratio",
        "networkid",
        "chain",
        "prestate",
    ] {
        assert!(longs.iter().any(|l| l == name), "--{name} missing");
    }
}

#[test]
fn prestate_comes_from_the_flag_or_the_node_section() {
    let s = resolve(&[], "[node]\nprestate = \"/a/headstate.json\"\n").unwrap();
    assert_eq!(s.prestate, Some(PathBuf::from("/a/headstate.json")));
    let s = resolve(
        &["--prestate", "/b.json"],
        "[node]\nprestate = \"/a/headstate.json\"\n",
    )
    .unwrap();
    assert_eq!(s.prestate, Some(PathBuf::from("/b.json")));
    assert_eq!(resolve(&[], "").unwrap().prestate, None);
}
