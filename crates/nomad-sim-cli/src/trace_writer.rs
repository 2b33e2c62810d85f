//! Writes the trace as JSON lines through a temporary file, renamed into place when complete.

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use nomad_sim_core::time::SimTime;
use nomad_sim_core::trace::{TraceEvent, TraceRecord, TraceSink};

struct State {
    out: BufWriter<File>,
    error: Option<std::io::Error>,
    written: u64,
    dropped: u64,
    max_events: u64,
}

/// An open trace file.
pub struct TraceFile {
    state: Rc<RefCell<State>>,
    tmp: PathBuf,
    path: PathBuf,
}

/// The sink half, handed to the simulation.
pub struct Sink {
    state: Rc<RefCell<State>>,
}

/// How much of the trace was written.
pub struct Outcome {
    /// Events written.
    pub written: u64,
    /// Events past the limit, not written.
    pub dropped: u64,
}

impl TraceFile {
    /// Opens `<path>.tmp` for writing.
    pub fn create(path: &Path, max_events: u64) -> std::io::Result<TraceFile> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let file = File::create(&tmp)?;
        Ok(TraceFile {
            state: Rc::new(RefCell::new(State {
                out: BufWriter::with_capacity(1 << 20, file),
                error: None,
                written: 0,
                dropped: 0,
                max_events,
            })),
            tmp,
            path: path.to_path_buf(),
        })
    }

    /// A sink that writes into this file.
    pub fn sink(&self) -> Sink {
        Sink {
            state: Rc::clone(&self.state),
        }
    }

    /// Flushes and renames the file into place; on error, removes the partial file.
    pub fn finish(self) -> std::io::Result<Outcome> {
        let mut state = self.state.borrow_mut();
        let result = match state.error.take() {
            Some(e) => Err(e),
            None => state.out.flush(),
        };
        let outcome = Outcome {
            written: state.written,
            dropped: state.dropped,
        };
        drop(state);
        match result.and_then(|()| std::fs::rename(&self.tmp, &self.path)) {
            Ok(()) => Ok(outcome),
            Err(e) => {
                let _ = std::fs::remove_file(&self.tmp);
                Err(e)
            }
        }
    }
}

impl TraceSink for Sink {
    fn record(&mut self, t_ms: SimTime, event: &TraceEvent) {
        let mut state = self.state.borrow_mut();
        if state.error.is_some() {
            return;
        }
        if state.written >= state.max_events {
            state.dropped += 1;
            return;
        }
        let record = TraceRecord { t_ms, event };
        let result = serde_json::to_writer(&mut state.out, &record)
            .map_err(std::io::Error::from)
            .and_then(|()| state.out.write_all(b"\n"));
        match result {
            Ok(()) => state.written += 1,
            Err(e) => state.error = Some(e),
        }
    }
}
