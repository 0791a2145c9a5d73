//! End-to-end tests of the `truce` binary: real data through the command line into a real
//! store, with the exit codes and messages a user sees.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The bundled real-data scenario.
fn scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/scenario-2025-09")
}

fn truce(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_truce"))
        .args(args)
        .env_remove("TRUCE_DB")
        .output()
        .expect("run truce")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `truce ingest FILE --db DB`.
fn ingest(db: &Path, file: &Path) -> Output {
    truce(&[
        "ingest",
        "--db",
        db.to_str().expect("utf8"),
        file.to_str().expect("utf8"),
    ])
}

/// A store holding the scenario's first FIRMS file (283 observations).
fn store_with_the_first_day(dir: &Path) -> PathBuf {
    let db = dir.join("store.db");
    let good = scenario().join("firms/J1_VIIRS_C2_Global_VJ114IMGTDL_NRT_2025244.txt.csv");
    let o = ingest(&db, &good);
    assert!(o.status.success(), "{}", stderr(&o));
    db
}

/// Everything a store holds, as one comparable value: row counts and the content of every
/// observation and assessment.
fn store_contents(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).expect("open store");
    let mut rows = Vec::new();
    for (table, query) in [
        (
            "observations",
            "SELECT source || '|' || source_ref || '|' || revision || '|' || body FROM observations ORDER BY id",
        ),
        ("assessments", "SELECT * FROM assessments ORDER BY 1, 2"),
        ("batches", "SELECT id FROM batches ORDER BY id"),
    ] {
        let mut stmt = conn.prepare(query).expect(table);
        let n = stmt.column_count();
        let mut r = stmt.query([]).expect(table);
        while let Some(row) = r.next().expect(table) {
            let cells: Vec<String> = (0..n)
                .map(|i| format!("{:?}", row.get_ref(i).expect("cell")))
                .collect();
            rows.push(format!("{table}: {}", cells.join(",")));
        }
    }
    rows
}

fn copy_scenario(to: &Path) {
    for entry in walk(&scenario()) {
        let rel = entry.strip_prefix(scenario()).expect("inside");
        let target = to.join(rel);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&entry, &target).expect("copy");
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(walk(&p))
        } else {
            out.push(p)
        }
    }
    out
}

#[test]
fn replay_of_the_real_scenario_prints_exactly_the_expected_summary() {
    let tmp = tempfile::tempdir().expect("tmp");
    let folder = tmp.path().join("scenario");
    copy_scenario(&folder);
    let db = tmp.path().join("replay.db");
    let detections = tmp.path().join("detections.csv");
    let o = truce(&[
        "replay",
        folder.to_str().expect("utf8"),
        "--json",
        "--db",
        db.to_str().expect("utf8"),
        "--detections",
        detections.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got: Value = serde_json::from_str(&stdout(&o)).expect("JSON on stdout");
    let expected: Value = serde_json::from_slice(
        &std::fs::read(folder.join("expected.json")).expect("expected.json"),
    )
    .expect("JSON");
    for key in ["agreement", "observations_total", "by_day", "totals"] {
        assert_eq!(got[key], expected[key], "key {key}");
    }

    // Every counted detection is traceable: the same rows, sides, zones and incidents as the
    // reference, with distances equal to its three decimals.
    let mut ours = csv::Reader::from_path(&detections).expect("detections");
    let mut reference =
        csv::Reader::from_path(folder.join("expected_detections.csv")).expect("reference");
    let ours: Vec<csv::StringRecord> = ours.records().map(|r| r.expect("row")).collect();
    let reference: Vec<csv::StringRecord> = reference.records().map(|r| r.expect("row")).collect();
    assert_eq!(ours.len(), reference.len());
    for (a, e) in ours.iter().zip(&reference) {
        // ours: source,source_ref,time,lon,lat,side,distance_m,zone,incident_id
        // reference: row_index,lon,lat,time,side,distance_m,zone,incident_id,...
        assert_eq!(&a[2], &e[3], "time");
        let close = |x: &str, y: &str| {
            (x.parse::<f64>().unwrap_or(f64::NAN) - y.parse::<f64>().unwrap_or(f64::NAN)).abs()
                < 1e-9
        };
        assert!(
            close(&a[3], &e[1]) && close(&a[4], &e[2]),
            "position of row {}",
            &e[0]
        );
        assert_eq!(
            (&a[5], &a[6], &a[7], &a[8]),
            (&e[4], &e[5], &e[6], &e[7]),
            "row {}",
            &e[0]
        );
    }
}

#[test]
fn re_ingesting_reports_duplicates_and_changes_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let db = tmp.path().join("store.db");
    let firms: Vec<String> = walk(&scenario().join("firms"))
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let mut args = vec!["ingest", "--json", "--db", db.to_str().expect("utf8")];
    args.extend(firms.iter().map(String::as_str));

    let first = truce(&args);
    assert!(first.status.success(), "{}", stderr(&first));
    let total: Value =
        serde_json::from_str(stdout(&first).lines().last().expect("total line")).expect("JSON");
    assert_eq!(total["total"]["records"], 4947);
    let before = store_contents(&db);

    let second = truce(&args);
    assert!(second.status.success(), "{}", stderr(&second));
    for line in stdout(&second).lines().filter(|l| l.contains("\"file\"")) {
        let v: Value = serde_json::from_str(line).expect("JSON");
        assert_eq!(
            (v["new"].as_u64(), v["revised"].as_u64()),
            (Some(0), Some(0)),
            "{line}"
        );
        assert!(v["duplicate"].as_u64().unwrap_or(0) > 0, "{line}");
    }
    assert_eq!(store_contents(&db), before);
}

#[test]
fn every_kind_of_bad_row_is_refused_by_ingest_with_the_store_unchanged() {
    let tmp = tempfile::tempdir().expect("tmp");
    let db = store_with_the_first_day(tmp.path());
    let before = store_contents(&db);
    let header = "latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,confidence,version,bright_ti5,frp,daynight,instrument";
    let row =
        "48.56341,38.93948,367,0.69,0.74,2025-09-07,08:45:00,N20,high,2.0NRT,295.08,33.58,D,VIIRS";
    let located = r#""location":{"lon":37.5,"lat":48.1,"uncertainty_m":2000}"#;
    let typo = format!(
        "{{\"source\":\"p\",\"source_ref\":\"2\",\"kind\":\"explosion\",\"observed_on\":\"2025-09-07T08:45:00Z\",{located}}}"
    );
    let cases = [
        (
            "typo.ndjson",
            format!(
                "{{\"source\":\"p\",\"source_ref\":\"1\",\"kind\":\"explosion\",\"observed_at\":\"2025-09-07T08:45:00Z\",{located}}}\n{typo}\n"
            ),
            "typo.ndjson:2: field `observed_on`: unknown field",
        ),
        (
            "missing.csv",
            format!("{header}\n{row}\n{}\n", row.replacen(",VIIRS", "", 1)),
            "missing.csv:3: expected 14 fields as in the header, found 13",
        ),
        (
            "text.csv",
            format!("{header}\n{}\n", row.replacen("48.56341", "north", 1)),
            "text.csv:2: field `latitude`: expected a number, found `north`",
        ),
        (
            "pole.csv",
            format!("{header}\n{}\n", row.replacen("48.56341", "91", 1)),
            "pole.csv:2: field `latitude`: must be in [-90, 90], found 91",
        ),
        (
            "offset.ndjson",
            format!(
                "{{\"source\":\"p\",\"source_ref\":\"1\",\"kind\":\"explosion\",\"observed_at\":\"2025-09-01T00:52:00\",{located}}}\n"
            ),
            "offset.ndjson:1: field `observed_at`: timestamp `2025-09-01T00:52:00` has no UTC offset",
        ),
    ];
    for (name, content, expected) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, content).expect("write");
        let o = ingest(&db, &path);
        assert_eq!(o.status.code(), Some(3), "{name}: {}", stderr(&o));
        let shown = stdout(&o).replace(&format!("{}/", tmp.path().display()), "");
        assert!(shown.contains(expected), "{name}: {shown}");
        assert_eq!(store_contents(&db), before, "{name} changed the store");
    }
}

#[test]
fn a_bad_agreement_is_refused_before_anything_runs() {
    let tmp = tempfile::tempdir().expect("tmp");
    let folder = tmp.path().join("scenario");
    copy_scenario(&folder);
    let text = std::fs::read_to_string(folder.join("agreement.toml")).expect("agreement");
    std::fs::write(
        folder.join("agreement.toml"),
        text.replace("band_m = [15000, 50000]", "band_m = [14000, 50000]"),
    )
    .expect("write");
    let db = tmp.path().join("store.db");
    let o = truce(&[
        "replay",
        folder.to_str().expect("utf8"),
        "--db",
        db.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("field `zone.band_m`: zone `heavy_weapons_withdrawal`: band [14000, 50000] overlaps zone `disengagement` [0, 15000]"), "{}", stderr(&o));
    assert!(
        !db.exists(),
        "nothing may run before the agreement is valid"
    );
}

#[test]
fn a_second_writer_waits_for_the_first() {
    let tmp = tempfile::tempdir().expect("tmp");
    let db = store_with_the_first_day(tmp.path());
    // Another process's write transaction, held for a while.
    let holder = rusqlite::Connection::open(&db).expect("open");
    holder.execute_batch("BEGIN IMMEDIATE; INSERT INTO batches (label, received_at_s, record_count, new_count, revised_count, duplicate_count) VALUES ('holder', 0, 0, 0, 0, 0);").expect("hold the write lock");
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        holder.execute_batch("COMMIT").expect("release");
    });
    let other = scenario().join("firms/J1_VIIRS_C2_Global_VJ114IMGTDL_NRT_2025245.txt.csv");
    let started = std::time::Instant::now();
    let o = ingest(&db, &other);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(1000),
        "it did not wait"
    );
    release.join().expect("holder thread");
    let conn = rusqlite::Connection::open(&db).expect("open");
    let n: i64 = conn
        .query_row("SELECT count(*) FROM observations", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 283 + 170);
}

#[test]
fn a_store_from_a_newer_truce_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let db = tmp.path().join("store.db");
    rusqlite::Connection::open(&db)
        .expect("create")
        .pragma_update(None, "user_version", 99)
        .expect("set version");
    let good = scenario().join("firms/J1_VIIRS_C2_Global_VJ114IMGTDL_NRT_2025244.txt.csv");
    let o = ingest(&db, &good);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("has schema version 99"),
        "{}",
        stderr(&o)
    );
}

/// Writes `files` FIRMS files of `rows` rows each; file k's rows all carry the date 2025-09-(k+1).
fn write_firms_files(dir: &Path, files: usize, rows: usize) -> Vec<PathBuf> {
    (0..files)
        .map(|k| {
            let path = dir.join(format!("batch{k}.csv"));
            let mut text = String::from("latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,confidence,version,bright_ti5,frp,daynight,instrument\n");
            for i in 0..rows {
                let lat = 47.0 + (i % 1000) as f64 * 0.001;
                let lon = 35.0 + (i / 1000) as f64 * 0.001;
                text.push_str(&format!("{lat:.5},{lon:.5},330.5,0.4,0.5,2025-09-{:02},{:02}:{:02}:00,N20,nominal,2.0NRT,290.1,3.2,N,VIIRS\n", k + 1, (i / 60) % 24, i % 60));
            }
            std::fs::write(&path, text).expect("write");
            path
        })
        .collect()
}

/// Counts, per batch file, the stored observations and their assessments.
fn batch_presence(db: &Path, files: usize) -> Vec<(i64, i64)> {
    let Ok(conn) = rusqlite::Connection::open(db) else {
        return vec![(0, 0); files];
    };
    (0..files)
        .map(|k| {
            let pattern = format!("2025-09-{:02}T%", k + 1);
            let count = |sql: &str| conn.query_row(sql, [&pattern], |r| r.get::<_, i64>(0)).unwrap_or(0);
            (
                count("SELECT count(*) FROM observations WHERE source_ref LIKE ?1"),
                count("SELECT count(*) FROM assessments a JOIN observations o ON o.id = a.observation_id WHERE o.source_ref LIKE ?1"),
            )
        })
        .collect()
}

#[test]
fn a_killed_ingest_leaves_each_batch_wholly_present_or_wholly_absent() {
    let tmp = tempfile::tempdir().expect("tmp");
    let rows = 60_000;
    let files = write_firms_files(tmp.path(), 4, rows);
    let agreement = scenario().join("agreement.toml");
    let args = |db: &Path| -> Vec<String> {
        let mut a = vec![
            "ingest".into(),
            "--db".into(),
            db.display().to_string(),
            "--agreement".into(),
            agreement.display().to_string(),
        ];
        a.extend(files.iter().map(|f| f.display().to_string()));
        a
    };
    // How long a whole run takes here, so that kills can be aimed inside it.
    let started = std::time::Instant::now();
    let full = Command::new(env!("CARGO_BIN_EXE_truce"))
        .args(args(&tmp.path().join("timing.db")))
        .output()
        .expect("run");
    assert!(full.status.success(), "{}", stderr(&full));
    let full_ms = started.elapsed().as_millis() as f64;

    // Kill (SIGKILL) fresh runs at points spread over that time, then kill repeated runs into
    // one store; after every kill each batch must be all there (with its assessments) or absent.
    let shared = tmp.path().join("shared.db");
    let mut partial_states = 0;
    for (attempt, fraction) in [0.2, 0.4, 0.55, 0.7, 0.85, 0.95, 0.3, 0.6, 0.9]
        .into_iter()
        .enumerate()
    {
        let db = if attempt < 6 {
            tmp.path().join(format!("kill{attempt}.db"))
        } else {
            shared.clone()
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_truce"))
            .args(args(&db))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(
            (full_ms * fraction) as u64,
        ));
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        let presence = batch_presence(&db, files.len());
        for (k, &(stored, assessed)) in presence.iter().enumerate() {
            assert!(
                stored == 0 || stored == rows as i64,
                "attempt {attempt}: batch {k} has {stored} of {rows} rows"
            );
            assert_eq!(
                assessed, stored,
                "attempt {attempt}: batch {k} has {stored} rows but {assessed} assessments"
            );
        }
        let present = presence.iter().filter(|p| p.0 > 0).count();
        partial_states += usize::from(present > 0 && present < files.len());
    }
    assert!(
        partial_states > 0,
        "no kill landed between two commits (full run {full_ms} ms)"
    );

    // Finally the ingest completes; what the killed runs stored comes back as duplicates.
    let o = Command::new(env!("CARGO_BIN_EXE_truce"))
        .args(args(&shared))
        .arg("--json")
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", stderr(&o));
    let total: Value =
        serde_json::from_str(stdout(&o).lines().last().expect("total")).expect("JSON");
    assert_eq!(total["total"]["records"], 4 * rows);
    assert!(
        batch_presence(&shared, files.len())
            .iter()
            .all(|&(s, a)| s == rows as i64 && a == s)
    );
}

#[test]
fn demo_replays_the_bundled_scenario() {
    let tmp = tempfile::tempdir().expect("tmp");
    let db = tmp.path().join("demo.db");
    let o = truce(&["demo", "--db", db.to_str().expect("utf8")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("4173 counted (in force), 769 incidents"),
        "{out}"
    );
    assert!(out.contains("total            882       541      1254       540       414       564       518       229"), "{out}");
}

#[test]
fn assess_counts_points_like_replay() {
    // The scenario's FIRMS files through `assess` give replay's zone counts (no incidents).
    let tmp = tempfile::tempdir().expect("tmp");
    let mut all = String::from("lon,lat,time\n");
    for path in walk(&scenario().join("firms")) {
        let mut r = csv::Reader::from_path(&path).expect("firms");
        for row in r.records() {
            let row = row.expect("row");
            all.push_str(&format!(
                "{},{},{}T{}Z\n",
                &row[1], &row[0], &row[5], &row[6]
            ));
        }
    }
    let points = tmp.path().join("points.csv");
    std::fs::write(&points, all).expect("write");
    let o = truce(&[
        "assess",
        points.to_str().expect("utf8"),
        "--agreement",
        scenario().join("agreement.toml").to_str().expect("utf8"),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    let expected: Value =
        serde_json::from_slice(&std::fs::read(scenario().join("expected.json")).expect("expected"))
            .expect("JSON");
    assert_eq!(got["observations_total"], expected["observations_total"]);
    for party in ["UA", "RU"] {
        for zone in ["disengagement", "heavy_weapons_withdrawal", "outside"] {
            assert_eq!(
                got["totals"][party][zone], expected["totals"][party][zone],
                "{party} {zone}"
            );
        }
        assert!(got["totals"][party].get("incidents").is_none());
    }
}

#[test]
fn assess_counts_only_points_in_force_on_the_first_and_last_days() {
    // In force from the middle of 3 September to the morning of 5 September: of the points
    // on those days only the ones in force count; whole days count every point.
    let tmp = tempfile::tempdir().expect("tmp");
    for file in ["contact_line.geojson", "control.geojson"] {
        std::fs::copy(scenario().join(file), tmp.path().join(file)).expect("copy geometry");
    }
    let text = std::fs::read_to_string(scenario().join("agreement.toml")).expect("agreement");
    let text = text.replace(
        "effective_at = \"2025-09-01T00:00:00Z\"",
        "effective_at = \"2025-09-03T12:00:00Z\"\nexpires_at = \"2025-09-05T06:00:00Z\"",
    );
    assert!(
        text.contains("expires_at"),
        "the sample's effective_at line changed"
    );
    let agreement = tmp.path().join("agreement.toml");
    std::fs::write(&agreement, text).expect("write agreement");
    let times = [
        ("2025-09-05T06:00:00Z", None),
        ("2025-09-03T11:59:59Z", None),
        ("2025-09-04T00:00:00Z", Some("2025-09-04")),
        ("2025-09-03T12:00:00Z", Some("2025-09-03")),
        ("2025-09-02T18:00:00Z", None),
        ("2025-09-05T05:59:59Z", Some("2025-09-05")),
        ("2025-09-04T23:59:59Z", Some("2025-09-04")),
        ("2025-09-06T00:00:00Z", None),
    ];
    let positions = [(37.8, 48.1), (30.0, 50.0), (38.6, 47.4), (35.9, 47.3)];
    let assess = |nudge_deg: f64, exact: bool| -> Value {
        let mut csv = String::from("lon,lat,time\n");
        for (lon, lat) in positions {
            for (time, _) in times {
                csv.push_str(&format!("{},{},{time}\n", lon + nudge_deg, lat));
            }
        }
        let points = tmp.path().join("points.csv");
        std::fs::write(&points, csv).expect("write points");
        let mut args = vec![
            "assess",
            points.to_str().expect("utf8"),
            "--agreement",
            agreement.to_str().expect("utf8"),
            "--json",
        ];
        if exact {
            args.push("--exact");
        }
        let o = truce(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        let mut v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
        for key in ["timing", "method", "assessor"] {
            v.as_object_mut().expect("object").remove(key);
        }
        v
    };
    let got = assess(0.0, false);
    let in_force = times.iter().filter(|(_, day)| day.is_some()).count();
    assert_eq!(got["observations_total"], positions.len() * in_force);
    assert_eq!(got["points_read"], positions.len() * times.len());
    for day in ["2025-09-03", "2025-09-04", "2025-09-05"] {
        let expected = positions.len() * times.iter().filter(|(_, d)| *d == Some(day)).count();
        let counted: u64 = got["by_day"][day]
            .as_object()
            .expect("day")
            .values()
            .flat_map(|zones| zones.as_object().expect("zones").values())
            .map(|n| n.as_u64().expect("count"))
            .sum();
        assert_eq!(counted, expected as u64, "{day}: {}", got["by_day"]);
    }
    // The exact definitions, and positions that are not whole multiples of 10⁻⁷ degree (held
    // as doubles; a nanodegree away, in the same zones), give the same counts.
    assert_eq!(assess(0.0, true), got);
    assert_eq!(assess(1e-9, false), got);
    assert_eq!(assess(1e-9, true), got);
}

/// `truce simulate` under the scenario's agreement into `folder`.
fn simulate(folder: &Path, seed: &str, observations: &str, days: &str) {
    let agreement = scenario().join("agreement.toml");
    let sim = truce(&[
        "simulate",
        "--agreement",
        agreement.to_str().expect("utf8"),
        "--seed",
        seed,
        "--observations",
        observations,
        "--days",
        days,
        "--out",
        folder.to_str().expect("utf8"),
    ]);
    assert!(sim.status.success(), "{}", stderr(&sim));
}

#[test]
fn simulate_incidents_and_evaluate_work_together() {
    let tmp = tempfile::tempdir().expect("tmp");
    let folder = tmp.path().join("sim");
    simulate(&folder, "3", "5000", "5");

    // Every reported observation is a member of exactly one incident of the export.
    let mut keys = std::collections::BTreeSet::new();
    for path in walk(&folder.join("observations")) {
        for line in std::fs::read_to_string(path).expect("ndjson").lines() {
            let v: Value = serde_json::from_str(line).expect("JSON");
            keys.insert((
                v["source"].as_str().unwrap_or("").to_owned(),
                v["source_ref"].as_str().unwrap_or("").to_owned(),
            ));
        }
    }
    assert_eq!(keys.len(), 5000);
    let o = truce(&[
        "incidents",
        "--folder",
        folder.to_str().expect("utf8"),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut members = Vec::new();
    for line in stdout(&o).lines() {
        let incident: Value = serde_json::from_str(line).expect("one incident a line");
        let status = incident["status"].as_str().unwrap_or("");
        assert!(
            ["reported", "corroborated", "confirmed", "dismissed"].contains(&status),
            "{line}"
        );
        for m in incident["members"].as_array().expect("members") {
            members.push((
                m["source"].as_str().unwrap_or("").to_owned(),
                m["source_ref"].as_str().unwrap_or("").to_owned(),
            ));
        }
    }
    members.sort();
    let unique: std::collections::BTreeSet<_> = members.iter().cloned().collect();
    assert_eq!(
        members.len(),
        unique.len(),
        "an observation in two incidents"
    );
    assert_eq!(unique, keys, "every observation in an incident");

    // The scores of evaluation.md, and sane ones for this engine.
    let e = truce(&["evaluate", folder.to_str().expect("utf8"), "--json"]);
    assert!(e.status.success(), "{}", stderr(&e));
    let scores: Value =
        serde_json::from_str(stdout(&e).lines().next().expect("a line")).expect("JSON");
    for key in ["precision", "recall", "double_counting"] {
        let v = scores[key].as_f64().unwrap_or(f64::NAN);
        assert!((0.0..=1.0).contains(&v), "{key} = {v} in {scores}");
    }
    assert!(
        scores["precision"].as_f64().unwrap_or(0.0) > 0.9,
        "{scores}"
    );
    assert!(scores["recall"].as_f64().unwrap_or(0.0) > 0.85, "{scores}");
}

#[test]
fn the_incidents_of_a_store_are_saved_in_it_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    let folder = tmp.path().join("sim");
    simulate(&folder, "5", "2000", "2");
    let agreement = scenario().join("agreement.toml");
    let db = tmp.path().join("store.db");
    for file in walk(&folder.join("observations")) {
        let o = ingest(&db, &file);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let sources = folder.join("sources.csv");
    let run = || {
        truce(&[
            "incidents",
            "--db",
            db.to_str().expect("utf8"),
            "--sources",
            sources.to_str().expect("utf8"),
            "--agreement",
            agreement.to_str().expect("utf8"),
            "--save",
            "--json",
        ])
    };
    let o = run();
    assert!(o.status.success(), "{}", stderr(&o));
    let export: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one incident a line"))
        .collect();
    assert!(
        stderr(&o).starts_with(&format!(
            "Stored fusion 1: {} incidents of 2000 observations, ",
            export.len()
        )),
        "{}",
        stderr(&o)
    );

    // What the store holds is what was exported: each incident's id, status and members
    // (read back through the observations' ids), and every observation in one incident.
    let conn = rusqlite::Connection::open(&db).expect("open store");
    let stored: Vec<(String, String, String)> = conn
        .prepare(
            "SELECT i.id, i.status, group_concat(o.source || ' ' || o.source_ref, '|') \
             FROM incidents AS i, json_each(i.member_ids) AS m \
             JOIN observations AS o ON o.id = m.value \
             WHERE i.fusion_id = 1 GROUP BY i.number ORDER BY i.number",
        )
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })
        .expect("incidents");
    let exported: Vec<(String, String, String)> = export
        .iter()
        .map(|i| {
            let members: Vec<String> = i["members"]
                .as_array()
                .expect("members")
                .iter()
                .map(|m| {
                    format!(
                        "{} {}",
                        m["source"].as_str().unwrap_or(""),
                        m["source_ref"].as_str().unwrap_or("")
                    )
                })
                .collect();
            (
                i["id"].as_str().unwrap_or("").to_owned(),
                i["status"].as_str().unwrap_or("").to_owned(),
                members.join("|"),
            )
        })
        .collect();
    assert_eq!(stored, exported);
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect(sql) };
    assert_eq!(count("SELECT count(*) FROM incident_members"), 2000);
    let label: String = conn
        .query_row("SELECT label FROM fusions", [], |r| r.get(0))
        .expect("label");
    assert_eq!(label, "current observations, ids up to 2000");
    assert_eq!(
        count(
            "SELECT count(*) FROM current_observations AS o JOIN incident_members AS m \
             ON m.observation_id = o.id AND m.fusion_id = 1"
        ),
        2000
    );
    let detail: Value = serde_json::from_str(
        &conn
            .query_row("SELECT detail FROM incidents WHERE number = 1", [], |r| {
                r.get::<_, String>(0)
            })
            .expect("detail"),
    )
    .expect("JSON");
    assert_eq!(detail["reasons"], export[0]["reasons"]);
    assert_eq!(detail["sources"], export[0]["sources"]);

    // The same fusion again writes nothing.
    let again = run();
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(
        stderr(&again),
        "The same fusion is stored already, as fusion 1: nothing written.\n"
    );
    assert_eq!(count("SELECT count(*) FROM fusions"), 1);

    // Saving needs a store.
    let o = truce(&[
        "incidents",
        "--folder",
        folder.to_str().expect("utf8"),
        "--save",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("give --db PATH"), "{}", stderr(&o));
    // And there must be one: reading creates nothing.
    let missing = tmp.path().join("missing.db");
    let o = truce(&[
        "incidents",
        "--db",
        missing.to_str().expect("utf8"),
        "--save",
    ]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("no store at"), "{}", stderr(&o));
    assert!(!missing.exists());
}
