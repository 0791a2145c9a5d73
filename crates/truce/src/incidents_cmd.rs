//! `truce incidents`: observations from a scenario folder or a store, fused into graded
//! incidents, printed as NDJSON (`--json`, the export of `shared/spec/evaluation.md`) or a table.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::Utc;
use truce_core::fusion::{Fusion, FusionConfig, SourceRegistry, fuse_with};
use truce_core::replay::last_revisions;
use truce_core::{Agreement, Assessor, Observation};
use truce_formats::incidents::{equipment_json, incident_detail_text, incidents_ndjson};
use truce_geo::LonLat;
use truce_store::{AgreementRef, NewFusion, ObservationId, Store};

use crate::exit::Refusal;
use crate::ingest_cmd::{agreement_summary, store_refusal};
use crate::load;

#[derive(clap::Args, Debug)]
pub struct IncidentsArgs {
    /// A scenario folder: observations/*.ndjson, firms/*.csv, and optionally sources.csv and
    /// agreement.toml.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "db",
        required_unless_present = "db"
    )]
    pub folder: Option<PathBuf>,
    /// A store: the current revision of every observation it holds.
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// The sources registry (default: the folder's sources.csv, if there is one). Sources it
    /// does not match are graded F, discipline other.
    #[arg(long, value_name = "FILE.csv")]
    pub sources: Option<PathBuf>,
    /// An agreement whose zones and parties the equipment estimates are counted in (default:
    /// the folder's agreement.toml, if there is one).
    #[arg(long, value_name = "FILE.toml")]
    pub agreement: Option<PathBuf>,
    /// Print NDJSON, one incident a line.
    #[arg(long)]
    pub json: bool,
    /// Store the fusion in the store of --db: its incidents, the incident each observation
    /// is in, and the equipment estimates, with the sources registry and agreement used
    /// (nothing is written when the same fusion is stored already).
    #[arg(long)]
    pub save: bool,
}

pub fn run(args: IncidentsArgs) -> Result<()> {
    if args.save && args.db.is_none() {
        return Err(Refusal::InvalidInput(
            "--save stores the fusion of a store's observations in that store: give --db PATH"
                .into(),
        )
        .into());
    }
    let (observations, ids) = match (&args.folder, &args.db) {
        (Some(folder), _) => (folder_observations(folder)?, Vec::new()),
        (None, Some(db)) => store_observations(db)?,
        (None, None) => {
            return Err(Refusal::InvalidInput("give --folder DIR or --db PATH".into()).into());
        }
    };
    let sources_path = args.sources.clone().or_else(|| {
        args.folder
            .as_ref()
            .map(|f| f.join("sources.csv"))
            .filter(|p| p.is_file())
    });
    let (sources, sources_csv) = match &sources_path {
        Some(path) => {
            let (registry, text) = sources_file(path)?;
            (registry, Some(text))
        }
        None => (SourceRegistry::default(), None),
    };
    let agreement_path = args.agreement.clone().or_else(|| {
        args.folder
            .as_ref()
            .map(|f| f.join("agreement.toml"))
            .filter(|p| p.is_file())
    });
    let agreement = agreement_path.as_deref().map(load::agreement).transpose()?;

    let fusion = fuse_observations(&observations, &sources, agreement.as_ref());
    if let (true, Some(db)) = (args.save, &args.db) {
        save(
            db,
            &fusion,
            &ids,
            sources_csv.as_deref(),
            agreement.as_ref(),
        )?;
    }

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = if args.json {
        out.write_all(incidents_ndjson(&fusion, &observations).as_bytes())
            .map_err(anyhow::Error::from)
    } else {
        print_table(&mut out, &fusion, &observations, sources_path.as_deref())
    }
    .and_then(|()| out.flush().map_err(anyhow::Error::from));
    match written {
        // A reader that stopped early (`| head`) is not a failure.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}

/// Stores `fusion` of the store's observations `ids` and says what was stored (on stderr:
/// stdout may be the NDJSON export).
fn save(
    db: &Path,
    fusion: &Fusion,
    ids: &[ObservationId],
    sources_csv: Option<&str>,
    agreement: Option<&Agreement>,
) -> Result<()> {
    let mut store = Store::open(db).map_err(store_refusal)?;
    let summary = agreement.map(agreement_summary);
    // What was fused, as of when it was read: an ingest may add observations before the
    // fusion is stored.
    let label = format!(
        "current observations, ids up to {}",
        ids.iter().max().map_or(0, |id| id.0)
    );
    let new = NewFusion {
        made_at: Utc::now(),
        label: &label,
        sources_csv,
        agreement: agreement.map(|a| AgreementRef {
            version: &a.version,
            id: &a.id,
            text: summary.as_deref(),
        }),
    };
    let report = store
        .record_fusion(&new, fusion, ids, incident_detail_text)
        .map_err(store_refusal)?;
    if report.duplicate {
        eprintln!(
            "The same fusion is stored already, as fusion {}: nothing written.",
            report.fusion_id.0
        );
    } else {
        eprintln!(
            "Stored fusion {}: {} incidents of {} observations, {} equipment estimates, in {}.",
            report.fusion_id.0,
            report.incidents,
            report.observations,
            report.equipment,
            db.display()
        );
    }
    Ok(())
}

/// Fuses with the default evidence rule; with an agreement, equipment is counted per zone
/// (a band id or `outside`) and per the party holding the side.
fn fuse_observations(
    observations: &[Observation],
    sources: &SourceRegistry,
    agreement: Option<&Agreement>,
) -> Fusion {
    let Some(agreement) = agreement else {
        return fuse_with(observations, sources, &FusionConfig::default());
    };
    let assessor = Assessor::new(agreement);
    let assess = |p: LonLat| {
        let a = assessor.assess(p);
        (
            a.zone.id(agreement).to_owned(),
            agreement.parties[agreement.party_index(a.side)].id.clone(),
        )
    };
    let config = FusionConfig {
        assess: Some(&assess),
        ..FusionConfig::default()
    };
    fuse_with(observations, sources, &config)
}

/// The folder's observations (the last revision of each key, in file order), refusing a
/// folder with any bad file.
fn folder_observations(folder: &Path) -> Result<Vec<Observation>> {
    if !folder.is_dir() {
        return Err(Refusal::InvalidInput(format!("{} is not a folder", folder.display())).into());
    }
    let files = load::observation_files(&crate::replay_cmd::scenario_files(folder)?)?;
    load::refuse_diagnostics(&files, 50)?;
    let all: Vec<Observation> = files
        .into_iter()
        .flat_map(|f| f.batch.observations.into_iter().map(|p| p.observation))
        .collect();
    Ok(current(all))
}

fn current(mut all: Vec<Observation>) -> Vec<Observation> {
    let kept = last_revisions(&all);
    if kept.len() == all.len() {
        return all;
    }
    let mut keep = vec![false; all.len()];
    for i in kept {
        keep[i] = true;
    }
    let mut k = 0;
    all.retain(|_| {
        k += 1;
        keep[k - 1]
    });
    all
}

/// The current revision of every observation in a store, read only, with their ids.
fn store_observations(db: &Path) -> Result<(Vec<Observation>, Vec<ObservationId>)> {
    let store = Store::open_read_only(db).map_err(store_refusal)?;
    let mut bodies = String::new();
    let mut ids = Vec::new();
    store
        .for_each_current_observation(|id, body| {
            ids.push(id);
            bodies.push_str(body);
            bodies.push('\n');
        })
        .map_err(store_refusal)?;
    let shown = format!("{} (current observations)", db.display());
    let batch = truce_formats::ndjson::parse(&shown, bodies.as_bytes());
    if let Some(d) = batch.diagnostics.first() {
        return Err(Refusal::InvalidInput(format!(
            "{} stored observation(s) do not parse; first: {d}",
            batch.diagnostics.len()
        ))
        .into());
    }
    let observations: Vec<Observation> = batch
        .observations
        .into_iter()
        .map(|p| p.observation)
        .collect();
    if observations.len() != ids.len() {
        return Err(Refusal::Store(format!(
            "{shown}: {} rows read as {} observations (a body is not one JSON line)",
            ids.len(),
            observations.len()
        ))
        .into());
    }
    Ok((observations, ids))
}

/// The registry of a sources file, and its text.
fn sources_file(path: &Path) -> Result<(SourceRegistry, String)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let parsed = truce_formats::sources::parse(&path.display().to_string(), &bytes);
    if !parsed.diagnostics.is_empty() {
        let mut message = format!(
            "{} problem(s) in the sources registry:",
            parsed.diagnostics.len()
        );
        for d in parsed.diagnostics.iter().take(50) {
            message.push_str("\n  ");
            message.push_str(&d.to_string());
        }
        return Err(Refusal::InvalidInput(message).into());
    }
    // (A registry that parsed is text; a stray invalid byte would be kept as U+FFFD.)
    Ok((
        parsed.registry,
        String::from_utf8_lossy(&bytes).into_owned(),
    ))
}

fn print_table(
    out: &mut impl Write,
    fusion: &Fusion,
    observations: &[Observation],
    sources: Option<&Path>,
) -> Result<()> {
    let mut counts = [0usize; 4];
    for i in &fusion.incidents {
        counts[i.status as usize] += 1;
    }
    writeln!(
        out,
        "{} observations in {} incidents: {} confirmed, {} corroborated, {} reported, {} dismissed.",
        observations.len(),
        fusion.incidents.len(),
        counts[2],
        counts[1],
        counts[0],
        counts[3]
    )?;
    match sources {
        Some(path) => writeln!(out, "Sources graded by {}.\n", path.display())?,
        None => writeln!(
            out,
            "No sources registry: every source is graded F, discipline other.\n"
        )?,
    }
    writeln!(
        out,
        "{:<8} {:<12} {:>5} {:<20} {:<20} {:>10} {:>10} {:>8} {:>7}  kinds",
        "id", "status", "conf", "first_at", "last_at", "lon", "lat", "±m", "members"
    )?;
    for i in &fusion.incidents {
        let (lon, lat, u) = match i.location {
            Some((p, u)) => (
                format!("{:.5}", p.lon_deg),
                format!("{:.5}", p.lat_deg),
                format!("{u:.0}"),
            ),
            None => ("bearing".into(), String::new(), String::new()),
        };
        let kinds: Vec<&str> = i.kinds.iter().map(|k| k.as_str()).collect();
        writeln!(
            out,
            "{:<8} {:<12} {:>5.2} {:<20} {:<20} {:>10} {:>10} {:>8} {:>7}  {}",
            i.id,
            i.status.as_str(),
            i.confidence,
            i.first_at.format("%Y-%m-%dT%H:%M:%SZ"),
            i.last_at.format("%Y-%m-%dT%H:%M:%SZ"),
            lon,
            lat,
            u,
            i.members.len(),
            kinds.join(",")
        )?;
        if let Some(reason) = i.reasons().into_iter().find(|r| r.starts_with("dismissed")) {
            writeln!(out, "         {reason}")?;
        }
    }
    if !fusion.equipment.is_empty() {
        writeln!(out, "\nEquipment present (lower–upper bound):")?;
        for e in &fusion.equipment {
            let j = equipment_json(e, observations);
            writeln!(
                out,
                "  {} {} {}: {}–{} ({} sightings)",
                e.zone,
                e.party,
                e.class.as_str(),
                e.lower,
                e.upper,
                j["evidence"].as_array().map_or(0, Vec::len)
            )?;
        }
    }
    Ok(())
}
