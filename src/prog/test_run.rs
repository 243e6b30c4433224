//! [`Program::test_run`]: `BPF_PROG_TEST_RUN`.

use std::os::fd::AsFd;

use super::Program;
use crate::error::{Error, Result};
use crate::sys::{self, Errno, TestRunFlags};

/// Input and output buffers of one [`Program::test_run`].
///
/// Which fields a program type accepts is the kernel's business: packet programs (XDP, tc,
/// socket filters) take `data_in`/`data_out` and optionally a context; syscall programs take
/// only `ctx_in`, and the kernel writes the context back into it.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct TestRun<'a> {
    /// The packet.
    pub data_in: &'a [u8],
    /// Receives the packet after the run (may be shorter/longer than `data_in`).
    pub data_out: Option<&'a mut [u8]>,
    /// The context (`xdp_md`, `__sk_buff`, syscall program arguments, …).
    pub ctx_in: Option<&'a mut [u8]>,
    /// Receives the context after the run.
    pub ctx_out: Option<&'a mut [u8]>,
    /// Number of runs (0 counts as 1); `duration` is their average.
    pub repeat: u32,
    /// Flags (`BPF_F_TEST_RUN_ON_CPU`, `BPF_F_TEST_XDP_LIVE_FRAMES`, …).
    pub flags: TestRunFlags,
    /// CPU to run on (sets `BPF_F_TEST_RUN_ON_CPU` when `Some`).
    pub cpu: Option<u32>,
    /// Batch size (XDP live frames).
    pub batch_size: u32,
}

impl<'a> TestRun<'a> {
    /// A run on the packet `data`.
    pub fn with_data(data: &'a [u8]) -> Self {
        TestRun {
            data_in: data,
            ..Default::default()
        }
    }

    /// A run on the context `ctx` (written back for syscall programs).
    pub fn with_ctx(ctx: &'a mut [u8]) -> Self {
        TestRun {
            ctx_in: Some(ctx),
            ..Default::default()
        }
    }

    /// Sets the packet output buffer.
    pub fn data_out(mut self, out: &'a mut [u8]) -> Self {
        self.data_out = Some(out);
        self
    }

    /// Sets the context output buffer.
    pub fn ctx_out(mut self, out: &'a mut [u8]) -> Self {
        self.ctx_out = Some(out);
        self
    }

    /// Runs `n` times.
    pub fn repeat(mut self, n: u32) -> Self {
        self.repeat = n;
        self
    }

    /// Runs on `cpu`.
    pub fn cpu(mut self, cpu: u32) -> Self {
        self.cpu = Some(cpu);
        self
    }
}

/// What a test run returned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TestRunResult {
    /// The program's return value.
    pub retval: u32,
    /// Average run time in nanoseconds.
    pub duration_ns: u32,
    /// Bytes of packet written to `data_out`.
    pub data_size_out: u32,
    /// Bytes of context written to `ctx_out`.
    pub ctx_size_out: u32,
}

impl Program {
    /// `BPF_PROG_TEST_RUN`: runs the program once (or `repeat` times) on the given input.
    ///
    /// # Errors
    /// `ENOTSUPP` ([`Error::is_not_supported`]) for program types without test-run support;
    /// `EINVAL` for buffers the program type does not take; `ENOSPC` when `data_out` is too
    /// short for the output packet.
    pub fn test_run(&self, run: TestRun<'_>) -> Result<TestRunResult> {
        let mut flags = run.flags;
        if run.cpu.is_some() {
            flags |= TestRunFlags::RUN_ON_CPU;
        }
        let mut args = sys::TestRunArgs {
            data_in: run.data_in,
            data_out: run.data_out,
            ctx_in: run.ctx_in,
            ctx_out: run.ctx_out,
            repeat: run.repeat,
            flags,
            cpu: run.cpu.unwrap_or(0),
            batch_size: run.batch_size,
        };
        let out = sys::prog_test_run(self.as_fd(), &mut args).map_err(|e| {
            let hint = match e {
                e if e == Errno::ENOTSUPP => Some("this program type has no BPF_PROG_TEST_RUN support"),
                e if e == Errno::ENOSPC => Some("data_out or ctx_out is too short for the output"),
                e if e == Errno::EINVAL => {
                    Some("this program type does not take one of the given buffers, flags or repeat count")
                }
                _ => None,
            };
            Error::Syscall { call: "BPF_PROG_TEST_RUN", errno: e, context: self.ctx(), hint }
        })?;
        Ok(TestRunResult {
            retval: out.retval,
            duration_ns: out.duration,
            data_size_out: out.data_size_out,
            ctx_size_out: out.ctx_size_out,
        })
    }
}
