//! Process-wide logging: go-ethereum's `--verbosity` levels mapped onto `tracing` filters, text
//! or JSON lines on stderr (stdout carries command output). `RUST_LOG`, when set, wins.

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// go-ethereum's default `--verbosity` (info).
pub const DEFAULT_VERBOSITY: u8 = 3;

/// The highest `--verbosity` (trace).
pub const MAX_VERBOSITY: u8 = 5;

/// The `tracing` filter directive for a go-ethereum verbosity level: 0 silent, 1 error, 2 warn,
/// 3 info, 4 debug, 5 trace. Levels above 5 are treated as 5.
pub fn verbosity_directive(verbosity: u8) -> &'static str {
    match verbosity {
        0 => "off",
        1 => "error",
        2 => "warn",
        3 => "info",
        4 => "debug",
        _ => "trace",
    }
}

/// Installs the global subscriber: stderr, `format`, filtered at `verbosity` unless `RUST_LOG`
/// is set. A second call (or a subscriber installed by someone else) is ignored.
pub fn init_logging(verbosity: u8, format: LogFormat) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(s) if !s.trim().is_empty() => {
            EnvFilter::try_new(s).unwrap_or_else(|_| EnvFilter::new(verbosity_directive(verbosity)))
        }
        _ => EnvFilter::new(verbosity_directive(verbosity)),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // An error only means a subscriber is already installed; keep that one.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geth_levels_map_to_tracing_filters() {
        let got: Vec<_> = (0..=6).map(verbosity_directive).collect();
        assert_eq!(
            got,
            ["off", "error", "warn", "info", "debug", "trace", "trace"]
        );
    }

    #[test]
    fn format_names_are_lowercase_in_toml() {
        #[derive(serde::Deserialize)]
        struct T {
            f: LogFormat,
        }
        let t: T = toml::from_str("f = \"json\"").unwrap();
        assert_eq!(t.f, LogFormat::Json);
        assert!(toml::from_str::<T>("f = \"JSON\"").is_err());
    }
}
