//! Single-thread cost of the assessor on the sample agreement: `cargo bench -p truce --bench assess`.
//!
//! Points are a seeded mix like the benchmark's (60% near the line). Prints ns per point for
//! the grid classifier, the grid's exact distance, and the exact reference, and checks that
//! the grid agrees with the reference on every point it measures.

use std::path::Path;
use std::time::Instant;

use truce_core::Assessor;
use truce_geo::LonLat;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/scenario-2025-09");
    let path = root.join("agreement.toml");
    let bytes = std::fs::read(&path).expect("sample agreement");
    let agreement = truce_formats::agreement::parse_agreement("agreement.toml", &bytes, |name| {
        std::fs::read(root.join(name)).map_err(|e| e.to_string())
    })
    .expect("valid sample agreement");

    let started = Instant::now();
    let assessor = Assessor::new(&agreement);
    println!(
        "build: {:.3} s, {} heap bytes, cells {:?}",
        started.elapsed().as_secs_f64(),
        assessor.grid().heap_bytes(),
        assessor.grid().cell_stats()
    );

    // The same line with nine times the vertices (points inserted along each arc): the state
    // an agreement with a detailed 10,000-vertex line needs.
    let dense: Vec<Vec<LonLat>> = agreement
        .geometry
        .contact_line
        .polylines()
        .iter()
        .map(|line| {
            let mut out = Vec::new();
            for w in line.windows(2) {
                for k in 0..9 {
                    let t = f64::from(k) / 9.0;
                    out.push(LonLat::new(
                        w[0].lon_deg + t * (w[1].lon_deg - w[0].lon_deg),
                        w[0].lat_deg + t * (w[1].lat_deg - w[0].lat_deg),
                    ));
                }
            }
            out.extend(line.last().copied());
            out
        })
        .collect();
    let dense_vertices: usize = dense.iter().map(Vec::len).sum();
    let dense_line = truce_geo::ContactLine::new(dense).expect("dense line");
    let thresholds_m: Vec<f64> = agreement.zones.iter().map(|z| z.upper_m).collect();
    let started = Instant::now();
    let dense_grid =
        truce_geo::BandedGrid::new(&dense_line, &agreement.geometry.control, &thresholds_m);
    println!(
        "dense line of {dense_vertices} vertices: build {:.3} s, {:.1} MiB of assessor state, cells {:?}",
        started.elapsed().as_secs_f64(),
        dense_grid.heap_bytes() as f64 / (1024.0 * 1024.0),
        dense_grid.cell_stats()
    );

    let vertices: Vec<LonLat> = agreement
        .geometry
        .contact_line
        .polylines()
        .iter()
        .flatten()
        .copied()
        .collect();
    let mut rng = SplitMix(42);
    let n = 4_000_000;
    let points: Vec<LonLat> = (0..n)
        .map(|_| {
            if rng.unit() < 0.6 {
                let v = vertices[(rng.unit() * vertices.len() as f64) as usize % vertices.len()];
                LonLat::new(
                    v.lon_deg + (rng.unit() - 0.5) * 1.6,
                    v.lat_deg + (rng.unit() - 0.5) * 1.1,
                )
            } else {
                LonLat::new(22.0 + rng.unit() * 18.3, 44.3 + rng.unit() * 8.1)
            }
        })
        .collect();

    let settling: Vec<truce_geo::Settling> = points
        .iter()
        .map(|&p| assessor.grid().settling(p))
        .collect();
    let share = |keep: fn(&truce_geo::Settling) -> bool| {
        100.0 * settling.iter().filter(|s| keep(s)).count() as f64 / n as f64
    };
    println!(
        "points in refined cells: {:.2}%, in mixed sub-cells: {:.2}%, needing exact side: {:.3}%, exact band: {:.3}%",
        share(|s| s.refined),
        share(|s| s.fine),
        share(|s| s.exact_side),
        share(|s| s.exact_band)
    );
    for round in 0..3 {
        let started = Instant::now();
        let mut out = vec![
            truce_geo::Classification {
                inside: false,
                band: 0
            };
            points.len()
        ];
        assessor.grid().classify_slice(&points, &mut out);
        let ns = started.elapsed().as_nanos() as f64 / n as f64;
        let inside = out.iter().filter(|c| c.inside).count();
        println!(
            "round {round}: grid classify_slice {ns:.1} ns/point ({:.1} M points/s on one core), inside {inside}",
            1e3 / ns
        );
    }
    // Where the time goes: the same loop over the points of each kind alone.
    type Kind = (&'static str, fn(&truce_geo::Settling) -> bool);
    let kinds: [Kind; 5] = [
        ("settled cells", |s| !s.refined),
        ("refined cells, settled sub-cells", |s| s.refined && !s.fine),
        ("mixed sub-cells, settled fine cells", |s| {
            s.fine && !s.exact_side && !s.exact_band
        }),
        ("fine cells needing the exact side", |s| s.exact_side),
        ("fine cells needing the exact band", |s| s.exact_band),
    ];
    for (name, keep) in kinds {
        let set: Vec<LonLat> = points
            .iter()
            .zip(&settling)
            .filter(|(_, s)| keep(s))
            .map(|(&p, _)| p)
            .collect();
        let mut out = vec![
            truce_geo::Classification {
                inside: false,
                band: 0
            };
            set.len()
        ];
        let started = Instant::now();
        assessor.grid().classify_slice(&set, &mut out);
        let ns = started.elapsed().as_nanos() as f64 / set.len().max(1) as f64;
        println!(
            "points in {name}: {} ({:.3}%), {ns:.1} ns/point",
            set.len(),
            100.0 * set.len() as f64 / n as f64
        );
    }
    for round in 0..3 {
        let started = Instant::now();
        let mut inside = 0usize;
        let mut bands = [0usize; 8];
        for &p in &points {
            let c = assessor.classify_raw(p);
            inside += usize::from(c.inside);
            bands[usize::from(c.band) & 7] += 1;
        }
        let ns = started.elapsed().as_nanos() as f64 / n as f64;
        println!(
            "round {round}: grid classify {ns:.1} ns/point ({:.1} M points/s on one core), inside {inside}, bands {:?}",
            1e3 / ns,
            &bands[..3]
        );
    }

    let sample = &points[..20_000];
    let started = Instant::now();
    let exact: Vec<_> = sample.iter().map(|&p| agreement.assess_exact(p)).collect();
    let exact_ns = started.elapsed().as_nanos() as f64 / sample.len() as f64;
    let started = Instant::now();
    let fast: Vec<_> = sample.iter().map(|&p| assessor.assess(p)).collect();
    let fast_ns = started.elapsed().as_nanos() as f64 / sample.len() as f64;
    let mismatches = sample
        .iter()
        .zip(exact.iter().zip(&fast))
        .filter(|(p, (e, f))| e != f || assessor.classify(**p) != (e.side, e.zone))
        .count();
    println!(
        "exact reference {exact_ns:.0} ns/point, grid exact distance {fast_ns:.0} ns/point, mismatches {mismatches}"
    );
    assert_eq!(mismatches, 0);
    let (west, east): (Vec<LonLat>, Vec<LonLat>) =
        points[..200_000].iter().partition(|p| p.lon_deg < 30.0);
    for (name, set) in [
        ("west of 30E (outside the grid)", &west),
        ("east of 30E", &east),
    ] {
        let started = Instant::now();
        let total: f64 = set.iter().map(|&p| assessor.grid().distance_m(p)).sum();
        let ns = started.elapsed().as_nanos() as f64 / set.len() as f64;
        println!(
            "exact distance, {name}: {ns:.0} ns/point over {} points (checksum {total:.0})",
            set.len()
        );
    }
    bulk_count(&agreement, &assessor, &points);
}

/// What `truce assess` times: `count_in_force` over 10⁷ points held as `truce assess` holds
/// them (five decimals, as the benchmark's file has; grouped by day over 30 days), or over the
/// points of the file `ASSESS_BENCH_POINTS` (any file `truce assess` reads), on every core;
/// best and median of 15 runs (the best is the one least disturbed by other work).
fn bulk_count(agreement: &truce_core::Agreement, assessor: &Assessor, mix: &[LonLat]) {
    let points = match std::env::var_os("ASSESS_BENCH_POINTS") {
        Some(path) => {
            let bytes = std::fs::read(&path).expect("ASSESS_BENCH_POINTS file");
            truce_formats::points::parse_points("points", &bytes).expect("valid points")
        }
        None => {
            let n = 10_000_000;
            let mut rng = SplitMix(7);
            let effective_s = agreement.effective_at.timestamp();
            let positions: Vec<LonLat> = (0..n)
                .map(|i| {
                    let p = mix[i % mix.len()];
                    let five = |deg: f64| (deg * 1e5).round() / 1e5;
                    LonLat::new(five(p.lon_deg), five(p.lat_deg))
                })
                .collect();
            let times: Vec<i64> = (0..n)
                .map(|_| effective_s + (rng.unit() * 30.0 * 86_400.0) as i64)
                .collect();
            truce_core::points::Points::new(positions, times, Vec::new())
        }
    };
    let n = points.positions.len();
    assert!(matches!(
        points.positions,
        truce_core::points::Positions::E7(_)
    ));
    let mut seconds: Vec<f64> = (0..15)
        .map(|_| {
            let started = Instant::now();
            let counts = truce_core::points::count_in_force(
                &points,
                agreement,
                assessor,
                truce_core::points::Method::Grid,
            );
            let s = started.elapsed().as_secs_f64();
            assert!(counts.counts.iter().sum::<u64>() <= n as u64);
            s
        })
        .collect();
    seconds.sort_by(f64::total_cmp);
    println!(
        "count_in_force over {n} points, {} threads: best {:.4} s ({:.0} M points/s), median {:.4} s",
        rayon::current_num_threads(),
        seconds[0],
        n as f64 / seconds[0] / 1e6,
        seconds[7]
    );
}

/// A tiny seeded generator, so the bench needs no dependency.
struct SplitMix(u64);

impl SplitMix {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}
