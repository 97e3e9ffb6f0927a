//! The `paxeer-p2p` binary: everything lives in the `paxeer_p2p_node` library.

fn main() -> std::process::ExitCode {
    paxeer_p2p_node::main()
}
