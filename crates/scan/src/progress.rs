//! The progress bar on stderr for long scans (indicatif). Shown only when asked for, when stderr
//! is a terminal and when the work is large enough to be worth watching; otherwise every call is
//! a no-op, so sources can report progress unconditionally.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Work below this many bytes finishes too fast for a bar to help.
const MIN_BYTES: u64 = 64 * 1024 * 1024;

/// A byte-counting progress bar, or nothing.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// A bar for `total_bytes` of work labelled `what`, if `enabled`, stderr is a terminal and the
    /// work is long.
    pub fn new(enabled: bool, total_bytes: u64, what: &str) -> Self {
        if !enabled || total_bytes < MIN_BYTES || !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        bar.set_message(what.to_owned());
        Self(Some(bar))
    }

    /// A progress value that shows nothing.
    pub fn hidden() -> Self {
        Self(None)
    }

    /// Records `bytes` more done.
    pub fn inc(&self, bytes: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(bytes);
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
