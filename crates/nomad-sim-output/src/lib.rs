//! nomad-sim-output: how the two binaries write what they produce, so that nothing is lost
//! and nothing half-written is left behind.
//!
//! - [`OutFile`] writes a regular file through a temporary name in the same directory and
//!   renames it into place when complete; a device or a pipe (`/dev/stdout`, `/dev/full`, a
//!   FIFO) is opened and written directly instead, so it is never replaced by a file.
//! - [`check_not_input`] refuses an output that names an input (`--trace scenario.yaml`).
//! - [`print`] writes to standard output; a reader that went away (`| head -1`) ends the
//!   output quietly instead of a panic.
//! - [`cleanup`] removes temporary files and directories a command created when it stops
//!   early: on SIGINT or SIGTERM (exit 130 or 143), or on an error.
//! - [`args`] gives both binaries Nomad's single-dash flags and one error prefix.
//! - [`ScratchDir`] is a directory removed when dropped, for a command's (or a test's) scratch
//!   files.
#![forbid(unsafe_code)]

pub mod args;
pub mod cleanup;
mod scratch;

pub use scratch::ScratchDir;

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once standard output's reader has gone away: later output is dropped.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// True once a write to standard output found its reader gone.
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::SeqCst)
}

/// Writes `text` to standard output. A closed pipe is not an error: the text (and all later
/// output) is dropped and [`stdout_closed`] turns true. Any other failure, such as a full
/// disk behind a redirection, is returned.
pub fn print(text: &str) -> io::Result<()> {
    if stdout_closed() {
        return Ok(());
    }
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::SeqCst);
            Ok(())
        }
        r => r,
    }
}

/// Writes a line to standard error, ignoring failures (a closed stderr must not panic).
pub fn warn(text: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

/// True when both paths name the same file (the same device and inode when both exist, else
/// the same absolute path once symbolic links in the existing part are resolved).
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return ma.dev() == mb.dev() && ma.ino() == mb.ino();
        }
    }
    normalize(a) == normalize(b)
}

/// The absolute form of a path whose last part may not exist yet.
fn normalize(p: &Path) -> PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    let absolute = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    match (absolute.parent(), absolute.file_name()) {
        (Some(parent), Some(name)) => normalize(parent).join(name),
        _ => absolute,
    }
}

/// True when `path` is this process's standard output under another name (`/dev/stdout`,
/// `/dev/fd/1`, or the file standard output is redirected to).
pub fn is_stdout(path: &Path) -> bool {
    path == Path::new("-")
        || (cfg!(target_os = "linux") && same_file(path, Path::new("/proc/self/fd/1")))
}

/// Refuses an output path that is one of the inputs: `flag` names the option in the message.
pub fn check_not_input(flag: &str, output: &Path, inputs: &[PathBuf]) -> Result<(), String> {
    for input in inputs {
        if same_file(output, input) {
            return Err(format!(
                "{flag} {}: this is an input ({}); refusing to write over it",
                output.display(),
                input.display()
            ));
        }
    }
    Ok(())
}

/// True when `path` is written in place rather than replaced through a temporary file: a
/// symbolic link (`/dev/stdout` is one, to whatever standard output is; renaming over it
/// would replace the link itself), or a device, a FIFO or a socket.
pub fn is_special(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
        || std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

enum Sink {
    Stdout(io::Stdout),
    File(File),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(s) => s.write(buf),
            Sink::File(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(s) => s.flush(),
            Sink::File(f) => f.flush(),
        }
    }
}

/// An output being written: standard output, a device written in place, or a regular file
/// written through a temporary name and renamed into place by [`OutFile::commit`]. Dropped
/// without a commit, it removes its temporary file.
pub struct OutFile {
    out: BufWriter<Sink>,
    /// The temporary file, for a regular target.
    tmp: Option<PathBuf>,
    /// The target.
    path: PathBuf,
}

impl OutFile {
    /// Opens `path` for writing. A directory is refused; a device or FIFO is opened as it is;
    /// anything else gets a temporary file `.<name>.<pid>.tmp` beside it, registered for
    /// [`cleanup`] until the commit.
    pub fn create(path: &Path) -> io::Result<OutFile> {
        if path.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a directory",
            ));
        }
        if is_special(path) {
            let file = OpenOptions::new().write(true).truncate(true).open(path)?;
            return Ok(OutFile {
                out: BufWriter::with_capacity(1 << 16, Sink::File(file)),
                tmp: None,
                path: path.to_path_buf(),
            });
        }
        let tmp = temporary_name(path);
        cleanup::register_file(&tmp);
        let file = match File::create(&tmp) {
            Ok(f) => f,
            Err(e) => {
                cleanup::forget(&tmp);
                return Err(e);
            }
        };
        Ok(OutFile {
            out: BufWriter::with_capacity(1 << 20, Sink::File(file)),
            tmp: Some(tmp),
            path: path.to_path_buf(),
        })
    }

    /// Standard output.
    pub fn stdout() -> OutFile {
        OutFile {
            out: BufWriter::with_capacity(1 << 16, Sink::Stdout(io::stdout())),
            tmp: None,
            path: PathBuf::from("-"),
        }
    }

    /// The target, as given (`-` for standard output).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when this writes to standard output.
    pub fn is_stdout(&self) -> bool {
        matches!(self.out.get_ref(), Sink::Stdout(_))
    }

    /// Flushes, and renames a temporary file into place. On error the temporary file is gone.
    pub fn commit(mut self) -> io::Result<()> {
        self.out.flush()?;
        if let Sink::File(f) = self.out.get_ref() {
            if self.tmp.is_some() {
                f.sync_all()?;
            }
        }
        if let Some(tmp) = self.tmp.take() {
            let result = cleanup::while_locked(|| std::fs::rename(&tmp, &self.path));
            cleanup::forget(&tmp);
            if let Err(e) = result {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        }
        Ok(())
    }
}

impl Write for OutFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.out.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl Drop for OutFile {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let _ = std::fs::remove_file(&tmp);
            cleanup::forget(&tmp);
        }
    }
}

/// `.<name>.<pid>.tmp` beside `path`: hidden, and never the name of anything the user keeps.
fn temporary_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().to_string());
    let tmp = format!(".{name}.{}.tmp", std::process::id());
    match path.parent() {
        Some(parent) => parent.join(tmp),
        None => PathBuf::from(tmp),
    }
}

/// Writes a whole file through [`OutFile`]. Errors name nothing: the caller adds the path.
pub fn write_file(path: &Path, content: &[u8]) -> io::Result<()> {
    let mut f = OutFile::create(path)?;
    f.write_all(content)?;
    f.commit()
}

/// Creates the directory `dir` (and missing parents), registering what it created with
/// [`cleanup`], so that an interrupted or failed command leaves no empty directory behind.
/// Call [`cleanup::keep_dirs`] once the directory holds what it should.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut p = Some(dir);
    while let Some(d) = p {
        if d.as_os_str().is_empty() || d.exists() {
            break;
        }
        missing.push(d.to_path_buf());
        p = d.parent();
    }
    std::fs::create_dir_all(dir)?;
    // Deepest first, so removal empties children before their parents.
    for d in missing {
        cleanup::register_dir(&d);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cleanup registry is one per process: tests that register files or empty it run one
    /// at a time, or one test's `remove_all` takes another's temporary file.
    static REGISTRY: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn serial() -> std::sync::MutexGuard<'static, ()> {
        REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn tmpdir(name: &str) -> ScratchDir {
        let path =
            std::env::temp_dir().join(format!("nomad-sim-output-{}-{name}", std::process::id()));
        ScratchDir::create(path).expect("a scratch directory")
    }

    #[test]
    fn regular_files_are_replaced_atomically() {
        let _serial = serial();
        let d = tmpdir("atomic");
        let target = d.join("out.json");
        std::fs::write(&target, "old").unwrap();
        let mut f = OutFile::create(&target).unwrap();
        f.write_all(b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        assert_eq!(
            std::fs::read_dir(&d).unwrap().count(),
            2,
            "a temporary file beside it"
        );
        f.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
        // Dropped without a commit: the target is untouched and no temporary file is left.
        let mut f = OutFile::create(&target).unwrap();
        f.write_all(b"half").unwrap();
        drop(f);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
    }

    #[test]
    fn devices_are_written_in_place() {
        let _serial = serial();
        let f = OutFile::create(Path::new("/dev/null")).unwrap();
        assert!(f.tmp.is_none());
        f.commit().unwrap();
        assert!(Path::new("/dev/null").exists());
        let mut f = OutFile::create(Path::new("/dev/full")).unwrap();
        let e = f
            .write_all(&[b'x'; 1 << 17])
            .and_then(|()| f.flush())
            .unwrap_err();
        assert_eq!(e.raw_os_error(), Some(28), "{e}");
    }

    #[test]
    fn symbolic_links_are_written_through_not_replaced() {
        let _serial = serial();
        let d = tmpdir("link");
        let real = d.join("real.txt");
        std::fs::write(&real, "old contents").unwrap();
        let link = d.join("link.txt");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_file(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
    }

    #[test]
    fn inputs_are_recognised_under_other_names() {
        let _serial = serial();
        let d = tmpdir("same");
        let input = d.join("s.yaml");
        std::fs::write(&input, "x").unwrap();
        let other = d.join("sub/../s.yaml");
        std::fs::create_dir_all(d.join("sub")).unwrap();
        assert!(same_file(&other, &input));
        assert!(check_not_input("--trace", &other, std::slice::from_ref(&input)).is_err());
        assert!(check_not_input("--trace", &d.join("t.jsonl"), &[input]).is_ok());
        assert!(same_file(&d.join("new/x"), &d.join("sub/../new/x")));
    }

    #[test]
    fn created_directories_are_registered() {
        let _serial = serial();
        let d = tmpdir("dirs");
        let out = d.join("a/b");
        create_dir(&out).unwrap();
        assert!(out.is_dir());
        cleanup::remove_all();
        assert!(
            !d.join("a").exists(),
            "empty directories it created are removed"
        );
    }
}
