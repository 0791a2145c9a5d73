//! `truce assess`: every point of a file against an agreement, in memory, counted.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::DateTime;
use rayon::prelude::*;
use serde_json::json;
use truce_core::replay::{ReplaySummary, Tally};
use truce_core::{Assessor, PartySide, ZoneRef};
use truce_formats::points::Points;
use truce_formats::summary::{Incidents, summary_json};
use truce_geo::{Classification, LonLat};

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

/// Points per unit of parallel work.
const CHUNK: usize = 1 << 16;

pub fn run(args: AssessArgs) -> Result<()> {
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
    let effective_s = agreement.effective_at.timestamp();
    let expires_s = agreement.expires_at.map_or(i64::MAX, |t| t.timestamp());
    let first_day = effective_s.div_euclid(86_400);
    let slots = agreement.zones.len() + 1;
    let stride = 2 * slots;
    let window = Window {
        effective_s,
        expires_s,
        first_day,
        slots,
    };
    let counts = if args.exact {
        count(&points, &window, |p| {
            let a = agreement.assess_exact(p);
            let band = match a.zone {
                ZoneRef::Band(i) => i as u8,
                ZoneRef::Outside => agreement.zones.len() as u8,
            };
            Classification {
                inside: a.side == PartySide::Inside,
                band,
            }
        })
    } else {
        let grid = assessor.grid().view();
        count(&points, &window, move |p| grid.classify(p))
    };
    let assess_s = started.elapsed().as_secs_f64();

    let mut tally = Tally::new(&agreement);
    let mut total = 0u64;
    for (at, &n) in counts.iter().enumerate().filter(|&(_, &n)| n > 0) {
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
        tally.add_observations(day_of(first_day + day as i64)?, Some((side, zone)), n);
        total += n;
    }
    for &t in points
        .unlocated_at_s
        .iter()
        .filter(|&&t| effective_s <= t && t < expires_s)
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
    doc["points_read"] = json!(points.positions.len() + points.unlocated_at_s.len());
    doc["timing"] = json!({"read_s": read_s, "build_s": build_s, "assess_s": assess_s});
    doc["method"] = json!(if args.exact { "exact" } else { "grid" });
    let stats = assessor.grid().cell_stats();
    doc["assessor"] = json!({
        "cells": stats.cells,
        "refined_cells": stats.refined_cells,
        "sub_cells": stats.sub_cells,
        "sub_cells_needing_distance": stats.sub_cells_needing_distance,
        "sub_cells_needing_side_test": stats.sub_cells_needing_side_test,
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
            points.positions.len() + points.unlocated_at_s.len(),
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

/// Which points count, and how counts are laid out.
struct Window {
    effective_s: i64,
    expires_s: i64,
    first_day: i64,
    slots: usize,
}

/// Counts points per (day, zone, side) in parallel: `counts[(day - first_day) * 2 * slots +
/// zone * 2 + side]`, one flat vector per chunk of points, summed at the end; no allocation
/// per point.
fn count(
    points: &Points,
    w: &Window,
    classify: impl Fn(LonLat) -> Classification + Copy + Sync,
) -> Vec<u64> {
    points
        .positions
        .par_chunks(CHUNK)
        .zip(points.observed_at_s.par_chunks(CHUNK))
        .map(|(positions, times)| count_chunk(positions, times, w, classify))
        .reduce(Vec::new, |mut a, b| {
            if a.len() < b.len() {
                a.resize(b.len(), 0);
            }
            a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
            a
        })
}

/// The counts of one chunk. `classify` comes by value and is inlined: the grid's settled
/// cells then cost no call, and its fields stay in registers.
fn count_chunk(
    positions: &[LonLat],
    times_s: &[i64],
    w: &Window,
    classify: impl Fn(LonLat) -> Classification,
) -> Vec<u64> {
    let stride = 2 * w.slots;
    let (effective_s, expires_s) = (w.effective_s, w.expires_s);
    // In force means at or after `effective_s`, hence on or after the first day: the day
    // index is a division of a non-negative number.
    let first_day_s = w.first_day * 86_400;
    let mut counts = vec![0u64; stride * 32];
    for (&p, &t) in positions.iter().zip(times_s) {
        let c = classify(p);
        if t < effective_s || t >= expires_s {
            continue;
        }
        let day = ((t - first_day_s) as u64 / 86_400) as usize;
        let at = day * stride + usize::from(c.band) * 2 + usize::from(c.inside);
        if at >= counts.len() {
            counts.resize((at / stride + 32) * stride, 0);
        }
        counts[at] += 1;
    }
    counts
}

fn day_of(day_number: i64) -> Result<chrono::NaiveDate> {
    DateTime::from_timestamp(day_number * 86_400, 0)
        .map(|t| t.date_naive())
        .ok_or_else(|| anyhow::anyhow!("day {day_number} is out of range"))
}
