//! A test's scratch directory under the system temp dir, removed when the test is done with
//! it, whether it passed or failed.

use std::path::{Path, PathBuf};

/// An empty directory that is removed, with everything in it, when this is dropped.
pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    /// Creates the directory at `path`, first removing whatever an earlier run left there.
    pub fn new(path: PathBuf) -> Scratch {
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Scratch { path }
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
