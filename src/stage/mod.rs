//! One module per stage of the pipeline (instrument, train, merge, optimize,
//! bolt), and the commands built on them (compare, check, overlap, all), with
//! what they share: delivering the chosen binaries. The commands that only look
//! or help (doctor, status, show, profiles, try) are in `command`.

pub mod all;
pub mod bolt;
pub mod carry;
pub mod check;
pub mod compare;
pub mod deliver;
pub mod instrument;
pub mod matrix;
pub mod merge;
pub mod optimize;
pub mod overlap;
pub mod train;

use crate::pipeline;

/// The pipeline's stages, handed to the pipeline once ([`register`]): the one
/// list a new stage is added to.
static PIPELINE: [pipeline::Registered; 6] = [
    pipeline::Registered::of::<instrument::Instrument>(),
    pipeline::Registered::of::<train::Train>(),
    pipeline::Registered::of::<merge::Merge>(),
    pipeline::Registered::of::<carry::Carry>(),
    pipeline::Registered::of::<optimize::Optimize>(),
    pipeline::Registered::of::<bolt::Bolt>(),
];

/// Hands the pipeline its stages; done before any command runs (and by tests).
pub fn register() {
    pipeline::register(&PIPELINE);
}
