//! `truce evaluate` (being built).

#[derive(clap::Args, Debug)]
pub struct EvaluateArgs {}

pub fn run(_args: EvaluateArgs) -> anyhow::Result<()> {
    anyhow::bail!("`truce evaluate` is not built yet")
}
