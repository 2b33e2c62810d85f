//! What to remove if a command stops early: temporary files not yet renamed into place and
//! directories it created that are still empty. [`install`] removes them on SIGINT, SIGTERM
//! or SIGHUP and exits with 128 + the signal (130, 143, 129); [`remove_all`] does the same on
//! an error exit.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

#[derive(Default)]
struct Registry {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    files: Vec::new(),
    dirs: Vec::new(),
});

fn registry() -> MutexGuard<'static, Registry> {
    // A panic while holding the lock leaves the list usable: it is only paths.
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Remembers a temporary file to remove if the command stops before renaming it.
pub fn register_file(path: &Path) {
    registry().files.push(path.to_path_buf());
}

/// Forgets a temporary file (renamed into place, or removed).
pub fn forget(path: &Path) {
    registry().files.retain(|p| p != path);
}

/// Remembers a directory the command created, to remove if it is still empty at an early stop.
pub fn register_dir(path: &Path) {
    registry().dirs.push(path.to_path_buf());
}

/// Keeps the directories created so far (they hold the command's output now).
pub fn keep_dirs() {
    registry().dirs.clear();
}

/// Runs `f` while no signal can clean up, so a rename and its cleanup never interleave.
pub fn while_locked<T>(f: impl FnOnce() -> T) -> T {
    let _guard = registry();
    f()
}

fn remove(registry: &mut Registry) -> usize {
    let mut removed = 0;
    for f in registry.files.drain(..) {
        if std::fs::remove_file(&f).is_ok() {
            removed += 1;
        }
    }
    for d in registry.dirs.drain(..) {
        // Only empty directories go: anything the user put there stays.
        if std::fs::remove_dir(&d).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Removes every registered temporary file and empty created directory.
pub fn remove_all() -> usize {
    remove(&mut registry())
}

/// Removes what is registered and exits with `code`. Holds the registry lock until the
/// process is gone, so no rename can start after the cleanup.
pub fn exit(code: i32) -> ! {
    let mut r = registry();
    remove(&mut r);
    std::process::exit(code)
}

/// Starts a thread that, on SIGINT, SIGTERM or SIGHUP, removes what is registered, says so
/// on stderr and exits with 128 + the signal number. A failure to install is reported and
/// otherwise ignored: the command still runs, without the cleanup.
pub fn install(program: &'static str) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        Ok(s) => s,
        Err(e) => {
            crate::warn(&format!("{program}: cannot watch for signals: {e}"));
            return;
        }
    };
    let spawned = std::thread::Builder::new()
        .name("signals".to_string())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let name = match signal {
                    SIGINT => "SIGINT",
                    SIGTERM => "SIGTERM",
                    _ => "SIGHUP",
                };
                let mut r = registry();
                let removed = remove(&mut r);
                crate::warn(&format!(
                    "{program}: interrupted by {name}; removed {removed} temporary file(s) and empty director(ies)"
                ));
                std::process::exit(128 + signal);
            }
        });
    if let Err(e) = spawned {
        crate::warn(&format!("{program}: cannot watch for signals: {e}"));
    }
}
