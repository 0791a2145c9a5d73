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
use truce_formats::points::{DayRun, Points, Positions};
use truce_formats::summary::{Incidents, summary_json};
use truce_geo::{BulkPoint, Classification};

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
    let counts = match &points.positions {
        Positions::E7(positions) => count_by_method(
            positions, &points, &window, &agreement, &assessor, args.exact,
        ),
        Positions::Degrees(positions) => count_by_method(
            positions, &points, &window, &agreement, &assessor, args.exact,
        ),
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
    doc["points_read"] = json!(points.len());
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

/// Which points count, and how counts are laid out.
struct Window {
    effective_s: i64,
    expires_s: i64,
    first_day: i64,
    slots: usize,
}

/// [`count`] with the grid, or with the exact reference definitions point by point.
fn count_by_method<P: BulkPoint + Sync>(
    positions: &[P],
    points: &Points,
    w: &Window,
    agreement: &truce_core::Agreement,
    assessor: &Assessor,
    exact: bool,
) -> Vec<u64> {
    if exact {
        count(positions, points, w, |block: &[P], codes: &mut [u8]| {
            for (p, code) in block.iter().zip(codes.iter_mut()) {
                let a = agreement.assess_exact(p.exact());
                let band = match a.zone {
                    ZoneRef::Band(i) => i as u8,
                    ZoneRef::Outside => agreement.zones.len() as u8,
                };
                *code = Classification {
                    inside: a.side == PartySide::Inside,
                    band,
                }
                .code();
            }
        })
    } else {
        let grid = assessor.grid().view();
        count(positions, points, w, |block: &[P], codes: &mut [u8]| {
            grid.classify_codes(block, codes)
        })
    }
}

/// Codes a counting job classifies at a time.
const CODES: usize = 4096;

/// Counts points per (day, zone, side) in parallel: `counts[(day - first_day) * 2 * slots +
/// code]`, where a point's code is `zone * 2 + side` (see [`Classification::code`]). Work is
/// split into runs of one day; a day wholly in force is counted without looking at a time,
/// the first and last days of the agreement's force point by point. No allocation per point.
fn count<P: Sync>(
    positions: &[P],
    points: &Points,
    w: &Window,
    classify: impl Fn(&[P], &mut [u8]) + Sync,
) -> Vec<u64> {
    let stride = 2 * w.slots;
    let jobs: Vec<DayRun> = points
        .days
        .iter()
        .filter(|run| run.day >= w.first_day && run.day * 86_400 < w.expires_s)
        .flat_map(|run| {
            (run.start..run.end)
                .step_by(CHUNK)
                .map(move |start| DayRun {
                    day: run.day,
                    start,
                    end: (start + CHUNK).min(run.end),
                })
        })
        .collect();
    let per_job: Vec<(i64, [u64; CODE_SLOTS])> = jobs
        .par_iter()
        .map(|job| {
            let day_start_s = job.day * 86_400;
            let whole_day = w.effective_s <= day_start_s && day_start_s + 86_400 <= w.expires_s;
            let times = (!whole_day).then(|| &points.observed_at_s[job.start..job.end]);
            (
                job.day,
                count_run(&positions[job.start..job.end], times, w, &classify),
            )
        })
        .collect();
    let days = per_job
        .iter()
        .map(|&(day, _)| (day - w.first_day + 1) as usize)
        .max()
        .unwrap_or(0);
    let mut counts = vec![0u64; days * stride];
    for (day, job_counts) in per_job {
        let base = (day - w.first_day) as usize * stride;
        for (code, &n) in job_counts.iter().enumerate().filter(|&(_, &n)| n > 0) {
            // Codes of a grid with `slots - 1` bands are below `stride`.
            counts[base + code.min(stride - 1)] += n;
        }
    }
    counts
}

/// Every code a byte of [`Classification::code`] can hold below the grid's mixed codes.
const CODE_SLOTS: usize = 128;

/// The counts per code of one run of one day's points; with `times_s`, only of the points in
/// force. Four interleaved tables, so that consecutive points of one code do not wait on each
/// other's increment.
fn count_run<P>(
    positions: &[P],
    times_s: Option<&[i64]>,
    w: &Window,
    classify: &impl Fn(&[P], &mut [u8]),
) -> [u64; CODE_SLOTS] {
    let mut tables = [[0u32; 4]; CODE_SLOTS];
    let mut codes = [0u8; CODES];
    for (k, block) in positions.chunks(CODES).enumerate() {
        let codes = &mut codes[..block.len()];
        classify(block, codes);
        match times_s {
            None => {
                for (i, &code) in codes.iter().enumerate() {
                    tables[usize::from(code) % CODE_SLOTS][i % 4] += 1;
                }
            }
            Some(times_s) => {
                let times_s = &times_s[k * CODES..k * CODES + block.len()];
                for (i, (&code, &t)) in codes.iter().zip(times_s).enumerate() {
                    let in_force = w.effective_s <= t && t < w.expires_s;
                    tables[usize::from(code) % CODE_SLOTS][i % 4] += u32::from(in_force);
                }
            }
        }
    }
    tables.map(|t| t.iter().map(|&n| u64::from(n)).sum())
}

fn day_of(day_number: i64) -> Result<chrono::NaiveDate> {
    DateTime::from_timestamp(day_number * 86_400, 0)
        .map(|t| t.date_naive())
        .ok_or_else(|| anyhow::anyhow!("day {day_number} is out of range"))
}
