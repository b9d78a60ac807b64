//! The real [`Executor`]: runs the benchmark workloads and the startup command
//! with each variant's binaries, through the workload contract.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use indicatif::ProgressBar;

use super::Executor;
use crate::cargo::Binary;
use crate::config::Workload;
use crate::context::Ctx;
use crate::process::Cmd;
use crate::workload::metrics::{self, Metric};
use crate::workload::{self, Phase};

/// Runs the real workloads (and the startup command) with the variants' binaries.
pub struct RealExecutor<'a> {
    pub ctx: &'a Ctx,
    pub workloads: Vec<&'a Workload>,
    /// Name and binaries of each variant.
    pub variants: Vec<(String, Vec<Binary>)>,
    /// The startup run's arguments; measured as the workload after the last.
    pub startup: Option<Vec<String>>,
    pub started: Instant,
    pub bar: ProgressBar,
    /// The figures of the last workload run.
    pub metrics: Vec<Metric>,
}

/// Runs per startup sample: one process start is too short to time alone.
const STARTUP_BATCH: u32 = 10;

impl std::fmt::Debug for RealExecutor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealExecutor").field("variants", &self.variants.len()).finish()
    }
}

impl Executor for RealExecutor<'_> {
    fn run(&mut self, w: usize, v: usize) -> Result<f64> {
        crate::process::check_interrupted()?;
        let (variant, binaries) = &self.variants[v];
        let logs = self.ctx.layout.logs(Phase::Bench.name());
        if let Some(wl) = self.workloads.get(w) {
            self.bar.set_message(format!("{} with {variant}", wl.name));
            let cmd = workload::command(self.ctx, wl, Phase::Bench, binaries, &[])?;
            let log = logs.join(format!("{}.{}.log", wl.name, variant.replace('+', "-")));
            let finished = workload::run(self.ctx, wl, &cmd, &log)?;
            if !finished.outcome.success() {
                return Err(workload::failed(wl, &format!("benchmarking of the {variant} binary"), &finished, &log));
            }
            self.metrics = metrics::read(wl, &metrics::path(self.ctx, wl))?;
            return Ok(finished.elapsed.as_secs_f64());
        }
        let args = self.startup.as_ref().context("no startup run")?;
        let cmd = Cmd::new(&binaries[0].path).args(args).dir(&self.ctx.project.dir);
        let log = logs.join(format!("startup.{}.log", variant.replace('+', "-")));
        let mut total = 0.0;
        for _ in 0..STARTUP_BATCH {
            let finished = cmd.run_logged(&log, None, Some(Duration::from_secs(10)))?;
            if !finished.outcome.success() {
                bail!("the startup run `{}` of the {variant} binary ended with {}", cmd.display(), finished.outcome);
            }
            total += finished.elapsed.as_secs_f64();
        }
        Ok(total / f64::from(STARTUP_BATCH))
    }

    fn take_metrics(&mut self) -> Vec<Metric> {
        std::mem::take(&mut self.metrics)
    }

    fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}
