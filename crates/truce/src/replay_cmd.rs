//! `truce replay` and `truce demo`: a scenario folder through the live path, summarised.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use truce_core::replay::{ReplaySummary, summarise};
use truce_core::{Agreement, Assessment, Assessor, Observation};
use truce_formats::summary::{Incidents, summary_json};

use crate::load::{self, LoadedFile};

#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// The scenario folder: agreement.toml, firms/*.csv, observations/*.ndjson.
    pub folder: PathBuf,
    #[command(flatten)]
    pub store: crate::ingest_cmd::StoreArgs,
    /// Print the summary as the JSON document of the replay contract.
    #[arg(long)]
    pub json: bool,
    /// Also write one CSV row per counted observation (source, source_ref, time, lon, lat,
    /// side, distance_m, zone, incident_id), so every count can be traced to its rows.
    #[arg(long, value_name = "FILE.csv")]
    pub detections: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// The store to replay into (created on first use).
    #[arg(long, default_value = "truce-demo.db")]
    pub db: PathBuf,
    /// Print the summary as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The bundled scenario: next to the sources this binary was built from, or under the
/// current directory.
fn bundled_scenario() -> PathBuf {
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/scenario-2025-09");
    if built_from.join("agreement.toml").is_file() {
        built_from
    } else {
        PathBuf::from("data/scenario-2025-09")
    }
}

pub fn demo(args: DemoArgs) -> Result<()> {
    let folder = bundled_scenario();
    if !args.json {
        println!(
            "Replaying the bundled scenario {} into {}",
            folder.display(),
            args.db.display()
        );
        println!(
            "(real NASA FIRMS VIIRS detections, 2025-08-31 .. 2025-09-14, against the DeepState line of 2025-08-31)\n"
        );
    }
    let detections = args.db.with_extension("detections.csv");
    run(ReplayArgs {
        folder,
        store: crate::ingest_cmd::StoreArgs {
            db: args.db,
            wait_s: crate::ingest_cmd::DEFAULT_WAIT_S,
        },
        json: args.json,
        detections: Some(detections.clone()),
    })?;
    if !args.json {
        println!(
            "\nEvery counted detection, with its side, distance and incident: {}",
            detections.display()
        );
    }
    Ok(())
}

/// The observation files of a scenario folder, in replay order: `firms/*.csv` then
/// `observations/*.ndjson`, each by file name (byte-wise).
pub fn scenario_files(folder: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for (dir, extension) in [("firms", "csv"), ("observations", "ndjson")] {
        let dir = folder.join(dir);
        if !dir.is_dir() {
            continue;
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .with_context(|| format!("cannot list {}", dir.display()))?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<std::io::Result<_>>()
            .with_context(|| format!("cannot list {}", dir.display()))?;
        found.retain(|p| p.is_file() && p.extension().is_some_and(|e| e == extension));
        found.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
        files.extend(found);
    }
    Ok(files)
}

pub fn run(args: ReplayArgs) -> Result<()> {
    let agreement = load::agreement(&args.folder.join("agreement.toml"))?;
    let files = load::observation_files(&scenario_files(&args.folder)?)?;
    load::refuse_diagnostics(&files, 50)?;
    let assessor = Assessor::new(&agreement);
    let assessments: Vec<Vec<Option<Assessment>>> = files
        .iter()
        .map(|f| load::assess_batch(&assessor, &f.batch))
        .collect();

    let stored = crate::ingest_cmd::store_files(
        &args.store,
        &files,
        Some((&agreement, &assessments)),
        args.json,
    )?;

    let observations: Vec<Observation> = files
        .iter()
        .flat_map(|f| f.batch.observations.iter().map(|p| p.observation.clone()))
        .collect();
    let flat: Vec<Option<Assessment>> = assessments.into_iter().flatten().collect();
    let summary = summarise(&agreement, &observations, &flat);

    if let Some(path) = &args.detections {
        write_detections(path, &agreement, &observations, &summary)?;
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        serde_json::to_writer_pretty(
            &mut out,
            &summary_json(&agreement, &summary, Incidents::Included),
        )?;
        writeln!(out)?;
    } else {
        print_table(&mut out, &agreement, &summary, &files)?;
        let (new, duplicate, revised) = stored.iter().fold((0, 0, 0), |t, o| {
            (t.0 + o.new, t.1 + o.duplicate, t.2 + o.revised)
        });
        writeln!(
            out,
            "Store {}: {new} new, {duplicate} duplicate, {revised} revised observations; assessments under version {}.",
            args.store.db.display(),
            &agreement.version[..16]
        )?;
    }
    Ok(())
}

fn write_detections(
    path: &Path,
    agreement: &Agreement,
    observations: &[Observation],
    summary: &ReplaySummary,
) -> Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    w.write_record([
        "source",
        "source_ref",
        "time",
        "lon",
        "lat",
        "side",
        "distance_m",
        "zone",
        "incident_id",
    ])?;
    for c in &summary.counted {
        let o = &observations[c.input_index];
        let (lon, lat) = o
            .position()
            .map(|p| (p.lon_deg.to_string(), p.lat_deg.to_string()))
            .unwrap_or_default();
        let (side, distance, zone) = match c.assessment {
            Some(a) => (
                agreement.parties[agreement.party_index(a.side)].id.clone(),
                format!("{:.3}", a.distance_m),
                a.zone.id(agreement).to_owned(),
            ),
            None => Default::default(),
        };
        w.write_record([
            o.key.source.as_str(),
            o.key.source_ref.as_str(),
            &o.observed_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            &lon,
            &lat,
            &side,
            &distance,
            &zone,
            &c.incident_id.map(|id| id.to_string()).unwrap_or_default(),
        ])?;
    }
    w.flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn print_table(
    out: &mut impl Write,
    agreement: &Agreement,
    summary: &ReplaySummary,
    files: &[LoadedFile],
) -> Result<()> {
    let rows_read: usize = files.iter().map(|f| f.batch.observations.len()).sum();
    writeln!(out, "Agreement {} — {}", agreement.id, agreement.title)?;
    writeln!(
        out,
        "  in force from {}{}",
        agreement.effective_at.to_rfc3339(),
        agreement
            .expires_at
            .map(|t| format!(" until {}", t.to_rfc3339()))
            .unwrap_or_default()
    )?;
    writeln!(out, "  version {}", &agreement.version[..16])?;
    writeln!(
        out,
        "Read {rows_read} observations from {} files; {} counted (in force), {} incidents in `{}`.\n",
        files.len(),
        summary.observations_total,
        summary.incidents.len(),
        agreement.zones.first().map(|z| z.id.as_str()).unwrap_or("")
    )?;

    let zone_ids: Vec<&str> = agreement
        .zones
        .iter()
        .map(|z| z.id.as_str())
        .chain(["outside", "incidents"])
        .collect();
    let mut header = format!("{:<10}", "day");
    for party in &agreement.parties {
        for z in &zone_ids {
            header.push_str(&format!(
                " {:>width$}",
                format!("{} {}", party.id, abbreviate(z)),
                width = 9
            ));
        }
    }
    writeln!(out, "{header}")?;
    let row = |label: &str, counts: &[truce_core::replay::PartyCounts]| {
        let mut line = format!("{label:<10}");
        for c in counts {
            for n in c.by_zone.iter().chain([&c.incidents]) {
                line.push_str(&format!(" {n:>9}"));
            }
        }
        line
    };
    for (day, counts) in &summary.by_day {
        writeln!(out, "{}", row(&day.to_string(), counts))?;
    }
    writeln!(out, "{}", row("total", &summary.totals))?;
    writeln!(
        out,
        "\nColumns: {}.",
        zone_ids
            .iter()
            .map(|z| format!("{} = {z}", abbreviate(z)))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    Ok(())
}

/// A short column label for a zone id: its initials (`heavy_weapons_withdrawal` → `hww`).
fn abbreviate(zone_id: &str) -> String {
    match zone_id {
        "outside" => "out".into(),
        "incidents" => "inc".into(),
        id => {
            let initials: String = id
                .split(['_', '-'])
                .filter_map(|w| w.chars().next())
                .collect();
            if initials.len() >= 2 {
                initials
            } else {
                id.chars().take(4).collect()
            }
        }
    }
}
