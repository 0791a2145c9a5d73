//! The final partition (and everything else) does not depend on arrival order; every
//! observation is in exactly one incident.

use proptest::prelude::*;
use truce_core::fusion::{Discipline, Fuser, FusionConfig, Reliability, SourceRegistry, fuse};

use truce_core::{EquipmentClass, Kind, Observation};

use super::{assert_exactly_once, bearing, located, partition, pos, registry, with_equipment};

const SOURCES: [(&str, Reliability, Discipline); 6] = [
    ("sat", Reliability::B, Discipline::Satellite),
    ("uav", Reliability::A, Discipline::Uav),
    ("patrol", Reliability::C, Discipline::Patrol),
    ("array-1", Reliability::B, Discipline::Acoustic),
    ("array-2", Reliability::B, Discipline::Acoustic),
    ("party", Reliability::D, Discipline::Party),
];

fn sources() -> SourceRegistry {
    registry(&SOURCES)
}

/// A mixed scene: precise and coarse reports of several kinds, bearings from two arrays,
/// equipment sightings, on a 30 km square over a few hours.
fn scene() -> impl Strategy<Value = Vec<Observation>> {
    let kinds = [
        Kind::Explosion,
        Kind::OutgoingFire,
        Kind::ThermalAnomaly,
        Kind::SmallArmsFire,
        Kind::EquipmentSighting,
        Kind::MonitorRestriction,
    ];
    prop::collection::vec(
        (
            0usize..6,
            0usize..6,
            0.0f64..14_400.0,
            -15_000.0f64..15_000.0,
            -15_000.0f64..15_000.0,
            0usize..5,
            0.0f64..360.0,
        ),
        0..60,
    )
    .prop_map(move |raw| {
        raw.into_iter()
            .enumerate()
            .map(|(i, (s, k, t, e, n, u, az))| {
                let (source, ..) = SOURCES[s];
                let name = format!("o{i}");
                let kind = kinds[k];
                if source.starts_with("array") {
                    let observer = if source == "array-1" {
                        pos(-20_000.0, 0.0)
                    } else {
                        pos(0.0, -20_000.0)
                    };
                    return bearing(source, &name, Kind::Explosion, t, observer, az, 2.0);
                }
                let u_m = [30.0, 375.0, 1500.0, 3000.0, 5000.0][u];
                let o = located(source, &name, kind, t, pos(e, n), u_m);
                if kind == Kind::EquipmentSighting {
                    with_equipment(
                        o,
                        [EquipmentClass::Tank, EquipmentClass::Mlrs][i % 2],
                        1 + (i % 4) as u32,
                    )
                } else {
                    o
                }
            })
            .collect()
    })
}

fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut s = seed | 1;
    for i in (1..n).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        order.swap(i, (s % (i as u64 + 1)) as usize);
    }
    order
}

/// Adding the same indexed observations in the order `order` gives exactly `fuse`'s result.
fn check_arrival_order(observations: &[Observation], order: &[usize]) {
    let expected = fuse(observations, &sources());
    assert_exactly_once(&expected, observations.len());
    let mut fuser = Fuser::new(sources(), FusionConfig::default());
    for &i in order {
        fuser.add(i, &observations[i]);
    }
    assert_eq!(fuser.finish(), expected);
}

/// Permuting the input slice permutes the members and keeps the partition.
fn check_permuted_input(observations: &[Observation], order: &[usize]) {
    let permuted: Vec<Observation> = order.iter().map(|&i| observations[i].clone()).collect();
    let a = fuse(observations, &sources());
    let b = fuse(&permuted, &sources());
    assert_eq!(partition(&a, observations), partition(&b, &permuted));
    let graded = |f: &truce_core::fusion::Fusion, obs: &[Observation]| {
        let mut v: Vec<(Vec<String>, &'static str, String)> = f
            .incidents
            .iter()
            .map(|i| {
                let mut refs: Vec<String> = i
                    .members
                    .iter()
                    .map(|&m| obs[m].key.source_ref.clone())
                    .collect();
                refs.sort();
                (refs, i.status.as_str(), format!("{:.9}", i.confidence))
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(graded(&a, observations), graded(&b, &permuted));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arrival_order_changes_nothing(observations in scene(), seed in any::<u64>()) {
        let order = shuffled(observations.len(), seed);
        check_arrival_order(&observations, &order);
    }

    /// `add_all` into an engine that already holds observations (added one by one, with
    /// their positions in the whole input) gives `fuse`'s result too.
    #[test]
    fn add_all_after_adds_changes_nothing(observations in scene(), cut in 0.0f64..=1.0) {
        let expected = fuse(&observations, &sources());
        let split = ((observations.len() as f64) * cut) as usize;
        let mut fuser = Fuser::new(sources(), FusionConfig::default());
        for (i, o) in observations.iter().enumerate().skip(split) {
            fuser.add(i, o);
        }
        fuser.add_all(&observations[..split]);
        prop_assert_eq!(fuser.finish(), expected);
    }

    #[test]
    fn a_permuted_input_has_the_same_partition(observations in scene(), seed in any::<u64>()) {
        let order = shuffled(observations.len(), seed);
        check_permuted_input(&observations, &order);
    }
}

/// A snapshot can be taken midway; adding the rest gives the result of fusing everything.
#[test]
fn snapshots_are_incremental() {
    let observations: Vec<Observation> = (0..20)
        .map(|i| {
            located(
                "sat",
                &format!("r{i}"),
                Kind::ThermalAnomaly,
                600.0 * f64::from(i),
                pos(200.0 * f64::from(i % 5), 0.0),
                375.0,
            )
        })
        .collect();
    let mut fuser = Fuser::new(sources(), FusionConfig::default());
    for (i, o) in observations.iter().enumerate().take(10) {
        fuser.add(i, o);
    }
    let midway = fuser.snapshot();
    assert_exactly_once(&midway, 10);
    for (i, o) in observations.iter().enumerate().skip(10) {
        fuser.add(i, o);
    }
    assert_eq!(fuser.finish(), fuse(&observations, &sources()));
}

/// A snapshot reads the engine's linking indexes; finishing hands them over, to be freed
/// before the incidents are built: the same fusion either way, bearings, fixes and coarse
/// reports included.
#[test]
fn finishing_gives_what_a_snapshot_gives() {
    let observations = large_scene(2_000);
    let mut fuser = Fuser::new(sources(), FusionConfig::default());
    fuser.add_all(&observations);
    let snapshot = fuser.snapshot();
    assert!(snapshot.incidents.iter().any(|i| i.fix.is_some()));
    assert!(snapshot.incidents.iter().any(|i| i.members.len() >= 4));
    assert_eq!(fuser.finish(), snapshot);
}

/// A deterministic scene large enough to be split between threads: `events` events over a
/// 60 km square and thirty days, each seen by a few of the sources (precise and coarse reports,
/// bearings from both arrays, equipment), plus lone heat spots.
fn large_scene(events: usize) -> Vec<Observation> {
    const ARRAYS: [(&str, f64, f64); 2] =
        [("array-1", -40_000.0, 0.0), ("array-2", 0.0, -40_000.0)];
    let mut s = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut out: Vec<Observation> = Vec::new();
    for e in 0..events {
        let (t, east, north) = (
            2_592_000.0 * next(),
            60_000.0 * next() - 30_000.0,
            60_000.0 * next() - 30_000.0,
        );
        let name = |out: &Vec<Observation>| format!("e{e}-{}", out.len());
        let roll = next();
        if roll < 0.2 {
            let o = located(
                "sat",
                &name(&out),
                Kind::ThermalAnomaly,
                t,
                pos(east, north),
                375.0,
            );
            out.push(o);
            continue;
        }
        if roll < 0.3 {
            let o = located(
                "uav",
                &name(&out),
                Kind::EquipmentSighting,
                t,
                pos(east, north),
                50.0,
            );
            out.push(with_equipment(o, EquipmentClass::Tank, 1 + (e % 3) as u32));
            continue;
        }
        // Heard by both arrays; seen from the air unless only heard.
        if roll < 0.45 || next() < 0.3 {
            for (array, e0, n0) in ARRAYS {
                let az = (east - e0).atan2(north - n0).to_degrees() + next() - 0.5;
                let mut o = bearing(
                    array,
                    &name(&out),
                    Kind::Explosion,
                    t + 120.0,
                    pos(e0, n0),
                    az,
                    2.0,
                );
                if let Some(b) = o.bearing.as_mut() {
                    b.max_range_m = Some(90_000.0);
                }
                out.push(o);
            }
        }
        if roll >= 0.45 {
            let o = located(
                "uav",
                &name(&out),
                Kind::Explosion,
                t,
                pos(east + 20.0, north),
                50.0,
            );
            out.push(o);
        }
        if next() < 0.5 {
            let o = located(
                "patrol",
                &name(&out),
                Kind::Explosion,
                t + 900.0,
                pos(east, north - 900.0),
                3000.0,
            );
            out.push(o);
        }
        if next() < 0.1 {
            let o = located(
                "party",
                &name(&out),
                Kind::Explosion,
                t + 300.0,
                pos(east - 500.0, north),
                1500.0,
            );
            out.push(o);
        }
    }
    out
}

/// Fusion runs its independent work on rayon's threads: one thread or four, the result is
/// the same, to the last bit.
#[test]
fn the_thread_count_changes_nothing() {
    let observations = large_scene(20_000);
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool")
            .install(|| fuse(&observations, &sources()))
    };
    let one = on(1);
    assert_exactly_once(&one, observations.len());
    assert!(
        one.incidents.len() > 10_000,
        "{} incidents",
        one.incidents.len()
    );
    assert!(
        one.incidents.iter().any(|i| i.fix.is_some()),
        "some bearings triangulate"
    );
    assert_eq!(on(4), one);
}
