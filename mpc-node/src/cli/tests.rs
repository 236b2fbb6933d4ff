//! Unit tests of `cli`.

use super::*;

#[test]
fn timing_flags_override_the_file_which_overrides_the_defaults() {
    let cluster = Pubkey::new_unique();
    let file: FileConfig =
        toml::from_str("poll_interval_ms = 250\ncallback_fallback_ms = 900\n").unwrap();
    let cli = Cli::try_parse_from([
        "mpc-node",
        "run",
        "--poll-interval-ms",
        "100",
        "--contribution-fallback-ms",
        "300",
    ])
    .unwrap();
    let Command::Run { timing, .. } = &cli.command else {
        panic!("parsed as run");
    };
    let cfg = node_config(cluster, &file, timing).unwrap();
    assert_eq!(cfg.cluster, cluster);
    assert_eq!(
        cfg.poll_interval,
        Duration::from_millis(100),
        "flag over file"
    );
    assert_eq!(
        cfg.callback_fallback,
        Duration::from_millis(900),
        "file over default"
    );
    assert_eq!(
        cfg.contribution_fallback,
        Duration::from_millis(300),
        "flag over default"
    );
    let defaults = node_config(cluster, &FileConfig::default(), &Timing::default()).unwrap();
    let expected = NodeConfig::new(cluster);
    assert_eq!(defaults.poll_interval, expected.poll_interval);
    assert_eq!(defaults.callback_fallback, expected.callback_fallback);
    assert_eq!(
        defaults.contribution_fallback,
        expected.contribution_fallback
    );
    let zero: FileConfig = toml::from_str("poll_interval_ms = 0\n").unwrap();
    assert_eq!(
        node_config(cluster, &zero, &Timing::default())
            .unwrap_err()
            .to_string(),
        "poll_interval_ms must be at least 1"
    );
}
