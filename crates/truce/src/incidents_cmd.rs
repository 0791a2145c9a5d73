//! `truce incidents` (being built).

#[derive(clap::Args, Debug)]
pub struct IncidentsArgs {}

pub fn run(_args: IncidentsArgs) -> anyhow::Result<()> {
    anyhow::bail!("`truce incidents` is not built yet")
}
