//! A scratch directory that is removed, with everything in it, when it is dropped: on success,
//! on an error and on a panic alike.

use std::io;
use std::path::{Path, PathBuf};

/// An empty directory, removed with its contents when this is dropped.
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates an empty directory at `path`, first removing whatever an earlier run left there.
    pub fn create(path: PathBuf) -> io::Result<ScratchDir> {
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)?;
        Ok(ScratchDir { path })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl std::ops::Deref for ScratchDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for ScratchDir {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_goes_when_dropped_even_with_files_in_it() {
        let path = std::env::temp_dir().join(format!("nomad-sim-scratch-{}", std::process::id()));
        let dir = ScratchDir::create(path.clone()).expect("a scratch directory");
        std::fs::write(dir.join("f"), "x").expect("a file in it");
        assert!(path.join("f").exists());
        drop(dir);
        assert!(!path.exists());
    }
}
