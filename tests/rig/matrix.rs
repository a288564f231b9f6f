//! What the differential matrices (`tests/smb_matrix.rs`, `tests/nfs_matrix.rs`) share: running
//! their targets a few at a time, each target's rows kept in table order and a target whose
//! server did not start kept as a row that says why, and the Markdown cell and log tail they
//! print. The matrices differ in their servers, clients and verdicts, not in how they are run.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `work` on every target, `workers` at a time; each worker first makes its own context
/// with `context` (a sandbox, a client configuration). A target whose work panics (its server
/// did not start) gives `on_panic(target, why)` instead. The rows come back in target order.
pub fn run<T: Sync, C, R: Send>(
    targets: &[T],
    workers: usize,
    context: impl Fn() -> C + Sync,
    work: impl Fn(&T, &C) -> Vec<R> + Sync,
    on_panic: impl Fn(&T, String) -> Vec<R> + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Vec<R>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers.min(targets.len()) {
            scope.spawn(|| {
                let ctx = context();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(target) = targets.get(i) else { break };
                    let rows = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        work(target, &ctx)
                    }))
                    .unwrap_or_else(|e| {
                        let why = e
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                            .unwrap_or_default();
                        on_panic(target, why)
                    });
                    results.lock().unwrap().push((i, rows));
                }
            });
        }
    });
    let mut r = results.into_inner().unwrap();
    r.sort_by_key(|(i, _)| *i);
    r.into_iter().flat_map(|(_, rows)| rows).collect()
}

/// Prints the last 30 lines of `name`'s server log (the server's side of a surprise, shown when
/// the test fails).
pub fn print_log_tail(name: &str, log: &str) {
    let tail: Vec<&str> = log.lines().rev().take(30).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    eprintln!("--- {name}: server log (tail) ---\n{}", tail.join("\n"));
}

/// `s` as one Markdown table cell: `–` when empty, no `|` or line break of its own.
pub fn cell(s: &str) -> String {
    if s.is_empty() {
        "–".into()
    } else {
        s.replace('|', "\\|").replace('\n', " / ")
    }
}
