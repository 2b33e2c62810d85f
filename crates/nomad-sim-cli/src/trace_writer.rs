//! Writes the trace as JSON lines: to a regular file through a temporary name renamed into
//! place when complete, to a device as it is, or to standard output (`--trace -`).

use std::cell::RefCell;
use std::io::Write;
use std::path::Path;
use std::rc::Rc;

use nomad_sim_core::time::SimTime;
use nomad_sim_core::trace::{TraceEvent, TraceRecord, TraceSink};
use nomad_sim_output::OutFile;

struct State {
    out: OutFile,
    error: Option<std::io::Error>,
    written: u64,
    dropped: u64,
    max_events: u64,
    /// Standard output's reader went away: later events are dropped.
    closed: bool,
    /// Exit at once (status 0) when standard output's reader goes away.
    quit_when_closed: bool,
}

/// An open trace.
pub struct TraceFile {
    state: Rc<RefCell<State>>,
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
    fn new(out: OutFile, max_events: u64, quit_when_closed: bool) -> TraceFile {
        TraceFile {
            state: Rc::new(RefCell::new(State {
                out,
                error: None,
                written: 0,
                dropped: 0,
                max_events,
                closed: false,
                quit_when_closed,
            })),
        }
    }

    /// Opens `path` for writing (a temporary file beside a regular target).
    pub fn create(path: &Path, max_events: u64) -> std::io::Result<TraceFile> {
        Ok(TraceFile::new(OutFile::create(path)?, max_events, false))
    }

    /// Writes to standard output. When its reader goes away the process exits quietly with
    /// status 0 if `quit_when_closed` (nothing else is being written), else the trace stops
    /// and the run goes on to write its other outputs.
    pub fn stdout(max_events: u64, quit_when_closed: bool) -> TraceFile {
        TraceFile::new(OutFile::stdout(), max_events, quit_when_closed)
    }

    /// A sink that writes into this trace.
    pub fn sink(&self) -> Sink {
        Sink {
            state: Rc::clone(&self.state),
        }
    }

    /// Flushes and renames the file into place; on error, removes the partial file.
    pub fn finish(self) -> std::io::Result<Outcome> {
        let state = match Rc::try_unwrap(self.state) {
            Ok(cell) => cell.into_inner(),
            Err(_) => {
                return Err(std::io::Error::other(
                    "the trace is still held by the simulation",
                ))
            }
        };
        let outcome = Outcome {
            written: state.written,
            dropped: state.dropped,
        };
        if let Some(e) = state.error {
            return Err(e);
        }
        if state.closed {
            return Ok(outcome);
        }
        match state.out.commit() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(outcome),
            Err(e) => Err(e),
            Ok(()) => Ok(outcome),
        }
    }
}

impl TraceSink for Sink {
    fn record(&mut self, t_ms: SimTime, event: &TraceEvent) {
        let mut state = self.state.borrow_mut();
        if state.error.is_some() || state.closed {
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
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe && state.out.is_stdout() => {
                if state.quit_when_closed {
                    nomad_sim_output::cleanup::exit(0);
                }
                state.closed = true;
            }
            Err(e) => state.error = Some(e),
        }
    }
}
