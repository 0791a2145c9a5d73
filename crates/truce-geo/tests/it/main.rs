//! Integration tests of truce-geo: the fast grid against the exact definitions, and the exact
//! distance against an independent dense-sampling oracle, on real DeepState geometry.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use truce_geo::{
    BandedGrid, BulkPoint, Classification, CodeCounts, ContactLine, ControlArea, EARTH_RADIUS_M,
    LonLat, LonLatE7, Polygon, UnitVector,
};

struct Geometry {
    line: ContactLine,
    area: ControlArea,
}

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn positions(v: &serde_json::Value) -> Vec<LonLat> {
    v.as_array()
        .expect("positions")
        .iter()
        .map(|p| LonLat::new(p[0].as_f64().expect("lon"), p[1].as_f64().expect("lat")))
        .collect()
}

fn load(line_file: &str, control_file: &str) -> Geometry {
    let read = |f: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(repo_path(f)).expect("geometry file"))
            .expect("GeoJSON")
    };
    let lines = read(line_file)["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| positions(&f["geometry"]["coordinates"]))
        .collect();
    let mut polygons = Vec::new();
    for f in read(control_file)["features"].as_array().expect("features") {
        for p in f["geometry"]["coordinates"].as_array().expect("polygons") {
            let rings: Vec<Vec<LonLat>> =
                p.as_array().expect("rings").iter().map(positions).collect();
            polygons.push(Polygon {
                exterior: rings[0].clone(),
                holes: rings[1..].to_vec(),
            });
        }
    }
    Geometry {
        line: ContactLine::new(lines).expect("line"),
        area: ControlArea::new(polygons).expect("area"),
    }
}

fn scenario() -> Geometry {
    load(
        "../../data/scenario-2025-09/contact_line.geojson",
        "../../data/scenario-2025-09/control.geojson",
    )
}

fn march_2026() -> Geometry {
    load(
        "tests/data/contact_line_20260301.geojson",
        "tests/data/deepstatemap_data_20260301.geojson",
    )
}

const THRESHOLDS_M: [f64; 2] = [15_000.0, 50_000.0];

/// The one check of the grid: the same side, band and distance as the exact definitions.
fn check_grid_point(g: &Geometry, grid: &BandedGrid, p: LonLat) {
    let exact_distance_m = g.line.distance_m(p);
    let exact_band = THRESHOLDS_M
        .iter()
        .position(|&t| exact_distance_m <= t)
        .unwrap_or(THRESHOLDS_M.len()) as u8;
    let exact_inside = g.area.covers(p);
    let c = grid.classify(p);
    assert_eq!(
        (c.inside, c.band),
        (exact_inside, exact_band),
        "classification of {p:?} (distance {exact_distance_m} m)"
    );
    assert_eq!(
        grid.distance_m(p).to_bits(),
        exact_distance_m.to_bits(),
        "distance of {p:?}"
    );
    assert_eq!(grid.covers(p), exact_inside, "side of {p:?}");
}

/// A point at `angle_rad` from `a` towards azimuth `azimuth_rad`, on the sphere.
fn offset(a: LonLat, azimuth_rad: f64, angle_rad: f64) -> LonLat {
    let (lat1, lon1) = (a.lat_deg.to_radians(), a.lon_deg.to_radians());
    let lat2 =
        (lat1.sin() * angle_rad.cos() + lat1.cos() * angle_rad.sin() * azimuth_rad.cos()).asin();
    let lon2 = lon1
        + (azimuth_rad.sin() * angle_rad.sin() * lat1.cos())
            .atan2(angle_rad.cos() - lat1.sin() * lat2.sin());
    LonLat::new(lon2.to_degrees(), lat2.to_degrees())
}

/// Every line vertex, points at the band edges around a sample of them, every control
/// vertex, edge midpoints and points a hair either side of edges, and far-away points.
fn adversarial_points(g: &Geometry) -> Vec<LonLat> {
    let mut points = Vec::new();
    for (i, v) in g.line.polylines().iter().flatten().enumerate() {
        points.push(*v);
        if i % 7 == 0 {
            for &t in &THRESHOLDS_M {
                for delta_m in [-0.5, -0.001, 0.0, 0.001, 0.5] {
                    for az in [0.3, 1.9, 3.5, 5.1] {
                        points.push(offset(*v, az, (t + delta_m) / EARTH_RADIUS_M));
                    }
                }
            }
        }
    }
    for polygon in g.area.polygons() {
        for ring in std::iter::once(&polygon.exterior).chain(&polygon.holes) {
            for (k, e) in ring.windows(2).enumerate() {
                points.push(e[0]);
                // West of a vertex, at its very latitude: the eastward ray passes through the
                // vertex, from a cell that the vertex's edges lie wholly east of.
                for west_deg in [0.03, 0.3] {
                    points.push(LonLat::new(e[0].lon_deg - west_deg, e[0].lat_deg));
                }
                if k % 3 == 0 {
                    let mid = LonLat::new(
                        (e[0].lon_deg + e[1].lon_deg) / 2.0,
                        (e[0].lat_deg + e[1].lat_deg) / 2.0,
                    );
                    points.push(mid);
                    points.push(LonLat::new(mid.lon_deg + 1e-9, mid.lat_deg));
                    points.push(LonLat::new(mid.lon_deg - 1e-9, mid.lat_deg));
                    points.push(LonLat::new(mid.lon_deg, mid.lat_deg + 1e-12));
                }
            }
        }
    }
    // Far away, at the poles, at the antimeridian.
    points.extend([
        LonLat::new(-180.0, 0.0),
        LonLat::new(180.0, 90.0),
        LonLat::new(0.0, -90.0),
        LonLat::new(120.0, -45.0),
    ]);
    points
}

/// Not numbers, or far beyond any grid: outside and beyond every band.
const NOT_ON_EARTH: [LonLat; 5] = [
    LonLat::new(f64::NAN, 48.0),
    LonLat::new(35.0, f64::NAN),
    LonLat::new(f64::INFINITY, 48.0),
    LonLat::new(35.0, f64::NEG_INFINITY),
    LonLat::new(1e300, -1e300),
];

#[test]
fn grid_agrees_on_adversarial_points() {
    for g in [scenario(), march_2026()] {
        let grid = BandedGrid::new(&g.line, &g.area, &THRESHOLDS_M);
        for p in adversarial_points(&g) {
            check_grid_point(&g, &grid, p);
        }
        for p in NOT_ON_EARTH {
            let c = grid.classify(p);
            assert_eq!((c.inside, c.band), (false, 2), "{p:?}");
            assert!(!grid.covers(p), "{p:?}");
        }
    }
}

/// The lattice of sub-cell corners, edge midpoints and centres of a sample of refined cells,
/// with points a hair either side of the sub-cell edges; and the grid's own edges and corners,
/// on them and a hair either side.
fn lattice_points(grid: &BandedGrid) -> Vec<LonLat> {
    let sub = BandedGrid::SUB_CELLS as f64;
    let mut points = Vec::new();
    let refined = grid.refined_cells_deg();
    assert!(refined.len() > 1000, "{} refined cells", refined.len());
    for &rect in refined.iter().step_by(refined.len() / 40) {
        for i in 0..=2 * BandedGrid::SUB_CELLS {
            for j in 0..=2 * BandedGrid::SUB_CELLS {
                let (fx, fy) = (i as f64 / (2.0 * sub), j as f64 / (2.0 * sub));
                let p = point_in(rect, fx, fy);
                points.push(p);
                if i % 2 == 0 && j % 2 == 1 {
                    points.push(LonLat::new(p.lon_deg.next_down(), p.lat_deg));
                    points.push(LonLat::new(p.lon_deg + 1e-12, p.lat_deg));
                }
                if j % 2 == 0 && i % 2 == 1 {
                    points.push(LonLat::new(p.lon_deg, p.lat_deg.next_up()));
                    points.push(LonLat::new(p.lon_deg, p.lat_deg - 1e-12));
                }
            }
        }
    }
    // The same for fine cells, in a sample of the divided sub-cells.
    let fine = BandedGrid::FINE_CELLS as f64;
    let divided = grid.divided_sub_cells_deg();
    assert!(divided.len() > 1000, "{} divided sub-cells", divided.len());
    for &rect in divided.iter().step_by(divided.len() / 60) {
        for i in 0..=2 * BandedGrid::FINE_CELLS {
            for j in 0..=2 * BandedGrid::FINE_CELLS {
                let p = point_in(rect, i as f64 / (2.0 * fine), j as f64 / (2.0 * fine));
                points.push(p);
                if i % 2 == 0 {
                    points.push(LonLat::new(p.lon_deg.next_down(), p.lat_deg));
                    points.push(LonLat::new(p.lon_deg + 1e-12, p.lat_deg));
                }
                if j % 2 == 0 {
                    points.push(LonLat::new(p.lon_deg, p.lat_deg.next_up()));
                    points.push(LonLat::new(p.lon_deg, p.lat_deg - 1e-12));
                }
            }
        }
    }
    let extent = grid.extent_deg();
    for k in 0..=200 {
        let f = k as f64 / 200.0;
        for (fx, fy) in [(f, 0.0), (f, 1.0), (0.0, f), (1.0, f)] {
            let p = point_in(extent, fx, fy);
            points.extend(
                [
                    p,
                    LonLat::new(p.lon_deg.next_up(), p.lat_deg.next_up()),
                    LonLat::new(p.lon_deg.next_down(), p.lat_deg.next_down()),
                    LonLat::new(p.lon_deg + 1e-10, p.lat_deg - 1e-10),
                ]
                .into_iter()
                .filter(|q| q.is_valid()),
            );
        }
    }
    points
}

#[test]
fn grid_agrees_in_refined_cells_and_on_the_edges_of_their_sub_cells() {
    for g in [scenario(), march_2026()] {
        let grid = BandedGrid::new(&g.line, &g.area, &THRESHOLDS_M);
        for p in lattice_points(&grid) {
            check_grid_point(&g, &grid, p);
        }
    }
}

/// `classify_codes` on `points` (in one call, and from an odd offset so that blocks start
/// elsewhere) gives what `classify` gives each point.
fn check_codes<P: BulkPoint>(grid: &BandedGrid, points: &[P], exact: impl Fn(P) -> LonLat) {
    let view = grid.view();
    for from in [0, 3.min(points.len())] {
        let points = &points[from..];
        let mut codes = vec![0xAA; points.len() + 5];
        view.classify_codes(points, &mut codes);
        for (i, (&p, &code)) in points.iter().zip(&codes).enumerate() {
            let expected = grid.classify(exact(p));
            assert_eq!(
                Classification::from_code(code),
                expected,
                "point {i}: {:?}",
                exact(p)
            );
            assert_eq!(expected.code(), code);
        }
        assert!(
            codes[points.len()..].iter().all(|&c| c == 0xAA),
            "wrote past the points"
        );
        // Counted without writing the codes out: the same histogram.
        let mut counts = CodeCounts::default();
        view.count_codes(points, &mut counts);
        let mut expected = std::collections::BTreeMap::new();
        for &code in &codes[..points.len()] {
            *expected.entry(code).or_insert(0u64) += 1;
        }
        assert_eq!(
            counts.iter().collect::<std::collections::BTreeMap<_, _>>(),
            expected
        );
    }
}

/// `p` in units of 10⁻⁷ degree, rounded: a point of the same neighbourhood that is exactly
/// representable.
fn rounded_e7(p: LonLat) -> LonLatE7 {
    LonLatE7 {
        lon_e7: (p.lon_deg * 1e7).round() as i32,
        lat_e7: (p.lat_deg * 1e7).round() as i32,
    }
}

#[test]
fn bulk_codes_agree_with_classify_on_adversarial_points() {
    for g in [scenario(), march_2026()] {
        let grid = BandedGrid::new(&g.line, &g.area, &THRESHOLDS_M);
        let mut points = adversarial_points(&g);
        points.extend(lattice_points(&grid));
        points.extend(NOT_ON_EARTH);
        check_codes(&grid, &points, |p| p);
        // The same neighbourhoods as whole multiples of 10⁻⁷ degree: located by the
        // multiplied coordinates, settled by the exact ones.
        let e7: Vec<LonLatE7> = points
            .iter()
            .filter(|p| p.is_valid())
            .map(|&p| rounded_e7(p))
            .collect();
        check_codes(&grid, &e7, LonLatE7::lon_lat);
        // Located by shifts: the grid's own corners and a unit either side of them, and the
        // extremes of the integers (not on Earth: the border ring, as `classify` has them).
        let [lon_a, lat_a, lon_b, lat_b] = grid.extent_deg();
        let mut extremes = Vec::new();
        for (lon, lat) in [
            (lon_a, lat_a),
            (lon_b, lat_b),
            (lon_a, lat_b),
            (lon_b, lat_a),
        ] {
            let (x, y) = ((lon * 1e7).round() as i32, (lat * 1e7).round() as i32);
            for (dx, dy) in [(0, 0), (-1, -1), (1, 1), (-1, 1), (1, -1)] {
                extremes.push(LonLatE7 {
                    lon_e7: x + dx,
                    lat_e7: y + dy,
                });
            }
        }
        for v in [i32::MIN, i32::MIN + 1, -1, 0, 1, i32::MAX - 1, i32::MAX] {
            extremes.push(LonLatE7 {
                lon_e7: v,
                lat_e7: 480_000_000,
            });
            extremes.push(LonLatE7 {
                lon_e7: 350_000_000,
                lat_e7: v,
            });
            extremes.push(LonLatE7 {
                lon_e7: v,
                lat_e7: v,
            });
        }
        check_codes(&grid, &extremes, LonLatE7::lon_lat);
        for &p in e7.iter().step_by(5) {
            check_grid_point(&g, &grid, p.lon_lat());
        }
        // Nine bands: more codes than `count_codes` compares at once, so counted one by one.
        let many: Vec<f64> = (1..=9).map(|k| f64::from(k) * 7_000.0).collect();
        let grid = BandedGrid::new(&g.line, &g.area, &many);
        check_codes(&grid, &points, |p| p);
        check_codes(&grid, &e7, LonLatE7::lon_lat);
    }
}

#[test]
fn e7_positions_hold_seven_decimals_exactly() {
    let lons = [
        "37.73972",
        "-179.9999999",
        "180",
        "45.1234567",
        "0.0000001",
        "-0.5",
        "-180",
    ];
    let lats = [
        "45.66796",
        "-89.9999999",
        "90",
        "-0.0000001",
        "48.1234567",
        "0",
        "-90",
    ];
    for (lon_text, lat_text) in lons.iter().zip(lats) {
        let lon: f64 = lon_text.parse().expect("number");
        let lat: f64 = lat_text.parse().expect("number");
        let p = LonLatE7::from_lon_lat(LonLat::new(lon, lat))
            .unwrap_or_else(|| panic!("{lon_text}, {lat_text}"));
        assert_eq!(p.lon_lat().lon_deg.to_bits(), lon.to_bits(), "{lon_text}");
        assert_eq!(p.lon_lat().lat_deg.to_bits(), lat.to_bits(), "{lat_text}");
    }
    // More than seven decimals, beyond ±180, or not a number: not representable.
    for v in [37.739721234, 180.0000001, -200.0, f64::NAN, f64::INFINITY] {
        assert_eq!(LonLatE7::from_lon_lat(LonLat::new(v, 45.0)), None, "{v}");
        assert_eq!(LonLatE7::from_lon_lat(LonLat::new(30.0, v)), None, "{v}");
    }
}

/// `at` = fractions (fx, fy) of the rectangle [lon_min, lat_min, lon_max, lat_max].
fn point_in(rect: [f64; 4], fx: f64, fy: f64) -> LonLat {
    let [lon_a, lat_a, lon_b, lat_b] = rect;
    LonLat::new(lon_a + (lon_b - lon_a) * fx, lat_a + (lat_b - lat_a) * fy)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn grid_agrees_on_random_points_near_the_line(lon in 29.0f64..41.0, lat in 44.0f64..52.5) {
        let g = &*SCENARIO;
        check_grid_point(&g.0, &g.1, LonLat::new(lon, lat));
    }

    #[test]
    fn grid_agrees_on_random_points_anywhere(lon in -180.0f64..=180.0, lat in -90.0f64..=90.0) {
        let g = &*SCENARIO;
        check_grid_point(&g.0, &g.1, LonLat::new(lon, lat));
    }

    #[test]
    fn grid_agrees_on_random_points_of_refined_cells(
        pick in 0.0f64..1.0,
        fx in 0.0f64..=1.0,
        fy in 0.0f64..=1.0,
        snap in 0u8..4,
    ) {
        let g = &*SCENARIO;
        let p = snapped_point_in(&REFINED, BandedGrid::SUB_CELLS, (pick, fx, fy, snap));
        check_grid_point(&g.0, &g.1, p);
    }

    #[test]
    fn grid_agrees_on_random_points_of_divided_sub_cells(
        pick in 0.0f64..1.0,
        fx in 0.0f64..=1.0,
        fy in 0.0f64..=1.0,
        snap in 0u8..4,
    ) {
        let g = &*SCENARIO;
        let p = snapped_point_in(&DIVIDED, BandedGrid::FINE_CELLS, (pick, fx, fy, snap));
        check_grid_point(&g.0, &g.1, p);
    }

    #[test]
    fn distance_matches_dense_sampling(lon in 30.0f64..41.0, lat in 44.5f64..52.0) {
        let g = &*SCENARIO;
        let p = LonLat::new(lon, lat);
        let exact_m = g.0.line.distance_m(p);
        let (sampled_m, spacing_m) = sampled_distance_m(&g.0.line, p);
        // Sampling can only overestimate, and by at most half the spacing of the samples; both
        // computations round (about 10⁻¹³ rad, i.e. a micrometre at 100 km, was seen), hence
        // a tolerance that grows with the distance.
        let rounding_m = 1e-6 + 1e-10 * exact_m;
        prop_assert!(exact_m <= sampled_m + rounding_m, "exact {} > sampled {}", exact_m, sampled_m);
        prop_assert!(sampled_m - exact_m <= spacing_m / 2.0 + rounding_m, "exact {} vs sampled {} (spacing {})", exact_m, sampled_m, spacing_m);
    }
}

static SCENARIO: std::sync::LazyLock<(Geometry, BandedGrid)> = std::sync::LazyLock::new(|| {
    let g = scenario();
    let grid = BandedGrid::new(&g.line, &g.area, &THRESHOLDS_M);
    (g, grid)
});

static REFINED: std::sync::LazyLock<Vec<[f64; 4]>> =
    std::sync::LazyLock::new(|| SCENARIO.1.refined_cells_deg());

/// The point at (fx, fy) of the rectangle `pick` chooses among `rects`, snapped (by the bits
/// of `snap`) to the nearest edge in x, y or both of the `parts` × `parts` squares that divide
/// it, or left where it fell.
fn snapped_point_in(
    rects: &[[f64; 4]],
    parts: usize,
    (pick, fx, fy, snap): (f64, f64, f64, u8),
) -> LonLat {
    let rect = rects[((pick * rects.len() as f64) as usize).min(rects.len() - 1)];
    let parts = parts as f64;
    let on_edge = |f: f64| (f * parts).round() / parts;
    let fx = if snap & 1 == 1 { on_edge(fx) } else { fx };
    let fy = if snap & 2 == 2 { on_edge(fy) } else { fy };
    point_in(rect, fx, fy)
}

static DIVIDED: std::sync::LazyLock<Vec<[f64; 4]>> =
    std::sync::LazyLock::new(|| SCENARIO.1.divided_sub_cells_deg());

/// The slow, independent oracle: the distance to points sampled along every arc by spherical
/// interpolation (at most ~20 m apart), and the largest spacing used.
fn sampled_distance_m(line: &ContactLine, p: LonLat) -> (f64, f64) {
    let pv = UnitVector::from_lon_lat(p);
    let mut best = f64::INFINITY;
    let mut spacing = 0.0f64;
    for polyline in line.polylines() {
        for w in polyline.windows(2) {
            let (a, b) = (
                UnitVector::from_lon_lat(w[0]),
                UnitVector::from_lon_lat(w[1]),
            );
            let omega = a.dot(b).clamp(-1.0, 1.0).acos();
            let steps = ((omega * EARTH_RADIUS_M / 20.0).ceil() as usize).max(1);
            spacing = spacing.max(omega * EARTH_RADIUS_M / steps as f64);
            for k in 0..=steps {
                let t = k as f64 / steps as f64;
                let q = if omega < 1e-12 {
                    a
                } else {
                    let (wa, wb) = (
                        ((1.0 - t) * omega).sin() / omega.sin(),
                        (t * omega).sin() / omega.sin(),
                    );
                    UnitVector([
                        wa * a.0[0] + wb * b.0[0],
                        wa * a.0[1] + wb * b.0[1],
                        wa * a.0[2] + wb * b.0[2],
                    ])
                };
                // Chord length → angle: robust and independent of the atan2 formula under test.
                let d = ((pv.0[0] - q.0[0]).powi(2)
                    + (pv.0[1] - q.0[1]).powi(2)
                    + (pv.0[2] - q.0[2]).powi(2))
                .sqrt();
                best = best.min(2.0 * (d / 2.0).asin());
            }
        }
    }
    (EARTH_RADIUS_M * best, spacing)
}

#[test]
fn real_line_statistics_match_the_scenario_readme() {
    // README: 11 pieces, 1151 vertices, 1140 segments, 1203.9 km (great-circle).
    let g = scenario();
    assert_eq!(g.line.polylines().len(), 11);
    assert_eq!(g.line.polylines().iter().map(Vec::len).sum::<usize>(), 1151);
    assert_eq!(g.line.segment_count(), 1140);
    assert!(
        (g.line.length_m() / 1000.0 - 1203.9).abs() < 0.05,
        "{}",
        g.line.length_m()
    );
}
