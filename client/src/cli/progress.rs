//! How waiting is shown: a spinner with the latest status on a terminal
//! (indicatif), plain lines on stderr otherwise (pipes, logs, CI).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Where status lines go while a command waits.
pub struct Progress {
    bar: Option<ProgressBar>,
    started: bool,
}

impl Progress {
    /// A spinner when stderr is a terminal, plain lines otherwise.
    pub fn for_stderr() -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress {
                bar: None,
                started: false,
            };
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid template"),
        );
        Progress {
            bar: Some(bar),
            started: false,
        }
    }

    /// Shows one status line.
    pub fn line(&mut self, line: &str) {
        match &self.bar {
            Some(bar) => {
                // The spinner appears with the first status, not before:
                // quick commands never show one.
                if !self.started {
                    self.started = true;
                    bar.enable_steady_tick(Duration::from_millis(120));
                }
                bar.set_message(line.to_string());
            }
            None => eprintln!("{line}"),
        }
    }

    /// Clears the spinner (the command's result follows on stdout).
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
