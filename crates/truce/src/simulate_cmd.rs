//! `truce simulate` (being built).

#[derive(clap::Args, Debug)]
pub struct SimulateArgs {}

pub fn run(_args: SimulateArgs) -> anyhow::Result<()> {
    anyhow::bail!("`truce simulate` is not built yet")
}
