//! `truce assess`: every point of a file against an agreement, in memory, counted.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::DateTime;
use serde_json::json;
use truce_core::points::{Method, count_in_force};
use truce_core::replay::{ReplaySummary, Tally};
use truce_core::{Assessor, PartySide, ZoneRef};
use truce_formats::summary::{Incidents, summary_json};

use crate::exit::Refusal;
use crate::load;

#[derive(clap::Args, Debug)]
pub struct AssessArgs {
    /// Points: CSV with a `lon,lat,time` header (time RFC 3339), NASA FIRMS CSV, or NDJSON.
    pub points: PathBuf,
    /// The agreement file (TOML) whose geometry and zones to assess against.
    #[arg(long)]
    pub agreement: PathBuf,
    /// Print the counts and timings as JSON.
    #[arg(long)]
    pub json: bool,
    /// Use the exact reference definitions (every arc, every edge) instead of the fast grid:
    /// thousands of times slower, for checking that both give the same counts.
    #[arg(long)]
    pub exact: bool,
}

pub fn run(args: AssessArgs) -> Result<()> {
    // The pool is this thread and one started now, while the file is read. Started by the
    // first parallel call instead, the workers began counting 0.6–5 ms into the timed step;
    // started early but asleep through the read, they still took ~4–6 ms to wake. This
    // thread, already running, counts from the first moment and the other joins when awake
    // (work stealing). What is timed stays the same work: every point read, counted. An
    // error only means the pool already exists.
    let _ = rayon::ThreadPoolBuilder::new()
        .use_current_thread()
        .build_global();
    let agreement = load::agreement(&args.agreement)?;

    let started = Instant::now();
    let bytes = std::fs::read(&args.points)
        .with_context(|| format!("cannot read {}", args.points.display()))?;
    let points = truce_formats::points::parse_points(&args.points.display().to_string(), &bytes)
        .map_err(|diagnostics| {
            let lines: Vec<String> = diagnostics
                .iter()
                .take(50)
                .map(ToString::to_string)
                .collect();
            Refusal::InvalidInput(format!(
                "{} problem(s) in the points:\n  {}",
                diagnostics.len(),
                lines.join("\n  ")
            ))
        })?;
    drop(bytes);
    let read_s = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let assessor = Assessor::new(&agreement);
    let build_s = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let method = if args.exact {
        Method::Exact
    } else {
        Method::Grid
    };
    let day_counts = count_in_force(&points, &agreement, &assessor, method);
    let assess_s = started.elapsed().as_secs_f64();

    let (stride, slots) = (day_counts.stride, agreement.zones.len() + 1);
    let mut tally = Tally::new(&agreement);
    let mut total = 0u64;
    for (at, &n) in day_counts
        .counts
        .iter()
        .enumerate()
        .filter(|&(_, &n)| n > 0)
    {
        let (day, slot, side) = (at / stride, (at % stride) / 2, at % 2);
        let side = if side == 1 {
            PartySide::Inside
        } else {
            PartySide::Outside
        };
        let zone = if slot + 1 == slots {
            ZoneRef::Outside
        } else {
            ZoneRef::Band(slot)
        };
        tally.add_observations(
            day_of(day_counts.first_day + day as i64)?,
            Some((side, zone)),
            n,
        );
        total += n;
    }
    for &t in points
        .unlocated_at_s
        .iter()
        .filter(|&&t| DateTime::from_timestamp(t, 0).is_some_and(|at| agreement.is_in_force_at(at)))
    {
        tally.add_observation(day_of(t.div_euclid(86_400))?, None);
        total += 1;
    }
    let (by_day, totals) = tally.finish();
    let summary = ReplaySummary {
        observations_total: total,
        by_day,
        totals,
        counted: Vec::new(),
        incidents: Vec::new(),
    };

    let mut doc = summary_json(&agreement, &summary, Incidents::Omitted);
    doc["points_read"] = json!(points.len());
    doc["timing"] = json!({"read_s": read_s, "build_s": build_s, "assess_s": assess_s});
    doc["method"] = json!(if args.exact { "exact" } else { "grid" });
    let stats = assessor.grid().cell_stats();
    doc["assessor"] = json!({
        "cells": stats.cells,
        "refined_cells": stats.refined_cells,
        "sub_cells": stats.sub_cells,
        "sub_cells_mixed": stats.sub_cells_mixed,
        "fine_cells": stats.fine_cells,
        "fine_cells_needing_distance": stats.fine_cells_needing_distance,
        "fine_cells_needing_side_test": stats.fine_cells_needing_side_test,
        "heap_bytes": assessor.grid().heap_bytes(),
    });
    let rate = points.positions.len() as f64 / assess_s.max(1e-9);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{} points read, {} counted (in force) under agreement {}",
            points.len(),
            total,
            agreement.id
        )?;
        for (party, c) in agreement.parties.iter().zip(&summary.totals) {
            let zones: Vec<String> = agreement
                .zones
                .iter()
                .map(|z| z.id.as_str())
                .chain(["outside"])
                .zip(&c.by_zone)
                .map(|(z, n)| format!("{z} {n}"))
                .collect();
            writeln!(out, "  {}: {}", party.id, zones.join(", "))?;
        }
        writeln!(
            out,
            "read {read_s:.3} s, build {build_s:.3} s, assess {assess_s:.3} s ({:.1} million points/s)",
            rate / 1e6
        )?;
    }
    Ok(())
}

fn day_of(day_number: i64) -> Result<chrono::NaiveDate> {
    DateTime::from_timestamp(day_number * 86_400, 0)
        .map(|t| t.date_naive())
        .ok_or_else(|| anyhow::anyhow!("day {day_number} is out of range"))
}
