//! Parallel reading of an estate: the thread count (`--threads`, `ORCHMIG_THREADS`,
//! `RAYON_NUM_THREADS`), the reader pool, and the progress bar of long runs.

use std::io::IsTerminal;
use std::sync::OnceLock;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::frontend::READER_STACK;

/// Files below which no progress bar is drawn (such a run takes well under a second).
const PROGRESS_FROM: usize = 2000;

static THREADS: OnceLock<usize> = OnceLock::new();

/// Sets the reader thread count for this process (the `--threads` flag); 0 means all cores.
pub fn set_threads(n: usize) {
    let _ = THREADS.set(n);
}

/// The reader thread count: `--threads`, else `ORCHMIG_THREADS`, else rayon's default
/// (`RAYON_NUM_THREADS`, or one per core); 0 stands for that default.
pub fn threads() -> usize {
    *THREADS.get_or_init(|| {
        std::env::var("ORCHMIG_THREADS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    })
}

/// Maps `f` over `items` on the reader pool, keeping the input order in the output whatever
/// the thread count; each worker has the readers' large stack.
pub fn map_ordered<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    map_ordered_as("reading", items, f)
}

/// [`map_ordered`] whose progress bar (long runs in a terminal) names the phase (`reading`,
/// `reading and porting`).
pub fn map_ordered_as<T: Sync, R: Send>(
    phase: &str,
    items: &[T],
    f: impl Fn(&T) -> R + Sync + Send,
) -> Vec<R> {
    let progress = phase_bar(phase, items.len());
    let run = || {
        items
            .par_iter()
            .map(|item| {
                let r = f(item);
                progress.inc(1);
                r
            })
            .collect()
    };
    let out = match rayon::ThreadPoolBuilder::new()
        .num_threads(threads())
        .stack_size(READER_STACK)
        .thread_name(|i| format!("orchmig-reader-{i}"))
        .build()
    {
        Ok(pool) => pool.install(run),
        // No threads could be started: read on this thread (its stack is the caller's).
        Err(_) => items.iter().map(&f).collect(),
    };
    progress.finish_and_clear();
    out
}

/// A bar on stderr naming a phase of a long run (`writing`), for `len` files, in a terminal;
/// hidden otherwise (pipes, CI, tests) and for short runs.
pub fn phase_bar(phase: &str, len: usize) -> ProgressBar {
    if len < PROGRESS_FROM || !std::io::stderr().is_terminal() || super::ui::quiet() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    let template = format!("orchmig: {phase} {{pos}}/{{len}} files {{wide_bar}} {{eta}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}
