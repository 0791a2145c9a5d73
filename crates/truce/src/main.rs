//! `truce`: the command line of the Truce ceasefire monitoring and verification system.

mod assess_cmd;
mod evaluate_cmd;
mod exit;
mod incidents_cmd;
mod ingest_cmd;
mod load;
mod replay_cmd;
mod simulate_cmd;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Truce checks what satellites, sensors, patrols and parties report against the terms of a
/// ceasefire agreement: which side of the line, how far from it, in which zone, and which
/// reports belong to the same incident.
#[derive(Parser, Debug)]
#[command(name = "truce", version, about, long_about = None, propagate_version = true)]
#[command(
    after_help = "Start with `truce demo`: it replays the bundled real-data scenario (NASA FIRMS \
detections against the DeepState line of 31 August 2025) and shows what happened.\n\n\
Exit codes: 0 success, 1 failure (I/O, store), 2 usage error, 3 input rejected (a file or \
agreement that does not parse; nothing was stored), 4 store refused (written by a newer truce)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Ingest observation files (NASA FIRMS CSV or NDJSON, recognised by content) into the store.
    ///
    /// Each file is one atomic batch: every line is stored or none is. Re-ingesting a file
    /// adds nothing and reports its records as duplicates; a changed record becomes a new
    /// revision and the old one is kept.
    Ingest(ingest_cmd::IngestArgs),
    /// Replay a scenario folder: agreement.toml, firms/*.csv, observations/*.ndjson.
    ///
    /// Every observation is ingested, assessed (side, distance to the contact line, zone),
    /// linked into incidents, and summarised per day, party and zone.
    Replay(replay_cmd::ReplayArgs),
    /// Replay the bundled real-data scenario (data/scenario-2025-09) into a local store.
    Demo(replay_cmd::DemoArgs),
    /// Assess a file of points in memory against an agreement and count them per day, side, zone.
    Assess(assess_cmd::AssessArgs),
    /// Fuse observations into graded incidents and export them (NDJSON with --json).
    Incidents(incidents_cmd::IncidentsArgs),
    /// Simulate a scenario: ground-truth events and what a realistic sensor mix reports.
    Simulate(simulate_cmd::SimulateArgs),
    /// Score the system's incidents for a simulated scenario against its truth files.
    Evaluate(evaluate_cmd::EvaluateArgs),
}

/// Where the store lives unless `--db` says otherwise.
pub const DEFAULT_DB: &str = "truce.db";

pub fn default_db() -> PathBuf {
    PathBuf::from(DEFAULT_DB)
}

fn main() -> std::process::ExitCode {
    // mimalloc (`truce_alloc`, installed by linking it), keeping what it frees: every
    // command runs and exits.
    truce_alloc::keep_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ingest(args) => ingest_cmd::run(args),
        Command::Replay(args) => replay_cmd::run(args),
        Command::Demo(args) => replay_cmd::demo(args),
        Command::Assess(args) => assess_cmd::run(args),
        Command::Incidents(args) => incidents_cmd::run(args),
        Command::Simulate(args) => simulate_cmd::run(args),
        Command::Evaluate(args) => evaluate_cmd::run(args),
    };
    exit::report(result)
}
