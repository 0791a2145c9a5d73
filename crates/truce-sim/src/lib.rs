//! A scenario simulator for Truce: ground-truth events on the front of an agreement and what a
//! realistic sensor mix reports about them, with the truth files of
//! `shared/spec/evaluation.md`, so that fusion can be scored.
//!
//! Pure and deterministic: [`simulate`] reads no clock and no file; the same agreement,
//! seed and sizes give the same scenario, byte for byte in [`Scenario::files`].
//!
//! What it models (rates, noise and false-report rates) is described in `docs/evaluation.md`;
//! the numbers live next to the code that uses them (`events`, `sensors`, `reports`, `noise`).

mod earth;
mod events;
mod front;
mod noise;
mod reports;
mod rng;
mod sensors;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use chrono::{DateTime, Utc};
use truce_core::evaluation::{TruthEvent, TruthLink};
use truce_core::{Agreement, Location, Observation, ObservationKey};

use crate::events::{Calendar, EventDrawer, EventIndex};
use crate::front::Front;
use crate::noise::Noise;
use crate::reports::{Draft, Reporter};
use crate::rng::Rng;
use crate::sensors::{DAY_S, Sensors};

/// What to simulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub seed: u64,
    /// Days from the UTC midnight of the agreement's `effective_at`.
    pub days: u32,
    /// How many observations to write: met exactly, unless the events alone need more.
    pub observations: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            seed: 1,
            days: 30,
            observations: 50_000,
        }
    }
}

/// Why a scenario cannot be simulated or written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimError {
    /// A size out of range.
    InvalidConfig(String),
    /// The agreement's contact line has no stretch long enough to carry activity (20 km).
    NoFront,
    /// A value that cannot be written (should not happen: the simulator makes only valid values).
    Write(String),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::InvalidConfig(reason) => write!(f, "invalid simulation settings: {reason}"),
            SimError::NoFront => write!(
                f,
                "the agreement's contact line has no polyline of 20 km or more to place events along"
            ),
            SimError::Write(reason) => write!(f, "cannot write the scenario: {reason}"),
        }
    }
}

impl std::error::Error for SimError {}

/// Counts that describe a simulated scenario.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub events_by_kind: BTreeMap<&'static str, usize>,
    /// Events no direct source noticed: in the truth, linked by no report.
    pub events_unreported: usize,
    /// Observations per source family (`firms`, `acoustic`, …).
    pub observations_by_family: BTreeMap<String, usize>,
    /// Observations linked to no event: false claims, false posts, heat from industry and fields.
    pub false_claims: usize,
    pub false_posts: usize,
    pub unrelated_heat: usize,
    /// Quiet days (about a tenth of the usual activity), as `YYYY-MM-DD`.
    pub quiet_days: Vec<String>,
}

/// A simulated scenario: the truth and the reports, in the order they are written.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Sorted by start time; ids `T1`, `T2`, … in that order.
    pub events: Vec<TruthEvent>,
    /// Sorted by (`observed_at`, `source`); `links[i]` is about `observations[i]`.
    pub observations: Vec<Observation>,
    pub links: Vec<TruthLink>,
    /// `sources.csv`: (pattern, reliability, discipline).
    pub sources: Vec<(String, &'static str, &'static str)>,
    pub summary: Summary,
}

/// Share of the observations left for heat that is no part of the conflict.
const UNRELATED_HEAT_SHARE: f64 = 0.05;
/// For each true party claim, the chance of one false claim somewhere else.
const FALSE_CLAIM_PER_CLAIM: f64 = 0.15;
/// For each true post, the chance of one false post somewhere else.
const FALSE_POST_PER_POST: f64 = 0.12;

/// A source name made only of the characters `observation.md` allows.
fn source_name(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._:-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(128)
        .collect()
}

/// Simulates a scenario on `agreement`'s front.
pub fn simulate(agreement: &Agreement, config: &Config) -> Result<Scenario, SimError> {
    if !(1..=366).contains(&config.days) {
        return Err(SimError::InvalidConfig(format!(
            "days must be 1–366, not {}",
            config.days
        )));
    }
    if !(1..=20_000_000).contains(&config.observations) {
        return Err(SimError::InvalidConfig(format!(
            "observations must be 1–20,000,000, not {}",
            config.observations
        )));
    }
    let seed = config.seed;
    let front = Front::new(agreement, &mut Rng::stream(seed, 1)).ok_or(SimError::NoFront)?;
    let calendar = Calendar::new(agreement, config.days, &mut Rng::stream(seed, 2));
    let sensors = Sensors::new(&front, seed, calendar.day0_s, config.days);
    let party_ids: Vec<String> = agreement.parties.iter().map(|p| p.id.clone()).collect();
    let reporter = Reporter {
        sensors: &sensors,
        party_sources: party_ids
            .iter()
            .map(|id| source_name(&format!("party:{id}")))
            .collect(),
        party_ids,
        seed,
    };
    let drawer = EventDrawer::new(agreement, &front, &sensors, &calendar);

    let target = config.observations;
    let event_budget = target - (target as f64 * UNRELATED_HEAT_SHARE).ceil() as usize;
    let mut events = Vec::new();
    let mut index = EventIndex::default();
    let mut drafts: Vec<Draft> = Vec::with_capacity(target + 64);
    let mut false_claims_due = 0usize;
    let mut false_posts_due = 0usize;
    let mut draw_rng = Rng::stream(seed, 3);
    let mut attempts = 0usize;
    let max_attempts = 200 * target + 10_000;
    while drafts.len() + false_claims_due + false_posts_due < event_budget
        && attempts < max_attempts
    {
        attempts += 1;
        let Some(event) = drawer.draw(&mut draw_rng) else {
            continue;
        };
        if !index.separated(&events, &event) {
            continue;
        }
        let i = events.len();
        let mut report_rng = Rng::stream(seed, 0x1_0000_0000 + i as u64);
        let reports = reporter.report(&mut report_rng, i, &event);
        for r in &reports {
            if r.source.starts_with("party:") && draw_rng.chance(FALSE_CLAIM_PER_CLAIM) {
                false_claims_due += 1;
            }
            if r.source.starts_with("osint:") && draw_rng.chance(FALSE_POST_PER_POST) {
                false_posts_due += 1;
            }
        }
        index.insert(i, &event);
        events.push(event);
        drafts.extend(reports);
    }
    let reported: HashSet<usize> = drafts.iter().filter_map(|d| d.truth).collect();

    let noise = Noise {
        agreement,
        front: &front,
        sensors: &sensors,
        calendar: &calendar,
        events: &events,
        index: &index,
    };
    let mut noise_rng = Rng::stream(seed, 4);
    let mut summary = Summary::default();
    for _ in 0..false_claims_due {
        if let Some(d) = noise.false_claim(&mut noise_rng, &reporter) {
            drafts.push(d);
            summary.false_claims += 1;
        }
    }
    for _ in 0..false_posts_due {
        if let Some(d) = noise.false_post(&mut noise_rng, &reporter) {
            drafts.push(d);
            summary.false_posts += 1;
        }
    }
    let remaining = target.saturating_sub(drafts.len());
    let industrial = noise.industrial_heat(&mut noise_rng, remaining * 2 / 5);
    drafts.extend(industrial);
    let remaining = target.saturating_sub(drafts.len());
    let fields = noise.field_fires(&mut noise_rng, remaining);
    drafts.extend(fields);
    summary.unrelated_heat = drafts.len()
        - summary.false_claims
        - summary.false_posts
        - drafts.iter().filter(|d| d.truth.is_some()).count();

    // The truth, in time order, with ids.
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by(|&a, &b| {
        let (ea, eb) = (&events[a], &events[b]);
        ea.start_s
            .cmp(&eb.start_s)
            .then(ea.position.lon_deg.total_cmp(&eb.position.lon_deg))
            .then(ea.position.lat_deg.total_cmp(&eb.position.lat_deg))
            .then(a.cmp(&b))
    });
    let mut id_of = vec![String::new(); events.len()];
    let mut truth_events = Vec::with_capacity(events.len());
    for (rank, &i) in order.iter().enumerate() {
        let e = &events[i];
        id_of[i] = format!("T{}", rank + 1);
        *summary.events_by_kind.entry(e.kind.as_str()).or_default() += 1;
        if !reported.contains(&i) {
            summary.events_unreported += 1;
        }
        truth_events.push(TruthEvent {
            id: id_of[i].clone(),
            kind: e.kind,
            started_at: utc(e.start_s),
            ended_at: (e.end_s > e.start_s).then(|| utc(e.end_s)),
            location: earth::rounded(e.position, 6),
            party: Some(agreement.parties[e.perpetrator].id.clone()),
            equipment: e.equipment,
        });
    }

    // The reports, in time order, with their references.
    drafts.sort_by(|a, b| (a.at_s, &a.source, a.tiebreak).cmp(&(b.at_s, &b.source, b.tiebreak)));
    let mut sequence: HashMap<(String, i64), usize> = HashMap::new();
    let mut used: HashSet<(String, String)> = HashSet::with_capacity(drafts.len());
    let mut observations = Vec::with_capacity(drafts.len());
    let mut links = Vec::with_capacity(drafts.len());
    for d in drafts {
        let family = d.source.split(':').next().unwrap_or_default().to_owned();
        *summary.observations_by_family.entry(family).or_default() += 1;
        let base = source_ref(&d, &mut sequence);
        let mut source_ref = base.clone();
        let mut k = 1;
        while used.contains(&(d.source.clone(), source_ref.clone())) {
            k += 1;
            source_ref = format!("{base}#{k}");
        }
        used.insert((d.source.clone(), source_ref.clone()));
        let key = ObservationKey {
            source: d.source,
            source_ref,
        };
        links.push(TruthLink {
            key: key.clone(),
            truth_id: d.truth.map(|i| id_of[i].clone()),
        });
        observations.push(Observation {
            key,
            kind: d.kind,
            observed_at: utc(d.at_s),
            observed_until: d.until_s.map(utc),
            location: d.location.map(|(position, uncertainty_m)| Location {
                position,
                uncertainty_m: (uncertainty_m * 10.0).round() / 10.0,
            }),
            bearing: d.bearing,
            party: d.party,
            equipment: d.equipment,
            credibility: d.credibility,
            text: d.text,
            evidence: d.evidence,
            attributes: d.attributes,
        });
    }
    summary.quiet_days = calendar
        .quiet_days
        .iter()
        .map(|&d| {
            utc(calendar.day0_s + d as i64 * DAY_S)
                .format("%Y-%m-%d")
                .to_string()
        })
        .collect();

    let mut sources = vec![
        ("acoustic:*".to_owned(), "C", "acoustic"),
        ("firms:*".to_owned(), "B", "satellite"),
        ("osint:*".to_owned(), "E", "osint"),
    ];
    sources.extend(
        reporter
            .party_sources
            .iter()
            .map(|s| (s.clone(), "D", "party")),
    );
    sources.push(("patrol:*".to_owned(), "B", "patrol"));
    sources.push(("uav:*".to_owned(), "B", "uav"));
    sources.sort();

    Ok(Scenario {
        events: truth_events,
        observations,
        links,
        sources,
        summary,
    })
}

fn utc(t_s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t_s, 0).unwrap_or(DateTime::UNIX_EPOCH)
}

/// FIRMS rows are named as the FIRMS CSV names them (`acq_date` T `acq_time` @ lat,lon);
/// every other source numbers its reports per day: `YYYYMMDD-NNNN`.
fn source_ref(d: &Draft, sequence: &mut HashMap<(String, i64), usize>) -> String {
    let t = utc(d.at_s);
    if d.source.starts_with("firms:")
        && let Some((p, _)) = d.location
    {
        return format!(
            "{}@{:.5},{:.5}",
            t.format("%Y-%m-%dT%H:%M"),
            p.lat_deg,
            p.lon_deg
        );
    }
    let day = d.at_s.div_euclid(DAY_S);
    let n = sequence.entry((d.source.clone(), day)).or_default();
    *n += 1;
    format!("{}-{:04}", t.format("%Y%m%d"), n)
}

impl Scenario {
    /// The files of the scenario folder, as (relative path, bytes), sorted by path:
    /// `observations/YYYY-MM-DD.ndjson` (one file per UTC day of `observed_at`, canonical
    /// JSON a line), `sources.csv`, `truth/events.ndjson`, `truth/links.csv`.
    pub fn files(&self) -> Result<Vec<(String, Vec<u8>)>, SimError> {
        let mut by_day: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for o in &self.observations {
            let day = o.observed_at.format("%Y-%m-%d").to_string();
            let line = truce_formats::ndjson::wire_canonical_json(o)
                .map_err(|e| SimError::Write(e.to_string()))?;
            let file = by_day.entry(day).or_default();
            file.extend_from_slice(line.as_bytes());
            file.push(b'\n');
        }
        let mut files: Vec<(String, Vec<u8>)> = by_day
            .into_iter()
            .map(|(day, bytes)| (format!("observations/{day}.ndjson"), bytes))
            .collect();
        let mut sources = String::from("source,reliability,discipline\n");
        for (pattern, reliability, discipline) in &self.sources {
            sources.push_str(&format!("{pattern},{reliability},{discipline}\n"));
        }
        files.push(("sources.csv".to_owned(), sources.into_bytes()));
        let events = truce_formats::truth::events_ndjson(&self.events)
            .map_err(|e| SimError::Write(e.to_string()))?;
        files.push(("truth/events.ndjson".to_owned(), events.into_bytes()));
        let links = truce_formats::truth::links_csv(&self.links)
            .map_err(|e| SimError::Write(e.to_string()))?;
        files.push(("truth/links.csv".to_owned(), links));
        files.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(files)
    }
}
