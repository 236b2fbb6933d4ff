//! # medshare-tests: the testkit
//!
//! What the end-to-end binary (`tests/e2e`) builds its scenarios from:
//!
//! - [`cli_env`]: the chain (embedded, or the validator at
//!   `MEDSHARE_TEST_URL`), a local cluster of real node tasks, and users
//!   driven through the `medshare` CLI exactly as the binary parses argv;
//! - [`nodes_env`]: users driven through the client library, time bounds
//!   scaled to the chain, settle loops for history and audit reads, and the
//!   one hang guard ([`nodes_env::Watchdog`]).
#![forbid(unsafe_code)]

pub mod cli_env;
pub mod nodes_env;

use std::time::Duration;

/// Lamports every test user's wallet gets.
pub const USER_FUNDS: u64 = 5_000_000_000;
/// Node poll interval of the tests' local clusters (the brief: 20–50 ms).
pub const POLL: Duration = Duration::from_millis(25);

/// Asserts that a command or client call failed with an error matching
/// `$pat`, that its one-line message is `$msg` and its exit code `$code`;
/// evaluates to the error.
///
/// ```text
/// assert_client_err!(env.run(&p, &["show", "xyz"]).await,
///     ClientError::BadRecordRef(m) if m == "xyz",
///     "'xyz' is neither a record address nor a record id",
///     exit::ERROR);
/// ```
#[macro_export]
macro_rules! assert_client_err {
    ($res:expr, $pat:pat $(if $guard:expr)?, $msg:expr, $code:expr $(,)?) => {{
        match $res {
            Ok(out) => panic!("expected an error, got output: {out:?}"),
            Err(e) => {
                assert!(
                    matches!(&e, $pat $(if $guard)?),
                    "unexpected error: {e:?}"
                );
                assert_eq!(e.to_string(), $msg);
                assert_eq!(e.exit_code(), $code, "exit code of: {e}");
                e
            }
        }
    }};
}
