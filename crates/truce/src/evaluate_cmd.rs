//! `truce evaluate`: fuses a scenario folder's observations and scores the incidents against
//! its truth files with the scores of `shared/spec/evaluation.md` (precision, recall, double
//! counting, dismissed, location and time errors by event kind, bearing-only ones apart).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use truce_core::evaluation::{ErrorGroup, ErrorStats, Evaluation, ScoredIncident, Truth, evaluate};
use truce_core::fusion::{SourceRegistry, fuse};
use truce_core::{Observation, ObservationKey};

use crate::exit::Refusal;
use crate::load;
use crate::replay_cmd::scenario_files;

#[derive(clap::Args, Debug)]
pub struct EvaluateArgs {
    /// Scenario folders: observations/*.ndjson (and firms/*.csv), truth/events.ndjson,
    /// truth/links.csv, optionally sources.csv. With several, one row each and their mean.
    #[arg(required = true, value_name = "DIR")]
    pub folders: Vec<PathBuf>,
    /// Print one JSON object per scenario, one a line, instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// One scenario, fused and scored.
struct Scored {
    folder: PathBuf,
    observations: usize,
    evaluation: Evaluation,
    fusion_s: f64,
    /// Observations the fusion put in no incident / in more than one (both break its contract).
    in_no_incident: usize,
    in_several_incidents: usize,
}

pub fn run(args: EvaluateArgs) -> Result<()> {
    let mut scored = Vec::with_capacity(args.folders.len());
    for folder in &args.folders {
        scored.push(score(folder)?);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        for s in &scored {
            serde_json::to_writer(&mut out, &to_json(s))?;
            writeln!(out)?;
        }
    } else if let [one] = scored.as_slice() {
        write_details(&mut out, one)?;
    } else {
        write_rows(&mut out, &scored)?;
    }
    Ok(())
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn score(folder: &Path) -> Result<Scored> {
    let paths = scenario_files(folder)?;
    if paths.is_empty() {
        bail!(Refusal::InvalidInput(format!(
            "{} has no observation files (observations/*.ndjson or firms/*.csv)",
            folder.display()
        )));
    }
    let files = load::observation_files(&paths)?;
    load::refuse_diagnostics(&files, 50)?;

    let sources_path = folder.join("sources.csv");
    let registry = if sources_path.is_file() {
        let parsed = truce_formats::sources::parse(
            &sources_path.display().to_string(),
            &read_file(&sources_path)?,
        );
        if !parsed.diagnostics.is_empty() {
            return Err(refusal("sources file", &parsed.diagnostics));
        }
        parsed.registry
    } else {
        SourceRegistry::default()
    };
    let truth = read_truth(folder)?;

    // The last revision of a key (in replay order) is the observation.
    let mut observations: Vec<Observation> = Vec::new();
    let mut position: HashMap<ObservationKey, usize> = HashMap::new();
    for parsed in files.iter().flat_map(|f| &f.batch.observations) {
        let o = &parsed.observation;
        match position.get(&o.key) {
            Some(&i) => observations[i] = o.clone(),
            None => {
                position.insert(o.key.clone(), observations.len());
                observations.push(o.clone());
            }
        }
    }

    let started = Instant::now();
    let fusion = fuse(&observations, &registry);
    let fusion_s = started.elapsed().as_secs_f64();

    let mut membership = vec![0u32; observations.len()];
    let incidents: Vec<ScoredIncident> = fusion
        .incidents
        .iter()
        .map(|incident| {
            let members: Vec<&Observation> = incident
                .members
                .iter()
                .filter_map(|&i| observations.get(i))
                .collect();
            for &i in &incident.members {
                if let Some(m) = membership.get_mut(i) {
                    *m += 1;
                }
            }
            ScoredIncident {
                bearings_only: !members.is_empty()
                    && members
                        .iter()
                        .all(|o| o.location.is_none() && o.bearing.is_some()),
                members: members.iter().map(|o| o.key.clone()).collect(),
                status: incident.status,
                location: incident.location.map(|(position, _)| position),
                first_at: incident.first_at,
            }
        })
        .collect();
    Ok(Scored {
        folder: folder.to_path_buf(),
        observations: observations.len(),
        evaluation: evaluate(&incidents, &truth),
        fusion_s,
        in_no_incident: membership.iter().filter(|&&m| m == 0).count(),
        in_several_incidents: membership.iter().filter(|&&m| m > 1).count(),
    })
}

/// The refusal of a file with problems, listing (the first 50 of) them.
fn refusal(what: &str, diagnostics: &[truce_formats::Diagnostic]) -> anyhow::Error {
    let mut message = format!("{} problem(s) in the {what}:", diagnostics.len());
    for d in diagnostics.iter().take(50) {
        message.push_str(&format!("\n  {d}"));
    }
    if diagnostics.len() > 50 {
        message.push_str(&format!("\n  … and {} more", diagnostics.len() - 50));
    }
    Refusal::InvalidInput(message).into()
}

fn read_truth(folder: &Path) -> Result<Truth> {
    let events = folder.join("truth/events.ndjson");
    let links = folder.join("truth/links.csv");
    for path in [&events, &links] {
        if !path.is_file() {
            bail!(Refusal::InvalidInput(format!(
                "{} is missing: a scenario to evaluate needs truth/events.ndjson and truth/links.csv (shared/spec/evaluation.md)",
                path.display()
            )));
        }
    }
    truce_formats::truth::parse_truth(
        &events.display().to_string(),
        &read_file(&events)?,
        &links.display().to_string(),
        &read_file(&links)?,
    )
    .map_err(|diagnostics| refusal("truth files", &diagnostics))
}

/// Statistics as JSON, metres and seconds to a tenth.
fn stats_json(s: Option<ErrorStats>) -> Value {
    let tenth = |x: f64| (x * 10.0).round() / 10.0;
    s.map_or(Value::Null, |s| {
        json!({"count": s.count, "median": tenth(s.median), "p90": tenth(s.p90), "max": tenth(s.max)})
    })
}

fn to_json(s: &Scored) -> Value {
    let e = &s.evaluation;
    json!({
        "scenario": s.folder.display().to_string(),
        "observations": s.observations,
        "incidents": e.incidents,
        "not_dismissed": e.not_dismissed,
        "matching": e.matching,
        "precision": e.precision,
        "events": e.events,
        "events_reported": e.events_reported,
        "events_matched": e.events_matched,
        "recall": e.recall,
        "duplicates": e.duplicates,
        "double_counting": e.double_counting,
        "dismissed": e.dismissed,
        "wrongly_dismissed": e.wrongly_dismissed,
        "location_error_m": stats_json(e.location_error_m),
        "time_error_s": stats_json(e.time_error_s),
        "errors": e.errors.iter().map(|g| json!({
            "group": g.group.name(),
            "matching": g.matching,
            "without_location": g.without_location,
            "location_error_m": stats_json(g.location_error_m),
            "time_error_s": stats_json(g.time_error_s),
        })).collect::<Vec<_>>(),
        "links_not_in_incidents": e.links_not_in_incidents,
        "members_not_linked": e.members_not_linked,
        "observations_in_no_incident": s.in_no_incident,
        "observations_in_several_incidents": s.in_several_incidents,
        "fusion_s": (s.fusion_s * 1000.0).round() / 1000.0,
    })
}

fn ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_owned(), |r| format!("{r:.4}"))
}

fn number(x: f64) -> String {
    thousands(x.round() as usize)
}

/// `n` with a comma between groups of three digits (`50,000`).
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn stats_cells(s: Option<ErrorStats>) -> [String; 3] {
    match s {
        Some(s) => [number(s.median), number(s.p90), number(s.max)],
        None => ["—".into(), "—".into(), "—".into()],
    }
}

fn write_contract_warnings(out: &mut impl Write, s: &Scored) -> Result<()> {
    if s.in_no_incident > 0 || s.in_several_incidents > 0 {
        writeln!(
            out,
            "  warning: fusion put {} observation(s) in no incident and {} in more than one (each must be in exactly one)",
            thousands(s.in_no_incident),
            thousands(s.in_several_incidents)
        )?;
    }
    let e = &s.evaluation;
    if e.members_not_linked > 0 {
        writeln!(
            out,
            "  note: {} incident member(s) are not in truth/links.csv (counted as linked to no event)",
            thousands(e.members_not_linked)
        )?;
    }
    Ok(())
}

fn write_details(out: &mut impl Write, s: &Scored) -> Result<()> {
    let e = &s.evaluation;
    writeln!(out, "scenario {}", s.folder.display())?;
    writeln!(
        out,
        "  {} observations, {} truth events ({} reported), {} incidents ({} dismissed); fusion {:.2} s",
        thousands(s.observations),
        thousands(e.events),
        thousands(e.events_reported),
        thousands(e.incidents),
        thousands(e.dismissed),
        s.fusion_s
    )?;
    write_contract_warnings(out, s)?;
    writeln!(out)?;
    writeln!(
        out,
        "  precision        {}   {} of {} incidents not dismissed match an event",
        ratio(e.precision),
        thousands(e.matching),
        thousands(e.not_dismissed)
    )?;
    writeln!(
        out,
        "  recall           {}   {} of {} reported events are matched",
        ratio(e.recall),
        thousands(e.events_matched),
        thousands(e.events_reported)
    )?;
    writeln!(
        out,
        "  double counting  {}   {} of {} matching incidents are extra ones for an event already matched",
        ratio(e.double_counting),
        thousands(e.duplicates),
        thousands(e.matching)
    )?;
    writeln!(
        out,
        "  dismissed        {} incidents, {} of them wrongly (they match an event)",
        thousands(e.dismissed),
        thousands(e.wrongly_dismissed)
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "  errors of matching incidents        location error m           time error s"
    )?;
    writeln!(
        out,
        "  {:<22} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "by event kind", "matching", "located", "median", "p90", "max", "median", "p90", "max"
    )?;
    let mut row = |name: &str,
                   matching: usize,
                   located: usize,
                   location: Option<ErrorStats>,
                   time: Option<ErrorStats>|
     -> Result<()> {
        let [lm, lp, lx] = stats_cells(location);
        let [tm, tp, tx] = stats_cells(time);
        writeln!(
            out,
            "  {name:<22} {:>8} {:>8} {lm:>8} {lp:>8} {lx:>8} {tm:>8} {tp:>8} {tx:>8}",
            thousands(matching),
            thousands(located)
        )?;
        Ok(())
    };
    for g in &e.errors {
        row(
            g.group.name(),
            g.matching,
            g.matching - g.without_location,
            g.location_error_m,
            g.time_error_s,
        )?;
    }
    let kinds_matching: usize = e
        .errors
        .iter()
        .filter(|g| g.group != ErrorGroup::BearingsOnly)
        .map(|g| g.matching)
        .sum();
    row(
        "all but bearings only",
        kinds_matching,
        e.location_error_m.map_or(0, |s| s.count),
        e.location_error_m,
        e.time_error_s,
    )?;
    Ok(())
}

fn mean(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let (sum, n) = values
        .flatten()
        .fold((0.0, 0usize), |(sum, n), v| (sum + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

fn write_rows(out: &mut impl Write, scored: &[Scored]) -> Result<()> {
    let name_width = scored
        .iter()
        .map(|s| s.folder.display().to_string().chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    writeln!(
        out,
        "{:<name_width$} {:>12} {:>7} {:>9} {:>9} {:>7} {:>8} {:>9} {:>7} {:>9} {:>8} {:>8}",
        "scenario",
        "observations",
        "events",
        "incidents",
        "precision",
        "recall",
        "double",
        "dismissed",
        "wrongly",
        "loc med m",
        "time med",
        "fusion s"
    )?;
    for s in scored {
        let e = &s.evaluation;
        writeln!(
            out,
            "{:<name_width$} {:>12} {:>7} {:>9} {:>9} {:>7} {:>8} {:>9} {:>7} {:>9} {:>8} {:>8.2}",
            s.folder.display().to_string(),
            thousands(s.observations),
            thousands(e.events_reported),
            thousands(e.incidents),
            ratio(e.precision),
            ratio(e.recall),
            ratio(e.double_counting),
            thousands(e.dismissed),
            thousands(e.wrongly_dismissed),
            e.location_error_m.map_or("—".into(), |x| number(x.median)),
            e.time_error_s.map_or("—".into(), |x| number(x.median)),
            s.fusion_s
        )?;
    }
    let n = scored.len() as f64;
    let avg = |f: &dyn Fn(&Scored) -> f64| scored.iter().map(f).sum::<f64>() / n;
    writeln!(
        out,
        "{:<name_width$} {:>12} {:>7} {:>9} {:>9} {:>7} {:>8} {:>9} {:>7} {:>9} {:>8} {:>8.2}",
        "mean",
        number(avg(&|s| s.observations as f64)),
        number(avg(&|s| s.evaluation.events_reported as f64)),
        number(avg(&|s| s.evaluation.incidents as f64)),
        ratio(mean(scored.iter().map(|s| s.evaluation.precision))),
        ratio(mean(scored.iter().map(|s| s.evaluation.recall))),
        ratio(mean(scored.iter().map(|s| s.evaluation.double_counting))),
        number(avg(&|s| s.evaluation.dismissed as f64)),
        number(avg(&|s| s.evaluation.wrongly_dismissed as f64)),
        mean(
            scored
                .iter()
                .map(|s| s.evaluation.location_error_m.map(|x| x.median))
        )
        .map_or("—".into(), number),
        mean(
            scored
                .iter()
                .map(|s| s.evaluation.time_error_s.map(|x| x.median))
        )
        .map_or("—".into(), number),
        avg(&|s| s.fusion_s)
    )?;
    for s in scored {
        write_contract_warnings(out, s)?;
    }

    // Errors by group over all scenarios: the mean of the per-scenario median and p90, the
    // largest maximum.
    let mut groups: BTreeMap<ErrorGroup, Vec<&truce_core::evaluation::GroupErrors>> =
        BTreeMap::new();
    for s in scored {
        for g in &s.evaluation.errors {
            groups.entry(g.group).or_default().push(g);
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "errors by event kind over the {} scenarios (mean of medians, mean of p90, largest max)",
        scored.len()
    )?;
    writeln!(
        out,
        "{:<22} {:>9} {:>8}   {:>8} {:>8} {:>8}   {:>8} {:>8} {:>8}",
        "",
        "matching",
        "located",
        "loc med",
        "loc p90",
        "loc max",
        "time med",
        "time p90",
        "time max"
    )?;
    for (group, list) in &groups {
        let matching: usize = list.iter().map(|g| g.matching).sum();
        let located: usize = list.iter().map(|g| g.matching - g.without_location).sum();
        let cells = |pick: &dyn Fn(&truce_core::evaluation::GroupErrors) -> Option<ErrorStats>| {
            let stats: Vec<ErrorStats> = list.iter().filter_map(|g| pick(g)).collect();
            if stats.is_empty() {
                return ["—".to_owned(), "—".to_owned(), "—".to_owned()];
            }
            let k = stats.len() as f64;
            [
                number(stats.iter().map(|s| s.median).sum::<f64>() / k),
                number(stats.iter().map(|s| s.p90).sum::<f64>() / k),
                number(stats.iter().map(|s| s.max).fold(0.0, f64::max)),
            ]
        };
        let [lm, lp, lx] = cells(&|g| g.location_error_m);
        let [tm, tp, tx] = cells(&|g| g.time_error_s);
        writeln!(
            out,
            "{:<22} {:>9} {:>8}   {lm:>8} {lp:>8} {lx:>8}   {tm:>8} {tp:>8} {tx:>8}",
            group.name(),
            thousands(matching),
            thousands(located)
        )?;
    }
    Ok(())
}
