//! `truce simulate`: writes a synthetic scenario folder — what a sensor mix reports about
//! simulated events on an agreement's front, the truth files to score fusion against, and a
//! copy of the agreement with its geometry so the folder stands on its own.

use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use truce_sim::{Config, Scenario};

use crate::evaluate_cmd::thousands;
use crate::exit::Refusal;
use crate::load;

#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    /// The agreement whose contact line and zones place the events; it and its geometry
    /// files are copied into the output folder.
    #[arg(long, value_name = "agreement.toml")]
    pub agreement: PathBuf,
    /// The same seed gives the same folder, byte for byte.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The folder to write: new, empty, or an earlier simulated scenario (replaced).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// How many observations to write (met exactly unless the events alone need more).
    #[arg(long, default_value_t = 50_000)]
    pub observations: usize,
    /// How many days to simulate, from the UTC midnight of the agreement's effective_at.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
}

pub fn run(args: SimulateArgs) -> Result<()> {
    let started = Instant::now();
    let agreement = load::agreement(&args.agreement)?;
    let config = Config {
        seed: args.seed,
        days: args.days,
        observations: args.observations,
    };
    let scenario = truce_sim::simulate(&agreement, &config)
        .map_err(|e| Refusal::InvalidInput(e.to_string()))?;
    let files = scenario.files()?;
    let simulated_s = started.elapsed().as_secs_f64();

    prepare_out_dir(&args.out)?;
    for (relative, bytes) in &files {
        write_file(&args.out.join(relative), bytes)?;
    }
    let copied = copy_agreement(&args.agreement, &args.out)?;
    print_summary(&agreement, &config, &scenario, &files, &copied, &args.out);
    println!(
        "({:.2} s to simulate, {:.2} s in all)",
        simulated_s,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The output folder must be new, empty, or an earlier scenario (it has `truth/links.csv`);
/// an earlier scenario's observation files are removed so that none is left over.
fn prepare_out_dir(out: &Path) -> Result<()> {
    if out.exists() {
        let mut entries =
            std::fs::read_dir(out).with_context(|| format!("cannot list {}", out.display()))?;
        let empty = entries.next().is_none();
        if !empty && !out.join("truth/links.csv").is_file() {
            bail!(Refusal::InvalidInput(format!(
                "{} is not empty and is not a simulated scenario (no truth/links.csv): choose another --out",
                out.display()
            )));
        }
        let observations = out.join("observations");
        if observations.is_dir() {
            for entry in std::fs::read_dir(&observations)
                .with_context(|| format!("cannot list {}", observations.display()))?
            {
                let path = entry?.path();
                if path.is_file() && path.extension().is_some_and(|e| e == "ndjson") {
                    std::fs::remove_file(&path)
                        .with_context(|| format!("cannot remove {}", path.display()))?;
                }
            }
        }
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Copies the agreement as `agreement.toml` and the geometry files it names, at the same
/// relative paths, so that the folder is self-contained. Returns the files written.
fn copy_agreement(agreement: &Path, out: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(agreement)
        .with_context(|| format!("cannot read {}", agreement.display()))?;
    let value: toml::Table = toml::from_str(&text)
        .with_context(|| format!("cannot read {} as TOML", agreement.display()))?;
    let dir = agreement.parent().unwrap_or(Path::new(""));
    let mut copied = vec!["agreement.toml".to_owned()];
    write_file(&out.join("agreement.toml"), text.as_bytes())?;
    let geometry = value.get("geometry").and_then(toml::Value::as_table);
    for key in ["contact_line", "control"] {
        let Some(name) = geometry
            .and_then(|g| g.get(key))
            .and_then(toml::Value::as_str)
        else {
            continue;
        };
        let relative = Path::new(name);
        let stays_inside = relative
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if !stays_inside {
            bail!(Refusal::InvalidInput(format!(
                "geometry file `{name}` is not a path below the agreement's folder; it cannot be copied into a self-contained scenario"
            )));
        }
        let bytes = std::fs::read(dir.join(relative))
            .with_context(|| format!("cannot read {}", dir.join(relative).display()))?;
        write_file(&out.join(relative), &bytes)?;
        copied.push(name.to_owned());
    }
    Ok(copied)
}

fn print_summary(
    agreement: &truce_core::Agreement,
    config: &Config,
    scenario: &Scenario,
    files: &[(String, Vec<u8>)],
    copied: &[String],
    out: &Path,
) {
    let s = &scenario.summary;
    println!(
        "Simulated {}, seed {}: {} days from {}, {} truth events ({} reported by no direct source), {} observations",
        agreement.id,
        config.seed,
        config.days,
        agreement.effective_at.format("%Y-%m-%d"),
        thousands(scenario.events.len()),
        thousands(s.events_unreported),
        thousands(scenario.observations.len()),
    );
    let list = |pairs: Vec<(String, usize)>| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k} {}", thousands(v)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "  events by kind: {}",
        list(
            s.events_by_kind
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect()
        )
    );
    println!(
        "  observations by source: {}",
        list(
            s.observations_by_family
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect()
        )
    );
    println!(
        "  linked to no event: {} false party claims, {} false open-source posts, {} heat spots from fields and industry",
        thousands(s.false_claims),
        thousands(s.false_posts),
        thousands(s.unrelated_heat)
    );
    if !s.quiet_days.is_empty() {
        println!("  quiet days: {}", s.quiet_days.join(", "));
    }
    let observation_files = files
        .iter()
        .filter(|(p, _)| p.starts_with("observations/"))
        .count();
    println!(
        "Wrote {}: observations/ ({observation_files} files, one per UTC day), sources.csv, truth/events.ndjson, truth/links.csv, {}",
        out.display(),
        copied.join(", ")
    );
}
