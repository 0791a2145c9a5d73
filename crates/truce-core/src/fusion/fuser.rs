//! The incremental fusion engine: observations in, one at a time, in any order; graded
//! incidents out.
//!
//! # Linking
//!
//! Every observation is a *node*. Located nodes are *anchors* when they are precise in space
//! and time (uncertainty ≤ `anchor_max_uncertainty_m`, window ≤ `anchor_max_window_s`),
//! otherwise *coarse* (a patrol's "within 5 km", a claim about "this morning").
//!
//! - Anchors link with every anchor that matches the link rule ([`LinkRule`]): single
//!   linkage, kept by union–find as they arrive (`add` queries the hash grid of
//!   `index.rs`, one grid per uncertainty band, for the few cells and time buckets a match
//!   can lie in). The anchor partition is therefore the connected components of a symmetric
//!   relation: it does not depend on arrival order.
//! - A coarse node must not bridge two events that it is too vague to tell apart: it joins
//!   the *single best* matching anchor's or fix's incident (smallest distance in units of
//!   the pair's combined uncertainty, plus a quarter of the time offset in units of the
//!   windows; ties by time, then caller index). A coarse node precise in place (coarse by
//!   its long window only, such as a heat spot) that matches no anchor or fix joins, the
//!   same way, the best placed coarse node of its kind and precision it matches (a fire seen
//!   again at a later overpass), in rounds that each look only at the nodes placed in the
//!   round before. Coarse nodes that match nothing link with each other by the rule (single
//!   linkage among themselves).
//! - Bearings (direction-only reports), in three steps:
//!   1. a bearing whose sector (± `bearing_attach_sigmas` σ, out to `max_range_m` or
//!      `bearing_default_range_m`) holds a compatible *anchor* whose window matches joins
//!      the best such anchor's incident. For an acoustic source the sound must have left
//!      (arrival less range / `sound_speed_m_s`) within the anchor's window, and a bearing
//!      up to `bearing_sigmas` σ off joins when its sound left within
//!      `triangulation_time_s` of the anchor's own times (the shot seen and heard);
//!   2. the others are triangulated greedily: every pair of bearings of different sources
//!      whose lines cross ahead of both, within range, with event times (arrival minus
//!      travel) within `triangulation_time_s` for acoustic sources (their windows for
//!      others), sorted by how closely the event times agree; from each unused pair a fix
//!      grows by the partners whose sector holds it, least squares (`bearings.rs`) dropping
//!      bearings more than `bearing_sigmas` off. A fix of two or more sources is a located
//!      pseudo-report (uncertainty = the ellipse's semi-major axis; compatible with what
//!      any kind its bearings report is, as arrays may take a launch for an impact): up to
//!      `fix_anchor_max_m` it links like an anchor, beyond it joins the best match or stays
//!      alone; beyond `max_fix_semi_major_m` (near-parallel lines) it is no fix. A fix's
//!      uncertainty in a link is its error ellipse, added to the other's (the combined
//!      ~95% reach in the direction of the other report takes the place of `√(u_a² + u_b²)`):
//!      two lines pin the position across them far better than along them;
//!   3. a bearing left over joins the best fix or coarse report its sector holds (an
//!      acoustic one only when its sound left within that report's window), or else the
//!      incident of a bearing in a fix or placed that it was taken side by side with
//!      (observers within 5 km, azimuths within `bearing_sigmas · √(σ₁² + σ₂²)`) at an
//!      overlapping window, the nearest in time (the same array hearing the same place
//!      again: a later salvo of one exchange), or else the other left-over bearings of
//!      an observer within 5 km looking the same way (azimuths within
//!      `bearing_sigmas · √(σ₁² + σ₂²)`), of an observer it faces and
//!      that faces it (the event between them, where lines cannot cross), or of another
//!      observer whose sector (± `bearing_sigmas` σ, within range) meets its own at a point
//!      both heard at a consistent time (lines near parallel, or crossing just behind an
//!      observer or beyond a range, give no fix): an incident without a location, shown by
//!      its sector. Never an invented point;
//!   4. a bearing not in a fix whose sector misses its incident's final location (the
//!      inverse-variance mean of `assemble`, with its uncertainty) by more than
//!      `bearing_sigmas` σ leaves it: it fitted the one report it joined, not the incident.
//!      So does a bearing that joined a coarse report in 3 when the incident has anchors or
//!      fixes up to `fix_anchor_max_m` (reports of the event at its own time) and the
//!      bearing's window at its range overlaps none of theirs, unless its array heard the
//!      same place within the incident at an overlapping window (as in 3): a long window
//!      (a heat spot hours after the fire started, harm found later) says little about when
//!      the sound came. Such strays that heard one sound (side by side, face to face, as in 3) stay
//!      together; each group is an incident known by its sector;
//!   5. a stray joins the best other incident whose final location (with its uncertainty)
//!      its sector holds, by the tolerances and times of 1 against that incident's located
//!      members: the sound it heard may fit the incident that reports make where it fits
//!      no single one of them. Bearings outside fixes add nothing to a location, so what
//!      they join keeps fitting them.
//!
//!   Coarse reports and bearings are placed when a snapshot is taken, from the final set of
//!   anchors, by local index queries (each a few cells): still order independent, and
//!   never a recomputation of the anchors. Where floating-point rounding could depend on
//!   the order two reports are looked at, they are taken in an order of their content.
//!
//! With [`LinkRule::Fixed`] every located observation is an anchor, every pair within the
//! distance and time links, and bearings stay alone: exactly `replay.md`'s incidents.

use std::borrow::Cow;
use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};
use rayon::prelude::*;
use smol_str::{SmolStr, SmolStrBuilder};
use truce_geo::{EARTH_RADIUS_M, LonLat, UnitVector, central_angle_rad};

use super::bearings::{
    BearingLine, ErrorEllipse, along, radius_towards_m, sector_miss, triangulate,
};
use super::config::{Compatibility, EvidenceRule, FusionConfig, LinkRule, kinds_compatible};
use super::equipment::{self, EquipmentGroup};
use super::grading::{GradingRules, grade};
use super::index::{FxHashMap, Grid};
use super::sphere::{angle_diff_deg, azimuth_deg, distance_m, to_plane};
use super::{
    Discipline, DismissalContext, FusedIncident, Fusion, Reliability, SourceEvidence, SourceInfo,
    SourceRegistry,
};
use crate::observation::{Bearing, EquipmentClass, Kind, KindSet, Observation};

/// Windows longer than this are clamped for linking (an `observed_until` weeks later).
const MAX_WINDOW_S: f64 = 7.0 * 86_400.0;
/// Time bucket of the evidence grids, seconds.
const BUCKET_S: f64 = 4.0 * 3600.0;
/// Bearings whose observers are this close (metres) and whose azimuths agree look at the
/// same thing.
const SAME_OBSERVER_M: f64 = 5000.0;
/// The step, in metres, at which a bearing's line is walked through another's sector.
const SECTOR_STEP_M: f64 = 250.0;
/// The round of a coarse report not placed (yet).
const FREE_ROUND: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Anchor,
    Coarse,
    Bearing,
    /// Takes part in no linking (unlocated without a usable bearing, outside the link zone,
    /// an invalid position).
    Alone,
    /// A triangulated fix (exists only inside a snapshot).
    Fix,
}

#[derive(Clone, Copy, Debug)]
struct Node {
    index: usize,
    v: [f64; 3],
    pos: LonLat,
    /// The window the event may lie in, seconds since the epoch.
    t0: f64,
    t1: f64,
    /// `observed_at`, seconds since the epoch.
    at_s: f64,
    u_m: f64,
    extent_m: f64,
    kind: Kind,
    /// For a fix whose bearings report several kinds (an array may take a launch for an
    /// impact): the others, one bit per `Kind as usize`. Zero for every report.
    other_kinds: KindSet,
    /// What linking reads of the equipment (its count is in [`Facts`]).
    equipment_class: Option<EquipmentClass>,
    role: Role,
    level: u8,
    source: u32,
}

#[derive(Clone, Debug)]
struct Facts {
    /// `source_ref` as a range of `Arena::refs`.
    source_ref: (u32, u32),
    observed_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
    credibility: Option<u8>,
    party: OptId,
    /// Index into `Arena::bearings`.
    bearing: OptId,
    /// The equipment's count (0 without equipment).
    equipment_count: u32,
}

// Ten million of each are written once and read at random by every query: their size is
// fresh memory and cache misses (measured in `docs/benchmarks.md`).
#[cfg(target_pointer_width = "64")]
const _: () = assert!(size_of::<Node>() <= 104 && size_of::<Facts>() <= 48);

/// A small id or none, in four bytes (an `Option<u32>` takes eight, and ten million
/// observations each keep two): none is `u32::MAX`, which no party or bearing reaches.
#[derive(Clone, Copy, Debug)]
struct OptId(u32);

impl OptId {
    fn new(id: Option<u32>) -> OptId {
        OptId(id.unwrap_or(u32::MAX))
    }

    fn get(self) -> Option<u32> {
        (self.0 != u32::MAX).then_some(self.0)
    }
}

#[derive(Clone, Debug)]
struct Level {
    /// The largest uncertainty of a node in this level so far (≤ its band's bound).
    max_u_m: f64,
    /// The smallest (∞ while the level is empty).
    min_u_m: f64,
    /// The band's bound.
    bound_u_m: f64,
    /// The largest extent of a node in the grid so far.
    max_extent_m: f64,
    grid: Grid,
}

impl Level {
    fn new(bound_u_m: f64, grid: Grid) -> Level {
        Level {
            max_u_m: 0.0,
            min_u_m: f64::INFINITY,
            bound_u_m,
            max_extent_m: 0.0,
            grid,
        }
    }

    /// Indexes node `id` (which lies in this level's band) and widens the level's bounds.
    fn insert(&mut self, id: u32, node: &Node) {
        self.max_u_m = self.max_u_m.max(node.u_m);
        self.min_u_m = self.min_u_m.min(node.u_m);
        self.max_extent_m = self.max_extent_m.max(node.extent_m);
        self.grid.insert(id, node.pos, node.t0, node.t1);
    }

    /// A level of the same band and grid geometry, empty.
    fn empty_like(&self) -> Level {
        Level::new(self.bound_u_m, self.grid.empty_like())
    }
}

/// The position of the first band of `levels` that `u_m` fits in (the last if none).
fn band_of(levels: &[Level], u_m: f64) -> usize {
    levels
        .iter()
        .position(|l| u_m <= l.bound_u_m)
        .unwrap_or(levels.len().saturating_sub(1))
}

/// Union–find with path halving and union by size.
#[derive(Clone, Debug, Default)]
struct DisjointSets {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl DisjointSets {
    fn push(&mut self) -> u32 {
        let id = self.parent.len() as u32;
        self.parent.push(id);
        self.size.push(1);
        id
    }

    fn find(&mut self, mut i: u32) -> u32 {
        while self.parent[i as usize] != i {
            let grand = self.parent[self.parent[i as usize] as usize];
            self.parent[i as usize] = grand;
            i = grand;
        }
        i
    }

    /// Points every element straight at its root, so that [`DisjointSets::root`] takes one
    /// step (for the readers of sets that no longer change).
    fn flatten(&mut self) {
        for i in 0..self.parent.len() as u32 {
            let root = self.find(i);
            self.parent[i as usize] = root;
        }
    }

    /// The root of `i`, without shortening paths (for readers that share the sets).
    fn root(&self, mut i: u32) -> u32 {
        while self.parent[i as usize] != i {
            i = self.parent[i as usize];
        }
        i
    }

    fn union(&mut self, a: u32, b: u32) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a as usize] < self.size[b as usize] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b as usize] = a;
        self.size[a as usize] += self.size[b as usize];
    }
}

/// The incremental fusion engine (see the module documentation).
///
/// ```
/// # use truce_core::fusion::{Fuser, FusionConfig, SourceRegistry};
/// let mut fuser = Fuser::new(SourceRegistry::default(), FusionConfig::default());
/// // for (i, o) in observations.iter().enumerate() { fuser.add(i, o); }
/// let fusion = fuser.snapshot();
/// assert!(fusion.incidents.is_empty());
/// ```
#[derive(Debug)]
pub struct Fuser<'a> {
    sources: SourceRegistry,
    config: FusionConfig<'a>,
    nodes: Vec<Node>,
    facts: Vec<Facts>,
    source_names: Vec<SmolStr>,
    source_ids: FxHashMap<String, u32>,
    source_info: Vec<SourceInfo>,
    party_names: Vec<String>,
    party_ids: FxHashMap<String, u32>,
    sets: DisjointSets,
    levels: Vec<Level>,
    coarse: Vec<u32>,
    /// Coarse nodes, by uncertainty band (the last unbounded).
    coarse_levels: Vec<Level>,
    bearings: Vec<u32>,
    /// Each bearing's position in `bearings`, by node id.
    bearing_position: FxHashMap<u32, usize>,
    bearing_grid: Grid,
    bearing_max_range_m: f64,
    /// Located reports of kinds other than `thermal_anomaly` (field-fire isolation).
    activity_grid: Grid,
    /// The same, coarsely: is the area watched by anything but satellites at all?
    coverage_grid: Grid,
    /// Located reports of sources not of the `party` discipline (contradicted claims).
    observer_grid: Grid,
    scratch: Vec<u32>,
    arena: Arena,
}

impl<'a> Fuser<'a> {
    pub fn new(sources: SourceRegistry, config: FusionConfig<'a>) -> Fuser<'a> {
        let levels = match &config.link {
            LinkRule::Fixed(p) => vec![Level::new(
                f64::INFINITY,
                Grid::new(p.link_distance_m, (p.link_time_s.max(1)) as f64),
            )],
            LinkRule::Evidence(rule) => {
                let mut bounds: Vec<f64> = rule
                    .level_bounds_m
                    .iter()
                    .copied()
                    .filter(|b| *b < rule.anchor_max_uncertainty_m)
                    .collect();
                bounds.push(rule.anchor_max_uncertainty_m);
                bounds
                    .into_iter()
                    .map(|b| {
                        // Cells twice the typical radius: most queries visit 2 × 2 cells.
                        Level::new(b, Grid::new(2.0 * rule.radius_m(b, b, 500.0), BUCKET_S))
                    })
                    .collect()
            }
        };
        let (cap_m, range_m) = match &config.link {
            LinkRule::Fixed(p) => (p.link_distance_m, 0.0),
            LinkRule::Evidence(rule) => (rule.max_link_distance_m, rule.bearing_default_range_m),
        };
        Fuser {
            coarse_levels: match &config.link {
                LinkRule::Fixed(_) => Vec::new(),
                LinkRule::Evidence(rule) => [600.0, rule.anchor_max_uncertainty_m, f64::INFINITY]
                    .into_iter()
                    .map(|b| {
                        Level::new(
                            b,
                            Grid::new(
                                (2.0 * rule.radius_m(b.min(cap_m), b.min(cap_m), 500.0)).min(cap_m),
                                BUCKET_S,
                            ),
                        )
                    })
                    .collect(),
            },
            bearing_grid: Grid::new(2.0 * range_m.max(1000.0), BUCKET_S),
            // The isolation and observer grids' buckets are twice their queries' reach in
            // time: most queries visit 2 of them. The isolation test's cells are as wide as
            // its reach (about 3 × 3 cells a query, half the area of 2 × 2 cells twice as
            // wide): a heat spot with nothing near reads every report in its cells (measured
            // at 10⁷: building the incidents 3.9 s against 4.7–5.2 s with cells twice as
            // wide). Coverage's cells are its reach too (its queries stop at the first
            // report); the observers' are twice theirs.
            activity_grid: Grid::new(config.isolation_m, 2.0 * config.isolation_s),
            coverage_grid: Grid::new(config.coverage_m, config.coverage_s),
            observer_grid: Grid::new(2.0 * config.contradiction_m, 2.0 * config.contradiction_s),
            sources,
            config,
            nodes: Vec::new(),
            facts: Vec::new(),
            source_names: Vec::new(),
            source_ids: FxHashMap::default(),
            source_info: Vec::new(),
            party_names: Vec::new(),
            party_ids: FxHashMap::default(),
            sets: DisjointSets::default(),
            levels,
            coarse: Vec::new(),
            bearings: Vec::new(),
            bearing_position: FxHashMap::default(),
            bearing_max_range_m: 0.0,
            scratch: Vec::new(),
            arena: Arena::default(),
        }
    }

    /// Room for `additional` more observations.
    pub fn reserve(&mut self, additional: usize) {
        self.nodes.reserve(additional);
        self.facts.reserve(additional);
        self.sets.parent.reserve(additional);
        self.sets.size.reserve(additional);
    }

    /// How many observations were added.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Adds the observation that the caller knows as `index` (the index it will find in
    /// [`FusedIncident::members`]). Each index should be added once. Anchors join or merge
    /// incidents at once; coarse reports and bearings are placed at the next snapshot.
    pub fn add(&mut self, index: usize, observation: &Observation) {
        let source = self.intern_source(&observation.key.source);
        let party = observation.party.as_deref().map(|p| self.intern_party(p));
        let info = self.source_info[source as usize];
        let (source_ref, bearing) = self.arena.keep(observation);
        let kept = Kept {
            source,
            party,
            source_ref,
            bearing,
        };
        let (node, facts) = prepare(&self.config, info, (index, observation), kept);
        let id = self.sets.push();
        debug_assert_eq!(id as usize, self.nodes.len());
        self.nodes.push(node);
        self.facts.push(facts);
        self.link(id);
    }

    /// Adds every observation of `observations`, known by its position in the slice, as
    /// [`Fuser::add`] would one by one in time order: each is prepared on its own (in
    /// parallel, in slice order), then they are linked in time order (which only helps
    /// locality: the result does not depend on it).
    pub fn add_all(&mut self, observations: &[Observation]) {
        const CHUNK: usize = 1 << 14;
        // Chunk by chunk (in parallel): sources and parties numbered within the chunk,
        // `source_ref`s and bearings kept in the chunk's arena.
        let mut named: Vec<NamedChunk<'_>> = observations
            .par_chunks(CHUNK)
            .map(|chunk| {
                let (mut sources, mut parties) = (Interner::default(), Interner::default());
                let mut arena = Arena::default();
                let kept = chunk
                    .iter()
                    .map(|o| {
                        let party = o.party.as_deref().map(|p| parties.id(p));
                        let (source_ref, bearing) = arena.keep(o);
                        Kept {
                            source: sources.id(&o.key.source),
                            party,
                            source_ref,
                            bearing,
                        }
                    })
                    .collect();
                NamedChunk {
                    sources,
                    parties,
                    arena,
                    kept,
                }
            })
            .collect();
        // Interned and the arenas appended in chunk order, then each chunk's numbers made
        // the engine's (in parallel, in place).
        let mut renumbering = Vec::with_capacity(named.len());
        for chunk in &named {
            let sources: Vec<u32> = chunk
                .sources
                .names
                .iter()
                .map(|s| self.intern_source(s))
                .collect();
            let parties: Vec<u32> = chunk
                .parties
                .names
                .iter()
                .map(|p| self.intern_party(p))
                .collect();
            let offsets = (
                self.arena.refs.len() as u32,
                self.arena.bearings.len() as u32,
            );
            self.arena.refs.push_str(&chunk.arena.refs);
            self.arena.bearings.extend_from_slice(&chunk.arena.bearings);
            renumbering.push((sources, parties, offsets));
        }
        named.par_iter_mut().zip(&renumbering).for_each(
            |(chunk, (sources, parties, (refs, bearings)))| {
                for k in &mut chunk.kept {
                    k.source = sources[k.source as usize];
                    k.party = k.party.map(|p| parties[p as usize]);
                    k.source_ref.0 += refs;
                    k.bearing = k.bearing.map(|b| b + bearings);
                }
            },
        );
        drop(renumbering);
        // Prepared and stored in time order (neighbours in time are neighbours in memory),
        // each observation on its own, straight into place.
        let mut order: Vec<(i64, u32, u32)> = observations
            .par_iter()
            .enumerate()
            .map(|(i, o)| {
                let at = o.observed_at;
                (at.timestamp(), at.timestamp_subsec_nanos(), i as u32)
            })
            .collect();
        order.par_sort_unstable();
        let first = self.nodes.len();
        let (config, info) = (&self.config, &self.source_info);
        let kept_of = |i: usize| &named[i / CHUNK].kept[i % CHUNK];
        let prepared = order.par_iter().enumerate().map(|(k, &(_, _, i))| {
            if let Some(&(_, _, ahead)) = order.get(k + PREFETCH_AHEAD) {
                prefetch(&observations[ahead as usize]);
                prefetch(kept_of(ahead as usize));
            }
            let i = i as usize;
            let kept = *kept_of(i);
            prepare(
                config,
                info[kept.source as usize],
                (i, &observations[i]),
                kept,
            )
        });
        if first == 0 {
            // Into the room `reserve` made.
            prepared.unzip_into_vecs(&mut self.nodes, &mut self.facts);
        } else {
            let (mut nodes, mut facts) = (Vec::new(), Vec::new());
            prepared.unzip_into_vecs(&mut nodes, &mut facts);
            self.nodes.append(&mut nodes);
            self.facts.append(&mut facts);
        }
        drop((named, order));
        let last = self.nodes.len();
        for _ in first..last {
            self.sets.push();
        }
        self.set_levels(first..last);
        // Anchor linking never reads the other indexes, and those are three parts that share
        // nothing: the four are filled at once, each in id order, as `link` would one node
        // at a time; in two pairs of about equal work (coarse reports and bearings with
        // activity, observers with anchors), so that neither core waits long for the other.
        let (mut anchors, others) = self.parts();
        let OtherIndexes {
            mut roles,
            mut activity,
            mut observers,
        } = others;
        let ids = first as u32..last as u32;
        rayon::join(
            || {
                rayon::join(
                    || ids.clone().for_each(|id| roles.index(id)),
                    || ids.clone().for_each(|id| activity.index(id)),
                )
            },
            || {
                rayon::join(
                    || ids.clone().for_each(|id| observers.index(id)),
                    || ids.clone().for_each(|id| anchors.link(id)),
                )
            },
        );
    }

    /// Links the node `id` (already stored) with what was added before and indexes it.
    fn link(&mut self, id: u32) {
        self.set_levels(id as usize..id as usize + 1);
        let (mut anchors, mut others) = self.parts();
        anchors.link(id);
        others.index(id);
    }

    /// Sets the level of each anchor among the nodes `ids`.
    fn set_levels(&mut self, ids: std::ops::Range<usize>) {
        let levels = &self.levels;
        self.nodes[ids]
            .iter_mut()
            .filter(|node| node.role == Role::Anchor)
            .for_each(|node| node.level = band_of(levels, node.u_m) as u8);
    }

    /// The state anchor linking touches, and the indexes it never reads.
    fn parts(&mut self) -> (AnchorLinks<'_, 'a>, OtherIndexes<'_, 'a>) {
        let Fuser {
            config,
            nodes,
            facts,
            source_info,
            sets,
            levels,
            coarse,
            coarse_levels,
            bearings,
            bearing_position,
            bearing_grid,
            bearing_max_range_m,
            activity_grid,
            coverage_grid,
            observer_grid,
            scratch,
            arena,
            ..
        } = self;
        (
            AnchorLinks {
                config,
                nodes,
                sets,
                levels,
                scratch,
            },
            OtherIndexes {
                roles: RoleIndexes {
                    config,
                    nodes,
                    facts,
                    arena,
                    coarse,
                    coarse_levels,
                    bearings,
                    bearing_position,
                    bearing_grid,
                    bearing_max_range_m,
                },
                activity: ActivityIndexes {
                    nodes,
                    activity_grid,
                    coverage_grid,
                },
                observers: ObserverIndex {
                    nodes,
                    source_info,
                    observer_grid,
                },
            },
        )
    }

    fn bearing_of(&self, id: u32) -> Option<Bearing> {
        self.facts[id as usize]
            .bearing
            .get()
            .and_then(|b| self.arena.bearings.get(b as usize).copied())
    }

    fn source_ref(&self, id: u32) -> &str {
        let (start, len) = self.facts[id as usize].source_ref;
        self.arena
            .refs
            .get(start as usize..(start + len) as usize)
            .unwrap_or_default()
    }

    fn intern_source(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.source_ids.get(name) {
            return id;
        }
        let id = self.source_names.len() as u32;
        self.source_names.push(SmolStr::new(name));
        self.source_info.push(self.sources.lookup(name));
        self.source_ids.insert(name.to_owned(), id);
        id
    }

    fn intern_party(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.party_ids.get(name) {
            return id;
        }
        let id = self.party_names.len() as u32;
        self.party_names.push(name.to_owned());
        self.party_ids.insert(name.to_owned(), id);
        id
    }

    /// The largest radius at which `node` can link with a node of uncertainty ≤
    /// `other_max_m` and extent ≤ `other_extent_m`.
    fn search_radius_m(&self, node: &Node, other_max_m: f64, other_extent_m: f64) -> f64 {
        search_radius_m(&self.config, node, other_max_m, other_extent_m)
    }

    /// Candidates of `node` in `grid` whose windows overlap `[t0, t1]`, each once.
    fn candidates(grid: &Grid, node: &Node, radius_m: f64, t0: f64, t1: f64, out: &mut Vec<u32>) {
        out.clear();
        grid.query(node.pos, radius_m, t0, t1, |m| out.push(m));
    }

    /// The distance when two located nodes link, in metres.
    #[inline]
    fn linked(&self, a: &Node, b: &Node) -> Option<f64> {
        linked(&self.config, a, b)
    }

    #[inline]
    fn compatible(&self, a: &Node, b: &Node) -> bool {
        compatible(&self.config, a, b)
    }

    /// The fusion of everything added so far. The engine keeps its state: more
    /// observations may be added and another snapshot taken.
    pub fn snapshot(&self) -> Fusion {
        Snapshot::new(self, None, self.sets.clone()).run()
    }

    /// The fusion of everything added. (As [`Fuser::snapshot`], but the snapshot takes over
    /// the engine's sets instead of copying them, and its indexes, which it frees before
    /// building the incidents.)
    pub fn finish(mut self) -> Fusion {
        let take = |grid: &mut Grid| std::mem::replace(grid, grid.empty_like());
        let own = Indexes {
            bearing_grid: take(&mut self.bearing_grid),
            activity_grid: take(&mut self.activity_grid),
            coverage_grid: take(&mut self.coverage_grid),
            observer_grid: take(&mut self.observer_grid),
            levels: std::mem::take(&mut self.levels),
            coarse_levels: std::mem::take(&mut self.coarse_levels),
            coarse: std::mem::take(&mut self.coarse),
        };
        let sets = std::mem::take(&mut self.sets);
        Snapshot::new(&self, Some(own), sets).run()
    }
}

/// The engine's indexes that the snapshot of [`Fuser::finish`] takes over: those only
/// linking reads, and those the dismissal context reads too.
struct Indexes {
    levels: Vec<Level>,
    coarse_levels: Vec<Level>,
    coarse: Vec<u32>,
    bearing_grid: Grid,
    activity_grid: Grid,
    coverage_grid: Grid,
    observer_grid: Grid,
}

/// What the engine keeps beside the nodes: every `source_ref` concatenated (one allocation
/// for all of them), and the bearings.
#[derive(Clone, Debug, Default)]
struct Arena {
    refs: String,
    bearings: Vec<Bearing>,
}

impl Arena {
    /// Keeps `observation`'s `source_ref` and its bearing, if usable; returns where (see
    /// [`Kept`]).
    fn keep(&mut self, observation: &Observation) -> ((u32, u32), Option<u32>) {
        let start = self.refs.len();
        self.refs.push_str(&observation.key.source_ref);
        let source_ref = (start as u32, (self.refs.len() - start) as u32);
        let bearing = usable_bearing(observation).map(|b| {
            self.bearings.push(b);
            (self.bearings.len() - 1) as u32
        });
        (source_ref, bearing)
    }
}

/// An observation's bearing, unless it cannot be used (observer off the globe, azimuth or
/// sigma not a number, negative sigma).
fn usable_bearing(observation: &Observation) -> Option<Bearing> {
    observation.bearing.filter(|b| {
        b.observer.is_valid()
            && b.azimuth_deg.is_finite()
            && b.sigma_deg.is_finite()
            && b.sigma_deg >= 0.0
    })
}

/// A chunk of observations' sources and parties, numbered within the chunk, and their
/// `source_ref`s and bearings, kept in the chunk's own arena.
struct NamedChunk<'o> {
    sources: Interner<'o>,
    parties: Interner<'o>,
    arena: Arena,
    kept: Vec<Kept>,
}

/// An observation's interned source and party, and where its `source_ref` and bearing are
/// kept in an [`Arena`].
#[derive(Clone, Copy)]
struct Kept {
    source: u32,
    party: Option<u32>,
    /// Start and length in `Arena::refs`.
    source_ref: (u32, u32),
    /// Index into `Arena::bearings`.
    bearing: Option<u32>,
}

/// Names numbered in order of first appearance.
#[derive(Default)]
struct Interner<'o> {
    names: Vec<&'o str>,
    ids: FxHashMap<&'o str, u32>,
}

impl<'o> Interner<'o> {
    fn id(&mut self, name: &'o str) -> u32 {
        let next = self.names.len() as u32;
        *self.ids.entry(name).or_insert_with(|| {
            self.names.push(name);
            next
        })
    }
}

/// The largest radius at which `node` can link with a node of uncertainty ≤
/// `other_max_m` and extent ≤ `other_extent_m`.
fn search_radius_m(
    config: &FusionConfig,
    node: &Node,
    other_max_m: f64,
    other_extent_m: f64,
) -> f64 {
    match &config.link {
        LinkRule::Fixed(p) => p.link_distance_m,
        LinkRule::Evidence(rule) => {
            rule.radius_m(node.u_m, other_max_m, node.extent_m.max(other_extent_m))
        }
    }
}

/// The distance when two located nodes link, in metres.
#[inline]
fn linked(config: &FusionConfig, a: &Node, b: &Node) -> Option<f64> {
    match &config.link {
        LinkRule::Fixed(p) => {
            if (a.t0 - b.t0).abs() > p.link_time_s as f64 {
                return None;
            }
            within_m(&a.v, &b.v, p.link_distance_m)
        }
        LinkRule::Evidence(rule) => {
            if a.t0 > b.t1 || b.t0 > a.t1 || !compatible(config, a, b) {
                return None;
            }
            within_m(
                &a.v,
                &b.v,
                rule.radius_m(a.u_m, b.u_m, a.extent_m.max(b.extent_m)),
            )
        }
    }
}

#[inline]
fn compatible(config: &FusionConfig, a: &Node, b: &Node) -> bool {
    match config.compatibility {
        Compatibility::All => true,
        Compatibility::Table if a.other_kinds.is_empty() && b.other_kinds.is_empty() => {
            kinds_compatible(a.kind, a.equipment_class, b.kind, b.equipment_class)
        }
        // A fix of several kinds is compatible with what any of them is.
        Compatibility::Table => kinds_of(a).any(|ka| {
            kinds_of(b).any(|kb| kinds_compatible(ka, a.equipment_class, kb, b.equipment_class))
        }),
    }
}

/// What linking an anchor touches: the anchor levels and the sets.
struct AnchorLinks<'f, 'a> {
    config: &'f FusionConfig<'a>,
    nodes: &'f [Node],
    sets: &'f mut DisjointSets,
    levels: &'f mut [Level],
    scratch: &'f mut Vec<u32>,
}

impl AnchorLinks<'_, '_> {
    /// Links node `id`, if an anchor (its level set), with the anchors before it and
    /// indexes it in its level.
    fn link(&mut self, id: u32) {
        let node = &self.nodes[id as usize];
        if node.role != Role::Anchor {
            return;
        }
        let hits = &mut *self.scratch;
        for l in self.levels.iter() {
            let radius = search_radius_m(self.config, node, l.max_u_m, l.max_extent_m);
            Fuser::candidates(&l.grid, node, radius, node.t0, node.t1, hits);
            for &m in hits.iter() {
                if linked(self.config, node, &self.nodes[m as usize]).is_some() {
                    self.sets.union(id, m);
                }
            }
        }
        self.levels[node.level as usize].insert(id, node);
    }
}

/// The indexes of coarse reports, bearings and located reports, which anchor linking never
/// reads: three parts that touch nothing in common, so that they can be filled at once.
struct OtherIndexes<'f, 'a> {
    roles: RoleIndexes<'f, 'a>,
    activity: ActivityIndexes<'f>,
    observers: ObserverIndex<'f>,
}

/// Coarse reports and bearings, by role.
struct RoleIndexes<'f, 'a> {
    config: &'f FusionConfig<'a>,
    nodes: &'f [Node],
    facts: &'f [Facts],
    arena: &'f Arena,
    coarse: &'f mut Vec<u32>,
    coarse_levels: &'f mut [Level],
    bearings: &'f mut Vec<u32>,
    bearing_position: &'f mut FxHashMap<u32, usize>,
    bearing_grid: &'f mut Grid,
    bearing_max_range_m: &'f mut f64,
}

/// Located reports of kinds other than `thermal_anomaly`.
struct ActivityIndexes<'f> {
    nodes: &'f [Node],
    activity_grid: &'f mut Grid,
    coverage_grid: &'f mut Grid,
}

/// Located reports of sources not of the `party` discipline.
struct ObserverIndex<'f> {
    nodes: &'f [Node],
    source_info: &'f [SourceInfo],
    observer_grid: &'f mut Grid,
}

impl OtherIndexes<'_, '_> {
    /// Indexes node `id`: a coarse report or bearing by its role, a located node by its
    /// kind and source.
    fn index(&mut self, id: u32) {
        self.roles.index(id);
        self.activity.index(id);
        self.observers.index(id);
    }
}

impl RoleIndexes<'_, '_> {
    fn index(&mut self, id: u32) {
        let node = &self.nodes[id as usize];
        match node.role {
            Role::Coarse => {
                self.coarse.push(id);
                let k = band_of(self.coarse_levels, node.u_m);
                if let Some(level) = self.coarse_levels.get_mut(k) {
                    level.insert(id, node);
                }
            }
            Role::Bearing => {
                let bearing = self.facts[id as usize]
                    .bearing
                    .get()
                    .and_then(|b| self.arena.bearings.get(b as usize));
                if let (LinkRule::Evidence(rule), Some(b)) = (&self.config.link, bearing) {
                    *self.bearing_max_range_m =
                        self.bearing_max_range_m.max(bearing_range_m(b, rule));
                }
                self.bearing_position.insert(id, self.bearings.len());
                self.bearings.push(id);
                self.bearing_grid.insert(id, node.pos, node.t0, node.t1);
            }
            Role::Anchor | Role::Alone | Role::Fix => {}
        }
    }
}

impl ActivityIndexes<'_> {
    fn index(&mut self, id: u32) {
        let node = &self.nodes[id as usize];
        // Located nodes, and only they, have an uncertainty (at least 1 m).
        if node.u_m > 0.0 && node.kind != Kind::ThermalAnomaly {
            self.activity_grid.insert(id, node.pos, node.t0, node.t1);
            self.coverage_grid.insert(id, node.pos, node.t0, node.t1);
        }
    }
}

impl ObserverIndex<'_> {
    fn index(&mut self, id: u32) {
        let node = &self.nodes[id as usize];
        if node.u_m > 0.0 && self.source_info[node.source as usize].discipline != Discipline::Party
        {
            self.observer_grid.insert(id, node.pos, node.t0, node.t1);
        }
    }
}

/// How many observations ahead of the one being prepared the gather in time order asks
/// the processor to fetch.
const PREFETCH_AHEAD: usize = 12;

/// Asks the processor to fetch `value`'s cache lines (a hint: nothing is read).
#[inline]
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let start = (value as *const T).cast::<i8>();
        for offset in (0..std::mem::size_of::<T>()).step_by(64) {
            // SAFETY: a prefetch reads nothing and cannot fault, whatever the address; this
            // one is inside `value`.
            #[allow(unsafe_code)]
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset));
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// The node and facts of an observation (`info` its source's grade, `kept` where its
/// `source_ref` and bearing are kept): what the engine keeps of it, before it is linked
/// with anything.
fn prepare(
    config: &FusionConfig<'_>,
    info: SourceInfo,
    (index, observation): (usize, &Observation),
    kept: Kept,
) -> (Node, Facts) {
    let at_s = seconds(observation.observed_at);
    let last_at = observation
        .observed_until
        .filter(|u| *u >= observation.observed_at)
        .unwrap_or(observation.observed_at);
    let until_s = seconds(last_at);
    let bearing = usable_bearing(observation);
    let located = observation
        .location
        .filter(|l| l.position.is_valid() && !l.uncertainty_m.is_nan());
    let in_link_zone = match (&config.link_zone, config.assess, located) {
        (Some(zone), Some(assess), Some(l)) => assess(l.position).0 == *zone,
        _ => true,
    };
    let kind = observation.kind;
    let mut node = Node {
        index,
        v: [0.0; 3],
        pos: LonLat::new(0.0, 0.0),
        t0: at_s,
        t1: until_s,
        at_s,
        u_m: 0.0,
        extent_m: 0.0,
        kind,
        other_kinds: KindSet::EMPTY,
        equipment_class: observation.equipment.map(|e| e.class),
        role: Role::Alone,
        level: 0,
        source: kept.source,
    };
    match &config.link {
        LinkRule::Fixed(p) => {
            let t = observation.observed_at.timestamp() as f64;
            node.t0 = t;
            node.t1 = t + p.link_time_s.max(0) as f64;
            if located.is_some() && in_link_zone && p.link_time_s >= 0 {
                node.role = Role::Anchor;
            }
        }
        LinkRule::Evidence(rule) => {
            let w = rule.windows[kind as usize];
            let (db, da) = rule.discipline_slack_s[info.discipline as usize];
            node.t0 = at_s - w.before_s - db;
            node.t1 = (until_s + w.after_s + da).min(node.t0 + MAX_WINDOW_S);
            node.extent_m = w.extent_m;
            if let Some(l) = located {
                if in_link_zone {
                    let u = l.uncertainty_m.clamp(1.0, 1e7);
                    node.u_m = u;
                    node.role = if u <= rule.anchor_max_uncertainty_m
                        && node.t1 - node.t0 <= rule.anchor_max_window_s
                    {
                        Role::Anchor
                    } else {
                        Role::Coarse
                    };
                }
            } else if let Some(b) = bearing {
                let range = bearing_range_m(&b, rule);
                node.role = Role::Bearing;
                node.t0 -= range / rule.sound_speed_m_s;
                node.pos = b.observer;
                node.v = UnitVector::from_lon_lat(b.observer).0;
            }
        }
    }
    if let Some(l) = located {
        node.pos = l.position;
        node.v = UnitVector::from_lon_lat(l.position).0;
        if node.u_m == 0.0 {
            node.u_m = l.uncertainty_m.clamp(1.0, 1e7);
        }
    }

    let facts = Facts {
        source_ref: kept.source_ref,
        observed_at: observation.observed_at,
        last_at,
        credibility: observation.credibility,
        party: OptId::new(kept.party),
        bearing: OptId::new(kept.bearing),
        equipment_count: observation.equipment.map_or(0, |e| e.count),
    };
    (node, facts)
}

/// Nodes of `grids` (each with the largest uncertainty of its nodes) that the sector of
/// `line` out to `range_m` may hold, with windows overlapping `[t0, t1]`; sorted, distinct.
/// The sector is covered by discs along the line; their cells are visited once each.
fn sector_query(
    grids: &[(&Grid, f64)],
    line: &BearingLine,
    range_m: f64,
    t0: f64,
    t1: f64,
    rule: &EvidenceRule,
) -> Vec<u32> {
    let half_deg = (rule.bearing_sigmas * line.sigma_deg).clamp(0.1, 60.0);
    let tan = half_deg.to_radians().tan();
    let mut out = Vec::new();
    let mut cells = Vec::new();
    for &(grid, max_u) in grids.iter().filter(|(g, _)| !g.is_empty()) {
        let max_u = max_u.min(range_m);
        let step = grid.cell_m().max(500.0);
        cells.clear();
        let mut s = 0.0;
        loop {
            let p = along(line, s);
            let radius = 0.75 * step + (s + step) * tan + max_u;
            grid.cells_within(p, radius, &mut cells);
            if s >= range_m + max_u {
                break;
            }
            s += step;
        }
        cells.sort_unstable();
        cells.dedup();
        grid.scan(&cells, t0, t1, |m| out.push(m));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether two bearings (with their nodes) were taken side by side, looking the same way:
/// observers within `SAME_OBSERVER_M`, azimuths within `bearing_sigmas · √(σ₁² + σ₂²)`.
fn side_by_side(
    (node_a, ba): (&Node, &Bearing),
    (node_b, bb): (&Node, &Bearing),
    rule: &EvidenceRule,
) -> bool {
    let spread = rule.bearing_sigmas * ba.sigma_deg.hypot(bb.sigma_deg).max(0.1);
    angle_diff_deg(ba.azimuth_deg, bb.azimuth_deg).abs() <= spread
        && within_m(&node_a.v, &node_b.v, SAME_OBSERVER_M).is_some()
}

/// The range of a bearing for linking, metres.
fn bearing_range_m(b: &Bearing, rule: &EvidenceRule) -> f64 {
    b.max_range_m
        .filter(|r| r.is_finite() && *r > 0.0)
        .unwrap_or(rule.bearing_default_range_m)
        .min(10.0 * rule.bearing_default_range_m)
}

fn line_of(b: &Bearing) -> BearingLine {
    BearingLine {
        observer: b.observer,
        azimuth_deg: b.azimuth_deg,
        sigma_deg: b.sigma_deg.max(0.05),
        max_range_m: b.max_range_m,
    }
}

/// Seconds since the epoch, with the fraction.
fn seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) * 1e-9
}

/// The great-circle distance when it is at most `limit_m`: a chord test first (the chord
/// never exceeds the arc), then the exact arc of `replay.md`.
#[inline]
fn within_m(a: &[f64; 3], b: &[f64; 3], limit_m: f64) -> Option<f64> {
    let (dx, dy, dz) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    let chord2 = dx * dx + dy * dy + dz * dz;
    let lim = limit_m / EARTH_RADIUS_M;
    if chord2 > lim * lim * (1.0 + 1e-9) + 1e-24 {
        return None;
    }
    let d = EARTH_RADIUS_M * central_angle_rad(UnitVector(*a), UnitVector(*b));
    (d <= limit_m).then_some(d)
}

/// One snapshot in the making: the engine's state plus the placements decided now.
struct Snapshot<'f, 'a> {
    fuser: &'f Fuser<'a>,
    /// The engine's indexes, borrowed for a snapshot; handed over by [`Fuser::finish`], and
    /// then dropped before the incidents are built, which reuse the memory: what only
    /// linking reads (the anchor and coarse levels, the coarse ids) once linking is done
    /// (see [`Snapshot::run`]), the grids of the dismissal context once it is known (see
    /// [`Snapshot::assemble`]).
    levels: Cow<'f, [Level]>,
    coarse_levels: Cow<'f, [Level]>,
    coarse: Cow<'f, [u32]>,
    bearing_grid: Cow<'f, Grid>,
    activity_grid: Cow<'f, Grid>,
    coverage_grid: Cow<'f, Grid>,
    observer_grid: Cow<'f, Grid>,
    sets: DisjointSets,
    /// Real nodes, then fixes.
    fixes: Vec<Node>,
    fix_ellipses: Vec<ErrorEllipse>,
    /// Range from observer to the point a bearing was placed at (by position in `bearings`).
    bearing_range: Vec<Option<f64>>,
    /// Fixes indexed for the field-fire isolation test.
    isolation_fixes: Grid,
    /// Bearings placed in a located report's incident, and bearings in a fix (by position in
    /// `fuser.bearings`).
    placed: Vec<bool>,
    in_fix: Vec<bool>,
    /// Bearings that joined a coarse report in step 3 (by position in `fuser.bearings`).
    via_coarse: Vec<bool>,
    /// Bearings that left their incident: node id → their group among themselves.
    stray: FxHashMap<u32, u32>,
    /// Bearings that left their incident for another: node id → a node of that one.
    moved: FxHashMap<u32, u32>,
    /// Precise fixes, and imprecise ones left free.
    fix_grid: Grid,
    loose_fixes: Grid,
}

impl<'f, 'a> Snapshot<'f, 'a> {
    /// A snapshot of `fuser` with its indexes (`None`: borrowed) and its sets.
    fn new(fuser: &'f Fuser<'a>, own: Option<Indexes>, sets: DisjointSets) -> Self {
        let (levels, coarse_levels, coarse, grids) = match own {
            Some(own) => (
                Cow::Owned(own.levels),
                Cow::Owned(own.coarse_levels),
                Cow::Owned(own.coarse),
                [
                    own.bearing_grid,
                    own.activity_grid,
                    own.coverage_grid,
                    own.observer_grid,
                ]
                .map(Cow::Owned),
            ),
            None => (
                Cow::Borrowed(&fuser.levels[..]),
                Cow::Borrowed(&fuser.coarse_levels[..]),
                Cow::Borrowed(&fuser.coarse[..]),
                [
                    &fuser.bearing_grid,
                    &fuser.activity_grid,
                    &fuser.coverage_grid,
                    &fuser.observer_grid,
                ]
                .map(Cow::Borrowed),
            ),
        };
        let [bearing_grid, activity_grid, coverage_grid, observer_grid] = grids;
        Snapshot {
            fuser,
            levels,
            coarse_levels,
            coarse,
            bearing_grid,
            activity_grid,
            coverage_grid,
            observer_grid,
            sets,
            fixes: Vec::new(),
            fix_ellipses: Vec::new(),
            bearing_range: vec![None; fuser.bearings.len()],
            isolation_fixes: Grid::new(1.0, 1.0),
            placed: Vec::new(),
            in_fix: Vec::new(),
            via_coarse: Vec::new(),
            stray: FxHashMap::default(),
            moved: FxHashMap::default(),
            fix_grid: Grid::new(1.0, 1.0),
            loose_fixes: Grid::new(1.0, 1.0),
        }
    }

    fn node(&self, id: u32) -> &Node {
        let n = self.fuser.nodes.len();
        if (id as usize) < n {
            &self.fuser.nodes[id as usize]
        } else {
            &self.fixes[id as usize - n]
        }
    }

    fn run(mut self) -> Fusion {
        if let LinkRule::Evidence(rule) = &self.fuser.config.link {
            let rule = rule.clone();
            self.place_bearings(&rule);
            self.place_fixes_and_coarse(&rule);
            self.finish_bearings(&rule);
            self.drop_stray_bearings(&rule);
        }
        // Linking is done: what only it reads goes (when the snapshot owns it), and building
        // the incidents reuses that memory (fresh pages are what the largest runs wait on).
        self.levels = Cow::Borrowed(&[]);
        self.coarse_levels = Cow::Borrowed(&[]);
        self.coarse = Cow::Borrowed(&[]);
        self.assemble()
    }

    /// The best anchor for node `id` (coarse or fix) by [`Snapshot::link_score`], with its
    /// key (the anchor last).
    fn best_anchor(&self, id: u32, hits: &mut Vec<u32>) -> Option<ScoreKey> {
        let fuser = self.fuser;
        let node = self.node(id);
        let mut best: Option<ScoreKey> = None;
        for level in self.levels.iter() {
            let radius = fuser.search_radius_m(node, level.max_u_m, level.max_extent_m);
            Fuser::candidates(&level.grid, node, radius, node.t0, node.t1, hits);
            for &m in hits.iter() {
                let other = &fuser.nodes[m as usize];
                if let Some(score) = self.link_score(id, m) {
                    let key = (score, other.at_s, other.index, m);
                    if best.is_none_or(|b| key_lt(key, b)) {
                        best = Some(key);
                    }
                }
            }
        }
        best
    }

    /// Whether nodes `a` and `b` (ids, fixes included) link, and then how well (smaller is
    /// better): their distance in units of the combined uncertainty in the direction from one
    /// to the other, plus the weighted time offset. A fix's uncertainty is its error ellipse,
    /// not the circle of its semi-major axis: two bearings pin the across-line position of an
    /// event far better than its range, so a fix links only with what lies along its ellipse.
    fn link_score(&self, a: u32, b: u32) -> Option<f64> {
        let fuser = self.fuser;
        let (na, nb) = (self.node(a), self.node(b));
        let d = fuser.linked(na, nb)?;
        let n = fuser.nodes.len();
        let ellipse = |id: u32| {
            (id as usize)
                .checked_sub(n)
                .and_then(|f| self.fix_ellipses.get(f))
        };
        let (ea, eb) = (ellipse(a), ellipse(b));
        if ea.is_none() && eb.is_none() {
            return Some(d / na.u_m.hypot(nb.u_m) + time_offset(na, nb));
        }
        let LinkRule::Evidence(rule) = &fuser.config.link else {
            return Some(d / na.u_m.hypot(nb.u_m) + time_offset(na, nb));
        };
        let covariance = |node: &Node, e: Option<&ErrorEllipse>| {
            e.map_or([node.u_m * node.u_m, 0.0, node.u_m * node.u_m], |e| {
                e.covariance_en()
            })
        };
        let (ca, cb) = (covariance(na, ea), covariance(nb, eb));
        let sum = [ca[0] + cb[0], ca[1] + cb[1], ca[2] + cb[2]];
        let towards = radius_towards_m(sum, azimuth_deg(na.pos, nb.pos));
        let limit = rule.radius_m(towards, 0.0, na.extent_m.max(nb.extent_m));
        (d <= limit).then(|| d / towards.max(1.0) + time_offset(na, nb))
    }

    /// Located nodes whose position a bearing's sector may hold, from every located grid.
    fn sector_candidates(
        &self,
        line: &BearingLine,
        range_m: f64,
        t0: f64,
        t1: f64,
        rule: &EvidenceRule,
    ) -> Vec<u32> {
        // Anchors only: a coarse report's wide disc would catch every bearing near it.
        let grids: Vec<(&Grid, f64)> = self.levels.iter().map(|l| (&l.grid, l.max_u_m)).collect();
        sector_query(&grids, line, range_m, t0, t1, rule)
    }

    /// The event window of a bearing placed at `range_m` from its observer.
    fn bearing_window(&self, id: u32, range_m: f64, rule: &EvidenceRule) -> (f64, f64) {
        let node = &self.fuser.nodes[id as usize];
        let info = self.fuser.source_info[node.source as usize];
        let delay = range_m / rule.sound_speed_m_s;
        let w = rule.windows[node.kind as usize];
        let (db, da) = rule.discipline_slack_s[info.discipline as usize];
        let until = seconds(self.fuser.facts[id as usize].last_at);
        if info.discipline == Discipline::Acoustic {
            (node.at_s - delay - w.before_s, until - delay + w.after_s)
        } else {
            (node.at_s - delay - w.before_s - db, until + w.after_s + da)
        }
    }

    /// Whether a bearing placed at `range_m` may have heard an event of the window
    /// `[t0, t1]`: for an acoustic source, the sound left within that window (the window
    /// already allows for the event's duration, the bearing's own time is exact but for the
    /// travel); for others, their windows overlap.
    fn heard_within(
        &self,
        id: u32,
        range_m: f64,
        (t0, t1): (f64, f64),
        rule: &EvidenceRule,
    ) -> bool {
        let (w0, w1) = self
            .sound_left(id, range_m, rule)
            .unwrap_or_else(|| self.bearing_window(id, range_m, rule));
        w0 <= t1 && t0 <= w1
    }

    /// For an acoustic bearing placed at `range_m`: when the sound it heard left, seconds
    /// since the epoch (its report's times less the travel). `None` for other sources.
    fn sound_left(&self, id: u32, range_m: f64, rule: &EvidenceRule) -> Option<(f64, f64)> {
        let node = &self.fuser.nodes[id as usize];
        (self.fuser.source_info[node.source as usize].discipline == Discipline::Acoustic).then(
            || {
                let delay = range_m / rule.sound_speed_m_s;
                (
                    node.at_s - delay,
                    seconds(self.fuser.facts[id as usize].last_at) - delay,
                )
            },
        )
    }

    /// Whether a bearing misses a located report by little enough to join it:
    /// `bearing_attach_sigmas`, or `bearing_sigmas` when an acoustic bearing's sound left
    /// within `triangulation_time_s` of the report's own times (the same shot, seen and
    /// heard: a coincidence in time that an unrelated event seldom matches).
    fn attachable(
        &self,
        id: u32,
        miss_sigmas: f64,
        range_m: f64,
        report: u32,
        rule: &EvidenceRule,
    ) -> bool {
        if miss_sigmas <= rule.bearing_attach_sigmas {
            return true;
        }
        // A fix's times are its bearings' arrivals, not a report of the event's own time.
        if miss_sigmas > rule.bearing_sigmas || report as usize >= self.fuser.nodes.len() {
            return false;
        }
        let Some((s0, s1)) = self.sound_left(id, range_m, rule) else {
            return false;
        };
        let from = self.fuser.nodes[report as usize].at_s;
        let until = seconds(self.fuser.facts[report as usize].last_at);
        s0 <= until + rule.triangulation_time_s && from - rule.triangulation_time_s <= s1
    }

    fn place_bearings(&mut self, rule: &EvidenceRule) {
        let fuser = self.fuser;
        if fuser.bearings.is_empty() {
            return;
        }
        // 1. Bearings whose sector holds a precise located report (an anchor) join its incident
        //    (each chosen on its own, in parallel, then joined in order).
        let this = &*self;
        let choices: Vec<Option<(u32, f64)>> = fuser
            .bearings
            .par_iter()
            .with_min_len(64)
            .map(|&b| this.anchor_in_sector(b, rule))
            .collect();
        let mut placed = vec![false; fuser.bearings.len()];
        for (k, (&b, choice)) in fuser.bearings.iter().zip(choices).enumerate() {
            if let Some((m, r)) = choice {
                self.sets.union(b, m);
                placed[k] = true;
                self.bearing_range[k] = Some(r);
            }
        }
        self.triangulate_free(&placed, rule);
        self.placed = placed;
    }

    /// The anchor a bearing's sector holds that matches it best, and its range.
    fn anchor_in_sector(&self, b: u32, rule: &EvidenceRule) -> Option<(u32, f64)> {
        let fuser = self.fuser;
        let node = fuser.nodes[b as usize];
        let bearing = fuser.bearing_of(b)?;
        let line = line_of(&bearing);
        let range = bearing_range_m(&bearing, rule);
        let candidates = self.sector_candidates(&line, range, node.t0, node.t1, rule);
        let mut best: Option<(ScoreKey, f64)> = None;
        for m in candidates {
            let other = &fuser.nodes[m as usize];
            if !fuser.compatible(&node, other) {
                continue;
            }
            let fit = self.sector_fit((b, &node), (&line, range), m, (other.pos, other.u_m), rule);
            if let Some((key, r)) = fit
                && best.is_none_or(|(x, _)| key_lt(key, x))
            {
                best = Some((key, r));
            }
        }
        best.map(|(key, r)| (key.3, r))
    }

    /// How bearing `b` (with its node), whose sector is `line` out to `range_m`, fits report
    /// `m` at `p` (within `u_m`): the key to rank it by (misses in σ plus the time offset of
    /// the placed bearing, then the report's time, index and id) and the bearing's range there;
    /// `None` when it may not join it (too far off for [`Snapshot::attachable`], or not heard
    /// within its window).
    fn sector_fit(
        &self,
        (b, node): (u32, &Node),
        (line, range_m): (&BearingLine, f64),
        m: u32,
        (p, u_m): (LonLat, f64),
        rule: &EvidenceRule,
    ) -> Option<(ScoreKey, f64)> {
        let (miss_deg, r) = sector_miss(line, range_m, p, u_m)?;
        let other = self.node(m);
        let miss_sigmas = miss_deg / line.sigma_deg;
        if !self.attachable(b, miss_sigmas, r, m, rule)
            || !self.heard_within(b, r, (other.t0, other.t1), rule)
        {
            return None;
        }
        let (w0, w1) = self.bearing_window(b, r, rule);
        let placed_node = Node {
            t0: w0,
            t1: w1,
            ..*node
        };
        let key = (
            miss_sigmas + time_offset(&placed_node, other),
            other.at_s,
            other.index,
            m,
        );
        Some((key, r))
    }

    /// 2. The bearings not `placed` are triangulated, greedily: the most consistent crossing
    ///    pair first (event times closest), then every other bearing whose sector holds the
    ///    fix at a consistent time, each bearing in one fix at most.
    fn triangulate_free(&mut self, placed: &[bool], rule: &EvidenceRule) {
        let fuser = self.fuser;
        let position = &fuser.bearing_position;
        // Crossing pairs, found for each bearing on its own (in parallel), kept in order.
        let this = &*self;
        let found: Vec<Vec<CrossingPair>> = (0..fuser.bearings.len())
            .into_par_iter()
            .with_min_len(64)
            .map_init(Vec::new, |hits, k| {
                let mut pairs = Vec::new();
                this.crossing_pairs(k, position, placed, rule, hits, &mut pairs);
                pairs
            })
            .collect();
        let mut pairs: Vec<CrossingPair> = Vec::new();
        let mut partners: Vec<Vec<usize>> = vec![Vec::new(); fuser.bearings.len()];
        for pair in found.into_iter().flatten() {
            let (_, _, _, k, kb) = pair;
            pairs.push(pair);
            partners[k].push(kb);
            partners[kb].push(k);
        }
        self.grow_fixes(pairs, partners, rule);
    }

    /// The pairs `(score, lower caller index, higher, k, kb)` of the bearing at position `k`
    /// with the earlier-added free bearings whose lines cross it consistently.
    fn crossing_pairs(
        &self,
        k: usize,
        position: &FxHashMap<u32, usize>,
        placed: &[bool],
        rule: &EvidenceRule,
        hits: &mut Vec<u32>,
        pairs: &mut Vec<CrossingPair>,
    ) {
        let fuser = self.fuser;
        let a = fuser.bearings[k];
        if placed[k] {
            return;
        }
        let node_a = fuser.nodes[a as usize];
        let Some(ba) = fuser.bearing_of(a) else {
            return;
        };
        let reach = bearing_range_m(&ba, rule) + fuser.bearing_max_range_m;
        Fuser::candidates(
            &self.bearing_grid,
            &node_a,
            reach,
            node_a.t0,
            node_a.t1,
            hits,
        );
        for &b in hits.iter() {
            let Some(&kb) = position.get(&b) else {
                continue;
            };
            if b >= a || placed[kb] {
                continue;
            }
            let node_b = fuser.nodes[b as usize];
            if node_b.source == node_a.source || !fuser.compatible(&node_a, &node_b) {
                continue;
            }
            let Some(bb) = fuser.bearing_of(b) else {
                continue;
            };
            // In an order of content, so that rounding cannot depend on arrival.
            let content = |n: &Node, b: &Bearing| {
                (
                    n.at_s,
                    b.observer.lon_deg,
                    b.observer.lat_deg,
                    b.azimuth_deg,
                )
            };
            let (ka_, kb_) = (content(&node_a, &ba), content(&node_b, &bb));
            let a_first = ka_
                .0
                .total_cmp(&kb_.0)
                .then(ka_.1.total_cmp(&kb_.1))
                .then(ka_.2.total_cmp(&kb_.2))
                .then(ka_.3.total_cmp(&kb_.3))
                .then(node_a.index.cmp(&node_b.index))
                .is_lt();
            let crossing = if a_first {
                self.pair_crosses((a, &ba), (b, &bb), rule)
            } else {
                self.pair_crosses((b, &bb), (a, &ba), rule)
            };
            if let Some(score) = crossing {
                let (ia, ib) = (
                    node_a.index.min(node_b.index),
                    node_a.index.max(node_b.index),
                );
                pairs.push((score, ia, ib, k, kb));
            }
        }
    }

    /// Fixes grown greedily from the crossing `pairs` (see [`Snapshot::triangulate_free`]).
    fn grow_fixes(
        &mut self,
        mut pairs: Vec<CrossingPair>,
        partners: Vec<Vec<usize>>,
        rule: &EvidenceRule,
    ) {
        let fuser = self.fuser;
        pairs.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
        let n = fuser.nodes.len() as u32;
        let mut in_fix = vec![false; fuser.bearings.len()];
        for &(_, _, _, ka, kb) in &pairs {
            if in_fix[ka] || in_fix[kb] {
                continue;
            }
            let mut group = vec![ka, kb];
            let Some((mut fix, _)) = self.fix_group(&mut group.clone(), rule) else {
                continue;
            };
            // Grow: partners of the seed whose sector holds the fix, nearest in time first.
            let mut candidates: Vec<usize> = partners[ka]
                .iter()
                .chain(&partners[kb])
                .copied()
                .filter(|&k| !in_fix[k] && k != ka && k != kb)
                .collect();
            candidates.sort_unstable_by_key(|&k| fuser.nodes[fuser.bearings[k] as usize].index);
            candidates.dedup();
            for k in candidates {
                let id = fuser.bearings[k];
                let node = &fuser.nodes[id as usize];
                if group
                    .iter()
                    .any(|&g| fuser.nodes[fuser.bearings[g] as usize].source == node.source)
                {
                    continue;
                }
                let Some(bearing) = fuser.bearing_of(id) else {
                    continue;
                };
                let line = line_of(&bearing);
                let Some((miss_deg, r)) = sector_miss(
                    &line,
                    bearing_range_m(&bearing, rule),
                    fix.position,
                    fix.ellipse.semi_major_m,
                ) else {
                    continue;
                };
                if miss_deg / line.sigma_deg > rule.bearing_sigmas
                    || !self.times_agree(&group, &fix.ranges_m, (id, r), rule)
                {
                    continue;
                }
                let mut grown = group.clone();
                grown.push(k);
                if let Some((better, kept)) = self.fix_group(&mut grown, rule)
                    && kept.len() == group.len() + 1
                {
                    group = kept;
                    fix = better;
                }
            }
            // `fix_group` keeps its input order sorted by time; ranges follow `group`.
            let Some((fix, kept)) = self.fix_group(&mut group, rule) else {
                continue;
            };
            let id = n + self.fixes.len() as u32;
            self.sets.push();
            for (&k, range) in kept.iter().zip(&fix.ranges_m) {
                self.sets.union(fuser.bearings[k], id);
                in_fix[k] = true;
                self.bearing_range[k] = Some(*range);
            }
            let mut t0 = f64::INFINITY;
            let mut t1 = f64::NEG_INFINITY;
            let mut first = fuser.nodes[fuser.bearings[kept[0]] as usize];
            let mut kinds = KindSet::EMPTY;
            for (&k, range) in kept.iter().zip(&fix.ranges_m) {
                let node = fuser.nodes[fuser.bearings[k] as usize];
                let (w0, w1) = self.bearing_window(fuser.bearings[k], *range, rule);
                t0 = t0.min(w0);
                t1 = t1.max(w1);
                kinds.insert(node.kind);
                if (node.at_s, node.index) < (first.at_s, first.index) {
                    first = node;
                }
            }
            let u = fix.ellipse.semi_major_m.max(1.0);
            self.fixes.push(Node {
                index: kept
                    .iter()
                    .map(|&k| fuser.nodes[fuser.bearings[k] as usize].index)
                    .min()
                    .unwrap_or(usize::MAX),
                v: UnitVector::from_lon_lat(fix.position).0,
                pos: fix.position,
                t0,
                t1,
                at_s: first.at_s,
                u_m: u,
                extent_m: rule.windows[first.kind as usize].extent_m,
                kind: first.kind,
                other_kinds: kinds.without(first.kind),
                equipment_class: first.equipment_class,
                role: Role::Fix,
                level: 0,
                source: first.source,
            });
            self.fix_ellipses.push(fix.ellipse);
        }
        self.in_fix = in_fix;
    }

    /// Whether a bearing `(id, range)` heard the event of `group` (whose ranges are given) at
    /// a consistent time.
    fn times_agree(
        &self,
        group: &[usize],
        ranges_m: &[f64],
        (id, r): (u32, f64),
        rule: &EvidenceRule,
    ) -> bool {
        let fuser = self.fuser;
        let window = |id: u32, r: f64| self.bearing_window(id, r, rule);
        let (a0, a1) = window(id, r);
        group.iter().zip(ranges_m).all(|(&k, &rk)| {
            let (b0, b1) = window(fuser.bearings[k], rk);
            a0 <= b1 && b0 <= a1
        })
    }

    /// Precise fixes link like anchors (with anchors and with each other); coarse reports
    /// and imprecise fixes join the best anchor or precise fix, else link among themselves.
    fn place_fixes_and_coarse(&mut self, rule: &EvidenceRule) {
        let fuser = self.fuser;
        let n = fuser.nodes.len() as u32;
        let mut fix_grid = Grid::new(rule.max_link_distance_m, BUCKET_S);
        let mut precise = vec![false; self.fixes.len()];
        for (f, fix) in self.fixes.iter().enumerate() {
            precise[f] = fix.u_m <= rule.fix_anchor_max_m;
            if precise[f] {
                fix_grid.insert(n + f as u32, fix.pos, fix.t0, fix.t1);
            }
        }
        let fix_max = rule.fix_anchor_max_m;
        let mut hits = Vec::new();
        for (f, _) in precise.iter().enumerate().filter(|(_, p)| **p) {
            let node = self.fixes[f];
            let id = n + f as u32;
            for level in self.levels.iter() {
                let radius = fuser.search_radius_m(&node, level.max_u_m, level.max_extent_m);
                Fuser::candidates(&level.grid, &node, radius, node.t0, node.t1, &mut hits);
                for &m in &hits {
                    if self.link_score(id, m).is_some() {
                        self.sets.union(id, m);
                    }
                }
            }
            let radius = fuser.search_radius_m(&node, fix_max, rule.max_extent_m());
            Fuser::candidates(&fix_grid, &node, radius, node.t0, node.t1, &mut hits);
            for &g in &hits {
                if g != id && self.link_score(id, g).is_some() {
                    self.sets.union(id, g);
                }
            }
        }
        // The best of anchors and precise fixes.
        let best = |this: &Self, id: u32, hits: &mut Vec<u32>| -> Option<(ScoreKey, u32)> {
            let node = this.node(id);
            let mut best = this.best_anchor(id, hits);
            let radius = fuser.search_radius_m(node, fix_max, rule.max_extent_m());
            Fuser::candidates(&fix_grid, node, radius, node.t0, node.t1, hits);
            for &g in hits.iter() {
                let other = &this.fixes[(g - n) as usize];
                if let Some(score) = this.link_score(id, g) {
                    let key = (score, other.at_s, other.index, g);
                    if best.is_none_or(|b| key_lt(key, b)) {
                        best = Some(key);
                    }
                }
            }
            best.map(|b| (b, b.3))
        };
        // Imprecise fixes join the best anchor or precise fix, or stay alone: they are too
        // vague to link transitively.
        let mut loose = Grid::new(rule.max_link_distance_m, BUCKET_S);
        for (f, _) in precise.iter().enumerate().filter(|(_, p)| !**p) {
            let node = self.fixes[f];
            let id = n + f as u32;
            match best(self, id, &mut hits) {
                Some((_, m)) => self.sets.union(id, m),
                None => loose.insert(id, node.pos, node.t0, node.t1),
            }
        }
        let loose_max = self.fixes.iter().map(|f| f.u_m).fold(0.0, f64::max);
        // Coarse reports: the best anchor or fix (an imprecise one alone included), each
        // chosen on its own (in parallel: the choices read the snapshot only), then joined.
        let this = &*self;
        let choices: Vec<Option<u32>> = this
            .coarse
            .par_iter()
            .with_min_len(256)
            .map_init(Vec::new, |hits, &c| {
                let node = fuser.nodes[c as usize];
                let mut choice = best(this, c, hits);
                let radius = fuser.search_radius_m(&node, loose_max, rule.max_extent_m());
                Fuser::candidates(&loose, &node, radius, node.t0, node.t1, hits);
                for &g in hits.iter() {
                    let other = &this.fixes[(g - n) as usize];
                    if let Some(score) = this.link_score(c, g) {
                        let key = (score, other.at_s, other.index, g);
                        if choice.is_none_or(|(k, _)| key_lt(key, k)) {
                            choice = Some((key, g));
                        }
                    }
                }
                choice.map(|(_, m)| m)
            })
            .collect();
        let mut free = vec![false; fuser.nodes.len()];
        for (&c, choice) in self.coarse.iter().zip(choices) {
            match choice {
                Some(m) => self.sets.union(c, m),
                None => free[c as usize] = true,
            }
        }
        // A coarse report precise in place (coarse by its long window only) that matches no
        // anchor or fix but matches a placed one of the same precision (a fire seen again at
        // a later overpass) joins the best such report's incident. In rounds: each round
        // looks only at the reports placed in the round before, so nothing depends on an
        // order, and each report still joins one incident (it bridges nothing).
        let mut round = vec![FREE_ROUND; fuser.nodes.len()];
        for &c in self.coarse.iter() {
            if !free[c as usize] {
                round[c as usize] = 0;
            }
        }
        let precise = |node: &Node| node.u_m <= rule.anchor_max_uncertainty_m;
        // The levels that hold a precise report at all: only they can hold a match.
        let precise_levels: Vec<&Level> = self
            .coarse_levels
            .iter()
            .filter(|l| l.min_u_m <= rule.anchor_max_uncertainty_m)
            .collect();
        let mut last_round = 0;
        // The free reports that may match one placed in the last round: all at first, then
        // those near the ones just placed.
        let mut pending: Vec<u32> = self
            .coarse
            .iter()
            .copied()
            .filter(|&c| free[c as usize] && precise(&fuser.nodes[c as usize]))
            .collect();
        while !pending.is_empty() {
            // Each report's choice on its own (in parallel), joined in order.
            let round_of = &round;
            let joins: Vec<(u32, u32)> = pending
                .par_iter()
                .with_min_len(256)
                .map_init(Vec::new, |hits, &c| {
                    let node = fuser.nodes[c as usize];
                    let mut best: Option<ScoreKey> = None;
                    for level in &precise_levels {
                        let radius =
                            fuser.search_radius_m(&node, level.max_u_m, level.max_extent_m);
                        Fuser::candidates(&level.grid, &node, radius, node.t0, node.t1, hits);
                        for &m in hits.iter() {
                            let other = &fuser.nodes[m as usize];
                            if round_of[m as usize] == last_round
                                && precise(other)
                                && other.kind == node.kind
                                && fuser.linked(&node, other).is_some()
                            {
                                let key = (score(&node, other), other.at_s, other.index, m);
                                if best.is_none_or(|b| key_lt(key, b)) {
                                    best = Some(key);
                                }
                            }
                        }
                    }
                    best.map(|b| (c, b.3))
                })
                .flatten()
                .collect();
            last_round += 1;
            for &(c, m) in &joins {
                self.sets.union(c, m);
                round[c as usize] = last_round;
                free[c as usize] = false;
            }
            // The free reports near those just placed (found in parallel, then sorted).
            let round_of = &round;
            pending = joins
                .par_iter()
                .with_min_len(256)
                .map_init(Vec::new, |hits, &(c, _)| {
                    let node = fuser.nodes[c as usize];
                    let mut near = Vec::new();
                    for level in &precise_levels {
                        let radius =
                            fuser.search_radius_m(&node, level.max_u_m, level.max_extent_m);
                        Fuser::candidates(&level.grid, &node, radius, node.t0, node.t1, hits);
                        near.extend(hits.iter().copied().filter(|&m| {
                            round_of[m as usize] == FREE_ROUND
                                && precise(&fuser.nodes[m as usize])
                                && fuser.nodes[m as usize].kind == node.kind
                        }));
                    }
                    near
                })
                .flatten()
                .collect();
            pending.par_sort_unstable();
            pending.dedup();
        }
        // Coarse reports that joined nothing link with each other (found now, locally, in
        // parallel; the links are then made in order). They are indexed apart, by the same
        // bands: most coarse reports are placed, and a query among the free ones alone walks
        // a tenth of the entries.
        let free_ids: Vec<u32> = self
            .coarse
            .iter()
            .copied()
            .filter(|&c| free[c as usize])
            .collect();
        let mut free_levels: Vec<Level> =
            self.coarse_levels.iter().map(Level::empty_like).collect();
        for &c in &free_ids {
            let node = &fuser.nodes[c as usize];
            let k = band_of(&free_levels, node.u_m);
            if let Some(level) = free_levels.get_mut(k) {
                level.insert(c, node);
            }
        }
        let links: Vec<(u32, u32)> = free_ids
            .par_iter()
            .with_min_len(256)
            .map_init(Vec::new, |hits, &c| {
                let mut linked = Vec::new();
                let node = fuser.nodes[c as usize];
                for level in &free_levels {
                    let radius = fuser.search_radius_m(&node, level.max_u_m, level.max_extent_m);
                    Fuser::candidates(&level.grid, &node, radius, node.t0, node.t1, hits);
                    for &m in hits.iter() {
                        if m != c && fuser.linked(&node, &fuser.nodes[m as usize]).is_some() {
                            linked.push((c, m));
                        }
                    }
                }
                linked
            })
            .flatten()
            .collect();
        drop(free_levels);
        for (c, m) in links {
            self.sets.union(c, m);
        }
        self.fix_grid = fix_grid;
        self.loose_fixes = loose;
    }

    /// Bearings in no fix and placed nowhere: the best fix whose position their sector holds,
    /// else the other bearings of their observer.
    fn finish_bearings(&mut self, rule: &EvidenceRule) {
        let fuser = self.fuser;
        let mut placed = std::mem::take(&mut self.placed);
        let in_fix = std::mem::take(&mut self.in_fix);
        let position = &fuser.bearing_position;
        let fix_max = self.fixes.iter().map(|f| f.u_m).fold(0.0, f64::max);
        let fix_grid = std::mem::replace(&mut self.fix_grid, Grid::new(1.0, 1.0));
        let loose = std::mem::replace(&mut self.loose_fixes, Grid::new(1.0, 1.0));
        // 4. Bearings left over: the best fix in their sector, else their observer's others.
        let this = &*self;
        let (fix_grid_kept, loose_kept) = (fix_grid, loose);
        let (fix_grid, loose) = (&fix_grid_kept, &loose_kept);
        let choices: Vec<Option<(u32, f64)>> = (0..fuser.bearings.len())
            .into_par_iter()
            .with_min_len(64)
            .map(|k| {
                if placed[k] || in_fix[k] {
                    return None;
                }
                this.report_in_sector(fuser.bearings[k], [fix_grid, loose], fix_max, rule)
            })
            .collect();
        let mut via_coarse = vec![false; fuser.bearings.len()];
        for (k, choice) in choices.into_iter().enumerate() {
            if let Some((id, r)) = choice {
                self.sets.union(fuser.bearings[k], id);
                via_coarse[k] = self.node(id).role == Role::Coarse;
                self.bearing_range[k] = Some(r);
                placed[k] = true;
            }
        }
        // A bearing still left over taken side by side with one placed (in a fix or an
        // incident) at an overlapping time: the same array hearing the same place again, a
        // later salvo of one exchange. It joins the incident of the nearest in time.
        let left: Vec<bool> = placed.iter().zip(&in_fix).map(|(p, f)| !p && !f).collect();
        let this = &*self;
        let left_ref = &left;
        let again: Vec<Option<usize>> = (0..fuser.bearings.len())
            .into_par_iter()
            .with_min_len(64)
            .map_init(Vec::new, |hits, k| {
                if !left_ref[k] {
                    return None;
                }
                this.heard_again(k, position, |kb| !left_ref[kb], rule, hits)
            })
            .collect();
        for (k, choice) in again.into_iter().enumerate() {
            if let Some(kb) = choice {
                self.sets.union(fuser.bearings[k], fuser.bearings[kb]);
                self.bearing_range[k] = self.bearing_range[kb];
                placed[k] = true;
            }
        }
        // Left-over bearings of one observer, or facing each other: found for each on its
        // own (in parallel), joined in order.
        let left: Vec<bool> = placed.iter().zip(&in_fix).map(|(p, f)| !p && !f).collect();
        let this = &*self;
        let left_ref = &left;
        let links: Vec<Vec<u32>> = (0..fuser.bearings.len())
            .into_par_iter()
            .with_min_len(64)
            .map_init(Vec::new, |hits, k| {
                if !left_ref[k] {
                    return Vec::new();
                }
                this.alike_bearings(k, position, left_ref, rule, hits)
            })
            .collect();
        for (k, linked) in links.into_iter().enumerate() {
            for b in linked {
                self.sets.union(fuser.bearings[k], b);
            }
        }
        self.in_fix = in_fix;
        self.placed = placed;
        self.via_coarse = via_coarse;
        self.fix_grid = fix_grid_kept;
        self.loose_fixes = loose_kept;
    }

    /// The best fix or coarse report whose position the sector of bearing `b` holds, and its
    /// range: a single bearing joins one, so it bridges nothing.
    fn report_in_sector(
        &self,
        b: u32,
        fixes: [&Grid; 2],
        fix_max: f64,
        rule: &EvidenceRule,
    ) -> Option<(u32, f64)> {
        let fuser = self.fuser;
        let node = fuser.nodes[b as usize];
        let bearing = fuser.bearing_of(b)?;
        let line = line_of(&bearing);
        let range = bearing_range_m(&bearing, rule);
        let mut best: Option<(ScoreKey, u32, f64)> = None;
        // Fixes and coarse reports (a single bearing joins one, so it bridges nothing).
        let near = sector_query(
            &[(fixes[0], fix_max), (fixes[1], fix_max)]
                .into_iter()
                .chain(self.coarse_levels.iter().map(|l| (&l.grid, l.max_u_m)))
                .collect::<Vec<_>>(),
            &line,
            range,
            node.t0,
            node.t1,
            rule,
        );
        for id in near {
            let other = self.node(id);
            let Some((miss_deg, r)) = sector_miss(&line, range, other.pos, other.u_m) else {
                continue;
            };
            if miss_deg / line.sigma_deg > rule.bearing_attach_sigmas
                || !self.heard_within(b, r, (other.t0, other.t1), rule)
                || !fuser.compatible(&node, other)
            {
                continue;
            }
            // The azimuth's offset in units of the bearing's σ plus the angle the
            // report's own uncertainty subtends: a vague report is no better a match.
            let (off_deg, _) = sector_miss(&line, range, other.pos, 0.0).unwrap_or((180.0, r));
            let allowance_deg = (other.u_m / r.max(1.0)).min(1.0).asin().to_degrees();
            let key = (
                off_deg / (line.sigma_deg + allowance_deg),
                other.at_s,
                other.index,
                id,
            );
            if best.is_none_or(|x| key_lt(key, x.0)) {
                best = Some((key, id, r));
            }
        }
        best.map(|(_, id, r)| (id, r))
    }

    /// The bearing (position in `fuser.bearings`) among those `taken` that the bearing at
    /// position `k` was taken side by side with ([`side_by_side`]), at an overlapping
    /// window and of a compatible kind, nearest in time (then by caller index).
    fn heard_again(
        &self,
        k: usize,
        position: &FxHashMap<u32, usize>,
        taken: impl Fn(usize) -> bool,
        rule: &EvidenceRule,
        hits: &mut Vec<u32>,
    ) -> Option<usize> {
        let fuser = self.fuser;
        let a = fuser.bearings[k];
        let node_a = fuser.nodes[a as usize];
        let ba = fuser.bearing_of(a)?;
        Fuser::candidates(
            &self.bearing_grid,
            &node_a,
            SAME_OBSERVER_M,
            node_a.t0,
            node_a.t1,
            hits,
        );
        let mut best: Option<(f64, usize, usize)> = None;
        for &b in hits.iter() {
            let Some(&kb) = position.get(&b) else {
                continue;
            };
            if b == a || !taken(kb) {
                continue;
            }
            let node_b = fuser.nodes[b as usize];
            let Some(bb) = fuser.bearing_of(b) else {
                continue;
            };
            if node_a.t0 > node_b.t1
                || node_b.t0 > node_a.t1
                || !fuser.compatible(&node_a, &node_b)
                || !side_by_side((&node_a, &ba), (&node_b, &bb), rule)
            {
                continue;
            }
            let key = ((node_a.at_s - node_b.at_s).abs(), node_b.index, kb);
            if best.is_none_or(|x| key.0.total_cmp(&x.0).then(key.1.cmp(&x.1)).is_lt()) {
                best = Some(key);
            }
        }
        best.map(|b| b.2)
    }

    /// The bearings marked in `left` (by position, `position`) that the one at position `k`
    /// links with: earlier ones of an observer within 5 km looking the same way, or any
    /// facing it.
    fn alike_bearings(
        &self,
        k: usize,
        position: &FxHashMap<u32, usize>,
        left: &[bool],
        rule: &EvidenceRule,
        hits: &mut Vec<u32>,
    ) -> Vec<u32> {
        let fuser = self.fuser;
        let a = fuser.bearings[k];
        let node_a = fuser.nodes[a as usize];
        let mut out = Vec::new();
        let Some(ba) = fuser.bearing_of(a) else {
            return out;
        };
        let range_a = bearing_range_m(&ba, rule);
        Fuser::candidates(
            &self.bearing_grid,
            &node_a,
            range_a.max(SAME_OBSERVER_M),
            node_a.t0,
            node_a.t1,
            hits,
        );
        for &b in hits.iter() {
            let Some(&kb) = position.get(&b) else {
                continue;
            };
            if b == a || !left[kb] {
                continue;
            }
            let node_b = fuser.nodes[b as usize];
            let Some(bb) = fuser.bearing_of(b) else {
                continue;
            };
            if node_a.t0 > node_b.t1 || node_b.t0 > node_a.t1 || !fuser.compatible(&node_a, &node_b)
            {
                continue;
            }
            let side_by_side = b < a && side_by_side((&node_a, &ba), (&node_b, &bb), rule);
            // Face to face: each looks at the other, the event lies between them (the
            // lines cannot cross, so no fix). Checked from both ends.
            let facing = node_b.source != node_a.source
                && within_m(&node_a.v, &node_b.v, range_a + bearing_range_m(&bb, rule)).is_some()
                && angle_diff_deg(ba.azimuth_deg, azimuth_deg(ba.observer, bb.observer)).abs()
                    <= rule.bearing_sigmas * ba.sigma_deg.max(0.1)
                && angle_diff_deg(bb.azimuth_deg, azimuth_deg(bb.observer, ba.observer)).abs()
                    <= rule.bearing_sigmas * bb.sigma_deg.max(0.1);
            // Sectors that meet at a consistent time where the lines cannot be crossed.
            if side_by_side
                || facing
                || (b < a
                    && node_b.source != node_a.source
                    && self.sectors_meet((a, &ba), (b, &bb), rule))
            {
                out.push(b);
            }
        }
        out
    }

    /// Bearings (not of a fix) whose sector misses their incident's final location by more
    /// than `bearing_sigmas` σ, that location's uncertainty allowed for, or cannot reach it:
    /// each joined a report that fitted, but the incident as a whole says the sound came
    /// from elsewhere. They leave it, each a sector of its own (see `assemble`). So does a
    /// bearing that joined a coarse report when the incident's reports that date the event
    /// ([`Snapshot::undated`]) say the sound came at another time.
    fn drop_stray_bearings(&mut self, rule: &EvidenceRule) {
        let fuser = self.fuser;
        // The incidents are final from here on (bearings that leave one are recorded apart):
        // every root is found in one step by the scans below and by `assemble`.
        self.sets.flatten();
        let in_fix = std::mem::take(&mut self.in_fix);
        let mut candidates: Vec<(u32, usize)> = Vec::new();
        for (k, &b) in fuser.bearings.iter().enumerate() {
            if in_fix.get(k).copied().unwrap_or(false) {
                continue;
            }
            candidates.push((self.sets.find(b), k));
        }
        self.in_fix = in_fix;
        if candidates.is_empty() {
            return;
        }
        let members = self.located_members(candidates.iter().map(|&(root, _)| root).collect());
        let position = &fuser.bearing_position;
        // Each candidate judged on its own (in parallel: the judgements read the snapshot
        // only, a bearing's own range included), then marked.
        let this = &*self;
        let is_stray: Vec<bool> = candidates
            .par_iter()
            .with_min_len(256)
            .map_init(Vec::new, |hits, &(root, k)| {
                let Some(members) = members.get(root) else {
                    return false;
                };
                if this.via_coarse.get(k).copied().unwrap_or(false)
                    && this.undated(k, root, members, position, rule, hits)
                {
                    return true;
                }
                let Some((p, u_m)) =
                    weighted_location(members.iter().map(|&(_, _, i)| this.node(i)))
                else {
                    return false;
                };
                let Some(bearing) = fuser.bearing_of(fuser.bearings[k]) else {
                    return false;
                };
                let line = line_of(&bearing);
                let fits = sector_miss(&line, bearing_range_m(&bearing, rule), p, u_m)
                    .is_some_and(|(miss_deg, _)| miss_deg / line.sigma_deg <= rule.bearing_sigmas);
                !fits
            })
            .collect();
        let mut stray = vec![false; fuser.bearings.len()];
        for (&(_, k), is_stray) in candidates.iter().zip(is_stray) {
            if is_stray {
                stray[k] = true;
                self.bearing_range[k] = None;
            }
        }
        let mut hits = Vec::new();
        self.place_strays(&mut stray, rule);
        // Strays that heard one sound (side by side, face to face) stay together.
        let mut sets = DisjointSets::default();
        let mut set_of: FxHashMap<u32, u32> = FxHashMap::default();
        for (k, _) in stray.iter().enumerate().filter(|(_, s)| **s) {
            set_of.insert(fuser.bearings[k], sets.push());
        }
        if set_of.is_empty() {
            return;
        }
        for k in (0..stray.len()).filter(|&k| stray[k]) {
            for b in self.alike_bearings(k, position, &stray, rule, &mut hits) {
                if let (Some(&x), Some(&y)) = (set_of.get(&fuser.bearings[k]), set_of.get(&b)) {
                    sets.union(x, y);
                }
            }
        }
        self.stray = set_of.into_iter().map(|(b, x)| (b, sets.find(x))).collect();
    }

    /// Whether the bearing at position `k`, which joined a coarse report of the incident
    /// `root` (its located members and fixes `members`, as [`Snapshot::located_members`]),
    /// was heard at a time the incident's dating reports exclude: the incident has anchors or
    /// fixes precise enough to link like anchors (reports of the event at its own time and
    /// place), and the bearing's window at its range overlaps none of theirs (the overlap
    /// anchors link by). A coarse report's long window (a heat spot hours after the fire
    /// started, harm found later) is no evidence of when the sound came. Unless the bearing
    /// was taken side by side with a bearing of that incident at an overlapping window
    /// ([`Snapshot::heard_again`]): the same array hearing the same place again.
    fn undated(
        &self,
        k: usize,
        root: u32,
        members: &[Located],
        position: &FxHashMap<u32, usize>,
        rule: &EvidenceRule,
        hits: &mut Vec<u32>,
    ) -> bool {
        let fuser = self.fuser;
        let Some(r) = self.bearing_range.get(k).copied().flatten() else {
            return false;
        };
        let (w0, w1) = self.bearing_window(fuser.bearings[k], r, rule);
        let mut dated = false;
        for &(_, _, i) in members {
            let node = self.node(i);
            if node.role == Role::Anchor
                || (node.role == Role::Fix && node.u_m <= rule.fix_anchor_max_m)
            {
                if w0 <= node.t1 && node.t0 <= w1 {
                    return false;
                }
                dated = true;
            }
        }
        if !dated {
            return false;
        }
        let taken = |kb: usize| {
            (self.placed.get(kb).copied().unwrap_or(false)
                || self.in_fix.get(kb).copied().unwrap_or(false))
                && self.sets.root(fuser.bearings[kb]) == root
        };
        self.heard_again(k, position, taken, rule, hits).is_none()
    }

    /// The located members and fixes of each incident of `roots` (roots of `sets`) that has
    /// any, as (caller index, whether a fix, node id), in caller-index order (the order
    /// `assemble` sums locations in).
    fn located_members(&self, mut roots: Vec<u32>) -> LocatedMembers {
        roots.sort_unstable();
        roots.dedup();
        let total = self.fuser.nodes.len() + self.fixes.len();
        let mut wanted = BitSet::new(total);
        for &r in &roots {
            wanted.insert(r);
        }
        // Found in parallel (reading the sets), then sorted by incident and caller index.
        let this = self;
        let wanted = &wanted;
        let mut found: Vec<(u32, Located)> = (0..total as u32)
            .into_par_iter()
            .with_min_len(4096)
            .filter_map(|i| {
                let root = this.sets.root(i);
                if !wanted.contains(root) {
                    return None;
                }
                let node = this.node(i);
                has_location(node).then_some((root, (node.index, node.role == Role::Fix, i)))
            })
            .collect();
        found.par_sort_unstable();
        let (roots, members) = found.into_iter().unzip();
        LocatedMembers { roots, members }
    }

    /// The final location of each incident of `roots` (roots of `sets`) that has one: the
    /// inverse-variance mean of its located members and fixes, summed in caller-index order
    /// as `assemble` sums them. Ascending by root.
    fn locations_of(&self, roots: Vec<u32>) -> Vec<(u32, (LonLat, f64))> {
        let located = self.located_members(roots);
        let groups: Vec<(u32, &[Located])> = located.groups().collect();
        groups
            .par_iter()
            .with_min_len(1024)
            .filter_map(|&(root, members)| {
                weighted_location(members.iter().map(|&(_, _, i)| self.node(i))).map(|l| (root, l))
            })
            .collect()
    }

    /// 5. A bearing marked in `stray` (by position in `fuser.bearings`) joins, if one fits,
    ///    the best other incident whose final location its sector holds (its uncertainty
    ///    allowed for) by `bearing_attach_sigmas` σ, or by `bearing_sigmas` σ when its sound
    ///    left within `triangulation_time_s` of a member report's own times, with its sound
    ///    leaving within the window of a compatible located member. Bearings outside fixes
    ///    add nothing to a location, so the one it joins keeps fitting it. Those placed are
    ///    recorded in `moved` and unmarked.
    fn place_strays(&mut self, stray: &mut [bool], rule: &EvidenceRule) {
        let fuser = self.fuser;
        let strays: Vec<usize> = (0..stray.len()).filter(|&k| stray[k]).collect();
        if strays.is_empty() {
            return;
        }
        let fix_max = self.fixes.iter().map(|f| f.u_m).fold(0.0, f64::max);
        // Located reports and fixes in each stray's sector, with their incidents.
        let this = &*self;
        let found: Vec<Vec<(u32, u32)>> = strays
            .par_iter()
            .with_min_len(16)
            .map(|&k| {
                let b = fuser.bearings[k];
                let node = &fuser.nodes[b as usize];
                let Some(bearing) = fuser.bearing_of(b) else {
                    return Vec::new();
                };
                let own = this.sets.root(b);
                let grids: Vec<(&Grid, f64)> = this
                    .levels
                    .iter()
                    .chain(this.coarse_levels.iter())
                    .map(|l| (&l.grid, l.max_u_m))
                    .chain([(&this.fix_grid, fix_max), (&this.loose_fixes, fix_max)])
                    .collect();
                let near = sector_query(
                    &grids,
                    &line_of(&bearing),
                    bearing_range_m(&bearing, rule),
                    node.t0,
                    node.t1,
                    rule,
                );
                near.into_iter()
                    .filter(|&m| fuser.compatible(node, this.node(m)))
                    .map(|m| (m, this.sets.root(m)))
                    .filter(|&(_, root)| root != own)
                    .collect()
            })
            .collect();
        let location_of =
            self.locations_of(found.iter().flatten().map(|&(_, root)| root).collect());
        let this = &*self;
        let choices: Vec<Option<(u32, f64)>> = strays
            .par_iter()
            .zip(&found)
            .with_min_len(16)
            .map(|(&k, near)| this.best_incident_for_stray(k, near, &location_of, rule))
            .collect();
        for (&k, choice) in strays.iter().zip(choices) {
            if let Some((m, r)) = choice {
                stray[k] = false;
                self.bearing_range[k] = Some(r);
                self.moved.insert(fuser.bearings[k], m);
            }
        }
    }

    /// The best of the reports `near` (with their incidents) for the stray bearing at
    /// position `k`, by [`Snapshot::place_strays`]' rule, and the range of its incident.
    fn best_incident_for_stray(
        &self,
        k: usize,
        near: &[(u32, u32)],
        location_of: &[(u32, (LonLat, f64))],
        rule: &EvidenceRule,
    ) -> Option<(u32, f64)> {
        let fuser = self.fuser;
        let b = fuser.bearings[k];
        let node = fuser.nodes[b as usize];
        let bearing = fuser.bearing_of(b)?;
        let line = line_of(&bearing);
        let range = bearing_range_m(&bearing, rule);
        let mut best: Option<(ScoreKey, f64)> = None;
        for &(m, root) in near {
            let Ok(found) = location_of.binary_search_by_key(&root, |&(r, _)| r) else {
                continue;
            };
            let located = location_of[found].1;
            if let Some((key, r)) = self.sector_fit((b, &node), (&line, range), m, located, rule)
                && best.is_none_or(|(x, _)| key_lt(key, x))
            {
                best = Some((key, r));
            }
        }
        best.map(|(key, r)| (key.3, r))
    }

    /// Whether bearings `a` and `b`, placed at ranges `ra_m` and `rb_m`, may have heard one
    /// sound: acoustic ones when it left within `triangulation_time_s` of each other, others
    /// when their windows meet.
    fn heard_together(
        &self,
        (a, ra_m): (u32, f64),
        (b, rb_m): (u32, f64),
        rule: &EvidenceRule,
    ) -> bool {
        let window = |id: u32, r: f64| {
            let node = &self.fuser.nodes[id as usize];
            if self.fuser.source_info[node.source as usize].discipline == Discipline::Acoustic {
                let e = node.at_s - r / rule.sound_speed_m_s;
                (e - rule.triangulation_time_s, e + rule.triangulation_time_s)
            } else {
                self.bearing_window(id, r, rule)
            }
        };
        let (a0, a1) = window(a, ra_m);
        let (b0, b1) = window(b, rb_m);
        a0 <= b1 && b0 <= a1
    }

    /// Whether the sectors of two bearings (± `bearing_sigmas` σ, within range) share a point
    /// that both heard at a consistent time ([`Snapshot::heard_together`]): lines that give
    /// no fix (near parallel, crossing just behind an observer or just beyond a range) may
    /// still have heard one event. Each line is walked every `SECTOR_STEP_M` through the
    /// other's sector.
    fn sectors_meet(
        &self,
        (a, ba): (u32, &Bearing),
        (b, bb): (u32, &Bearing),
        rule: &EvidenceRule,
    ) -> bool {
        let one_way = |(x, bx): (u32, &Bearing), (y, by): (u32, &Bearing)| {
            let (rx, ry) = (bearing_range_m(bx, rule), bearing_range_m(by, rule));
            let line = line_of(bx);
            let half_deg = rule.bearing_sigmas * by.sigma_deg.max(0.05);
            let mut s = SECTOR_STEP_M;
            while s <= rx {
                let p = along(&line, s);
                let r = distance_m(by.observer, p);
                if r <= ry
                    && angle_diff_deg(azimuth_deg(by.observer, p), by.azimuth_deg).abs() <= half_deg
                    && self.heard_together((x, s), (y, r), rule)
                {
                    return true;
                }
                s += SECTOR_STEP_M;
            }
            false
        };
        one_way((a, ba), (b, bb)) || one_way((b, bb), (a, ba))
    }

    /// Whether two bearings cross ahead of both, within range, at consistent event times.
    fn pair_crosses(
        &self,
        (a, ba): (u32, &Bearing),
        (b, bb): (u32, &Bearing),
        rule: &EvidenceRule,
    ) -> Option<f64> {
        let (ra_max, rb_max) = (bearing_range_m(ba, rule), bearing_range_m(bb, rule));
        let (oe, on) = to_plane(ba.observer, bb.observer);
        let (ta, tb) = (ba.azimuth_deg.to_radians(), bb.azimuth_deg.to_radians());
        let (da, db) = ((ta.sin(), ta.cos()), (tb.sin(), tb.cos()));
        // a + s·da = o + t·db
        let det = da.0 * (-db.1) - da.1 * (-db.0);
        if det.abs() < 1e-3 {
            return None;
        }
        let s = (oe * (-db.1) - on * (-db.0)) / det;
        let t = (da.0 * on - da.1 * oe) / det;
        if s <= 0.0 || t <= 0.0 || s > ra_max * 1.05 || t > rb_max * 1.05 {
            return None;
        }
        // The event is one place: bearings of different shots of one exchange cross there
        // too. The windows of the kind decide; the pairs whose sound left at the closest
        // times (the same shot) are taken first.
        if !self.heard_together((a, s), (b, t), rule) {
            return None;
        }
        let event = |id: u32, r: f64| self.fuser.nodes[id as usize].at_s - r / rule.sound_speed_m_s;
        Some((event(a, s) - event(b, t)).abs())
    }

    /// A least-squares fix of a group of bearings (positions in `fuser.bearings`), dropping
    /// the worst bearing while it is more than `bearing_sigmas` off; `None` unless at least
    /// two sources remain. Returns the fix and the bearings it kept.
    fn fix_group(
        &self,
        group: &mut Vec<usize>,
        rule: &EvidenceRule,
    ) -> Option<(super::Fix, Vec<usize>)> {
        let fuser = self.fuser;
        group.sort_unstable_by(|&a, &b| {
            let (ia, ib) = (fuser.bearings[a], fuser.bearings[b]);
            let (na, nb) = (&fuser.nodes[ia as usize], &fuser.nodes[ib as usize]);
            let (ba, bb) = (fuser.bearing_of(ia), fuser.bearing_of(ib));
            let az = |b: Option<Bearing>| b.map_or(0.0, |b| b.azimuth_deg);
            na.at_s
                .total_cmp(&nb.at_s)
                .then(na.pos.lon_deg.total_cmp(&nb.pos.lon_deg))
                .then(na.pos.lat_deg.total_cmp(&nb.pos.lat_deg))
                .then(az(ba).total_cmp(&az(bb)))
                .then(na.index.cmp(&nb.index))
        });
        // Large groups are cut to the earliest few: a fix needs few lines.
        group.truncate(64);
        loop {
            let lines: Vec<BearingLine> = group
                .iter()
                .filter_map(|&k| fuser.bearing_of(fuser.bearings[k]).map(|b| line_of(&b)))
                .collect();
            let mut sources: Vec<u32> = group
                .iter()
                .map(|&k| fuser.nodes[fuser.bearings[k] as usize].source)
                .collect();
            sources.sort_unstable();
            sources.dedup();
            if sources.len() < 2 || lines.len() != group.len() {
                return None;
            }
            let fix = triangulate(&lines)?;
            // A fix from near-parallel lines locates nothing.
            if fix.ellipse.semi_major_m > rule.max_fix_semi_major_m {
                return None;
            }
            let (worst, sigmas) = fix.worst_residual(&lines)?;
            if sigmas <= rule.bearing_sigmas {
                return Some((fix, group.clone()));
            }
            if group.len() <= 2 {
                return None;
            }
            group.remove(worst);
        }
    }

    /// The sort key of one group of node ids (ascending, fixes last): its earliest member's;
    /// `None` for a group of fixes only.
    fn group_key(&self, ids: &[u32], rank: &[u32]) -> Option<IncidentKey<'f>> {
        let fuser = self.fuser;
        let n = fuser.nodes.len();
        let real = &ids[..ids.partition_point(|&i| (i as usize) < n)];
        let mut earliest: Option<u32> = None;
        for &i in real {
            let at = fuser.facts[i as usize].observed_at;
            // By time first (the key's first part), the whole key only on a tie.
            let before = |e: u32| {
                let other = fuser.facts[e as usize].observed_at;
                at < other || (at == other && self.key_of(rank, i) < self.key_of(rank, e))
            };
            if earliest.is_none_or(before) {
                earliest = Some(i);
            }
        }
        earliest.map(|e| self.key_of(rank, e))
    }

    /// The incident of one group of node ids (ascending, fixes last) that has a key (a member
    /// other than fixes: see [`Self::group_key`]). Reads the snapshot only, so that groups can
    /// be built in parallel.
    fn incident(
        &self,
        position: usize,
        ids: &[u32],
        context: DismissalContext,
        tables: &Tables,
        scratch: &mut Scratch,
    ) -> FusedIncident {
        let fuser = self.fuser;
        let n = fuser.nodes.len();
        let Tables {
            sound_speed,
            rules,
            rank,
        } = tables;
        let sound_speed = *sound_speed;
        // Ids ascend, fixes (≥ n) last.
        let real = &ids[..ids.partition_point(|&i| (i as usize) < n)];
        let mut members: Vec<usize> = real
            .iter()
            .map(|&i| fuser.nodes[i as usize].index)
            .collect();
        members.sort_unstable();

        // Times: acoustic bearings placed at a range heard the event earlier.
        // Folded over the members (at least one).
        let mut first_at = DateTime::<Utc>::MAX_UTC;
        let mut last_at = DateTime::<Utc>::MIN_UTC;
        for &i in real {
            let node = &fuser.nodes[i as usize];
            let facts = &fuser.facts[i as usize];
            let mut at = facts.observed_at;
            if node.role == Role::Bearing
                && fuser.source_info[node.source as usize].discipline == Discipline::Acoustic
                && let Some(r) = fuser
                    .bearing_position
                    .get(&i)
                    .and_then(|&k| self.bearing_range[k])
            {
                at -= Duration::milliseconds((r / sound_speed * 1000.0).round() as i64);
            }
            first_at = first_at.min(at);
            last_at = last_at.max(facts.last_at);
        }

        // Location: inverse-variance mean of located members and fixes.
        // Summed in caller-index order, so that the result does not depend on arrival.
        let located = &mut scratch.located;
        located.clear();
        located.extend(ids.iter().filter_map(|&i| {
            let node = self.node(i);
            has_location(node).then_some((node.index, node.role == Role::Fix, i))
        }));
        located.sort_unstable();
        let location = weighted_location(located.iter().map(|&(_, _, i)| self.node(i)));
        let fix = ids
            .iter()
            .filter(|&&i| i as usize >= n)
            .map(|&i| self.fix_ellipses[i as usize - n])
            .min_by(|a, b| a.semi_major_m.total_cmp(&b.semi_major_m))
            .map(Box::new);
        let sector = if location.is_none() {
            real.iter()
                .filter(|&&i| fuser.bearing_of(i).is_some())
                .min_by(|&&a, &&b| self.key_of(rank, a).cmp(&self.key_of(rank, b)))
                .and_then(|&i| fuser.bearing_of(i))
                .map(Box::new)
        } else {
            None
        };

        let kinds: KindSet = real.iter().map(|&i| fuser.nodes[i as usize].kind).collect();

        // Sources.
        let by_source = &mut scratch.by_source;
        by_source.clear();
        by_source.extend_from_slice(real);
        by_source.sort_unstable_by_key(|&i| rank[fuser.nodes[i as usize].source as usize]);
        // As many as there are sources: a vector grown by pushing would hold room for four.
        let distinct = 1 + by_source
            .windows(2)
            .filter(|w| fuser.nodes[w[0] as usize].source != fuser.nodes[w[1] as usize].source)
            .count();
        let mut sources: Vec<SourceEvidence> = Vec::with_capacity(distinct);
        let mut last_source = u32::MAX;
        for &i in by_source.iter() {
            let node = &fuser.nodes[i as usize];
            if node.source != last_source {
                last_source = node.source;
                sources.push(SourceEvidence {
                    source: fuser.source_names[node.source as usize].clone(),
                    info: fuser.source_info[node.source as usize],
                    reports: 0,
                    located_reports: 0,
                    best_credibility: None,
                    kinds: KindSet::EMPTY,
                });
            }
            if let Some(s) = sources.last_mut() {
                s.reports += 1;
                if node.role != Role::Bearing && node.u_m > 0.0 {
                    s.located_reports += 1;
                }
                if let Some(c) = fuser.facts[i as usize].credibility {
                    s.best_credibility = Some(s.best_credibility.map_or(c, |b| b.min(c)));
                }
                s.kinds.insert(node.kind);
            }
        }

        let mut id = SmolStrBuilder::new();
        let _ = write!(id, "I{}", position + 1);
        let mut incident = FusedIncident {
            id: id.finish(),
            status: super::IncidentStatus::Reported,
            confidence: 0.0,
            grading: super::Grading::default(),
            first_at,
            last_at,
            location,
            kinds,
            members,
            sources,
            fix,
            sector,
            context,
        };
        grade(&mut incident, &fuser.sources, rules);
        incident
    }

    /// The order of incidents by their earliest member: see [`IncidentKey`].
    fn key_of(&self, rank: &[u32], i: u32) -> IncidentKey<'f> {
        let fuser = self.fuser;
        let facts = &fuser.facts[i as usize];
        let node = &fuser.nodes[i as usize];
        (
            facts.observed_at,
            rank[node.source as usize],
            fuser.source_ref(i),
            node.index,
        )
    }

    fn assemble(mut self) -> Fusion {
        let fuser = self.fuser;
        let n = fuser.nodes.len();
        let total = n + self.fixes.len();
        // Group nodes by root: compact group ids in order of first node.
        let mut group_of_root = vec![u32::MAX; total];
        let mut group_of = vec![0u32; total];
        let mut groups = 0u32;
        let mut group_of_stray: FxHashMap<u32, u32> = FxHashMap::default();
        for i in 0..total as u32 {
            let root = match self.moved.get(&i) {
                Some(&m) => self.sets.find(m) as usize,
                None => self.sets.find(i) as usize,
            };
            if let Some(&s) = self.stray.get(&i) {
                group_of[i as usize] = *group_of_stray.entry(s).or_insert_with(|| {
                    groups += 1;
                    groups - 1
                });
                continue;
            }
            if group_of_root[root] == u32::MAX {
                group_of_root[root] = groups;
                groups += 1;
            }
            group_of[i as usize] = group_of_root[root];
        }
        drop(group_of_root);
        // CSR layout of members.
        let mut start = vec![0u32; groups as usize + 1];
        for &g in &group_of {
            start[g as usize + 1] += 1;
        }
        for g in 0..groups as usize {
            start[g + 1] += start[g];
        }
        let mut fill = start.clone();
        let mut flat = vec![0u32; total];
        // And, from the same pass over the nodes in order, what each group's reports share:
        // only groups that may be dismissed have a dismissal context to find.
        let mut shared = vec![Shared::default(); groups as usize];
        for (i, &g) in group_of.iter().enumerate() {
            flat[fill[g as usize] as usize] = i as u32;
            fill[g as usize] += 1;
            if let Some(node) = fuser.nodes.get(i) {
                shared[g as usize].add(node.kind, fuser.source_info[node.source as usize]);
            }
        }
        // The groups are known: the sets and each node's group are not read again (their
        // memory goes to the incidents).
        drop((fill, group_of));
        self.sets = DisjointSets::default();

        let sound_speed = match &fuser.config.link {
            LinkRule::Evidence(r) => r.sound_speed_m_s,
            LinkRule::Fixed(_) => 340.0,
        };
        let rules = GradingRules {
            isolation_m: fuser.config.isolation_m,
            isolation_s: fuser.config.isolation_s,
            contradiction_m: fuser.config.contradiction_m,
            contradiction_s: fuser.config.contradiction_s,
            ..GradingRules::default()
        };

        // Sources in name order, for sorting without comparing strings.
        let mut by_name: Vec<u32> = (0..fuser.source_names.len() as u32).collect();
        by_name.sort_unstable_by(|&a, &b| {
            fuser.source_names[a as usize].cmp(&fuser.source_names[b as usize])
        });
        let mut rank = vec![0u32; by_name.len()];
        for (r, &s) in by_name.iter().enumerate() {
            rank[s as usize] = r as u32;
        }
        self.isolation_fixes = Grid::new(fuser.config.isolation_m, fuser.config.isolation_s);
        for (f, fix) in self.fixes.iter().enumerate() {
            self.isolation_fixes
                .insert(f as u32, fix.pos, fix.t0, fix.t1);
        }

        // The dismissal context of each group that has one first (in parallel): then the
        // grids it reads go, and the incidents reuse their memory.
        let contexts: Vec<(u32, DismissalContext)> = {
            let this = &self;
            (0..groups as usize)
                .into_par_iter()
                .with_min_len(1024)
                .map_init(Vec::new, |hits, g| {
                    if !shared[g].may_be_dismissed() {
                        return None;
                    }
                    // Ids ascend, fixes (≥ n) last.
                    let ids = &flat[start[g] as usize..start[g + 1] as usize];
                    let real = &ids[..ids.partition_point(|&i| (i as usize) < n)];
                    let context = this.context(real, shared[g], hits);
                    (context != DismissalContext::default()).then_some((g as u32, context))
                })
                .flatten()
                .collect()
        };
        drop(shared);
        for grid in [
            &mut self.bearing_grid,
            &mut self.activity_grid,
            &mut self.coverage_grid,
            &mut self.observer_grid,
        ] {
            *grid = Cow::Owned(grid.empty_like());
        }
        self.isolation_fixes = Grid::new(1.0, 1.0);
        // Asked for every incident, found for few: a bit first.
        let mut with_context = BitSet::new(groups as usize);
        for &(g, _) in &contexts {
            with_context.insert(g);
        }
        let context_of = |g: u32| {
            if !with_context.contains(g) {
                return DismissalContext::default();
            }
            contexts
                .binary_search_by_key(&g, |c| c.0)
                .map_or_else(|_| DismissalContext::default(), |k| contexts[k].1.clone())
        };
        let tables = Tables {
            sound_speed,
            rules,
            rank,
        };
        // Each group's key first (small pairs, sorted; keys are distinct), then each incident
        // built on its own (in parallel) straight into its place in key order.
        let this = &self;
        let mut order: Vec<(IncidentKey<'_>, u32)> = (0..groups as usize)
            .into_par_iter()
            .with_min_len(1024)
            .filter_map(|g| {
                let ids = &flat[start[g] as usize..start[g + 1] as usize];
                this.group_key(ids, &tables.rank).map(|key| (key, g as u32))
            })
            .collect();
        order.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let incidents: Vec<FusedIncident> = order
            .par_iter()
            .enumerate()
            .with_min_len(1024)
            .map_init(Scratch::default, |scratch, (k, &(_, g))| {
                let ids = &flat[start[g as usize] as usize..start[g as usize + 1] as usize];
                this.incident(k, ids, context_of(g), &tables, scratch)
            })
            .collect();
        drop(order);
        let rules = tables.rules;
        let equipment_groups = self.equipment_groups(&incidents);
        Fusion {
            equipment: equipment::estimates(&equipment_groups, &incidents),
            equipment_groups,
            incidents,
            grading: rules,
        }
    }

    /// What the dismissal rules need (see `grading.rs`), for the real members of a group
    /// (at least one) and what they share.
    fn context(&self, real: &[u32], shared: Shared, hits: &mut Vec<u32>) -> DismissalContext {
        let fuser = self.fuser;
        let config = &fuser.config;
        let mut context = DismissalContext::default();
        if shared.thermal_only {
            // The first report or fix found near enough settles it: the scans stop there.
            let mut isolated = !real.iter().any(|&i| {
                let node = &fuser.nodes[i as usize];
                if node.u_m <= 0.0 {
                    return false;
                }
                let (t0, t1) = (node.t0 - config.isolation_s, node.t1 + config.isolation_s);
                let near = |other: &Node| {
                    other.t0 <= t1
                        && t0 <= other.t1
                        && within_m(&node.v, &other.v, config.isolation_m).is_some()
                };
                self.activity_grid
                    .any(node.pos, config.isolation_m, t0, t1, |m| {
                        near(&fuser.nodes[m as usize])
                    })
                    || self
                        .isolation_fixes
                        .any(node.pos, config.isolation_m, t0, t1, |f| {
                            near(&self.fixes[f as usize])
                        })
            });
            // Silence means something only where other kinds of report are made at all.
            if isolated {
                let node = &fuser.nodes[real[0] as usize];
                let (t0, t1) = (node.t0 - config.coverage_s, node.t1 + config.coverage_s);
                isolated = self
                    .coverage_grid
                    .any(node.pos, config.coverage_m, t0, t1, |_| true);
            }
            context.isolated = isolated;
        }
        if shared.one_discipline && (shared.party_only || shared.low_grade_only) {
            // Members all share one discipline: a report of another is never a member.
            let other_discipline = |m: u32| {
                Some(fuser.source_info[fuser.nodes[m as usize].source as usize].discipline)
                    != shared.discipline
            };
            let mut names: Vec<u32> = Vec::new();
            let full = |names: &Vec<u32>| names.len() >= DismissalContext::MAX_OBSERVERS;
            'members: for &i in real {
                let node = &fuser.nodes[i as usize];
                if node.u_m <= 0.0 {
                    continue;
                }
                let (t0, t1) = (
                    node.t0 - config.contradiction_s,
                    node.t1 + config.contradiction_s,
                );
                Fuser::candidates(
                    &self.observer_grid,
                    node,
                    config.contradiction_m,
                    t0,
                    t1,
                    hits,
                );
                for &m in hits.iter() {
                    let other = &fuser.nodes[m as usize];
                    if !names.contains(&other.source)
                        && other_discipline(m)
                        && within_m(&node.v, &other.v, config.contradiction_m).is_some()
                    {
                        names.push(other.source);
                        if full(&names) {
                            break 'members;
                        }
                    }
                }
                // Direction finders (acoustic arrays, ...) watch as far as they hear: one
                // that reported at the time, with this place in range, was listening.
                if let LinkRule::Evidence(rule) = &config.link {
                    Fuser::candidates(
                        &self.bearing_grid,
                        node,
                        fuser.bearing_max_range_m,
                        t0,
                        t1,
                        hits,
                    );
                    for &m in hits.iter() {
                        let other = &fuser.nodes[m as usize];
                        if names.contains(&other.source)
                            || !other_discipline(m)
                            || fuser.source_info[other.source as usize].discipline
                                == Discipline::Party
                        {
                            continue;
                        }
                        let Some(bearing) = fuser.bearing_of(m) else {
                            continue;
                        };
                        if within_m(&node.v, &other.v, bearing_range_m(&bearing, rule)).is_some() {
                            names.push(other.source);
                            if full(&names) {
                                break 'members;
                            }
                        }
                    }
                }
            }
            let mut names: Vec<String> = names
                .into_iter()
                .map(|s| fuser.source_names[s as usize].to_string())
                .collect();
            names.sort_unstable();
            names.dedup();
            names.truncate(DismissalContext::MAX_OBSERVERS);
            context.observers_nearby = names;
        }
        context
    }

    fn equipment_groups(&mut self, incidents: &[FusedIncident]) -> Vec<EquipmentGroup> {
        let fuser = self.fuser;
        // Members by caller index → node.
        let mut node_of: FxHashMap<usize, u32> = FxHashMap::default();
        for (i, node) in fuser.nodes.iter().enumerate() {
            if node.equipment_class.is_some()
                && matches!(node.kind, Kind::EquipmentSighting | Kind::Movement)
            {
                node_of.insert(node.index, i as u32);
            }
        }
        let mut groups = Vec::new();
        if node_of.is_empty() {
            return groups;
        }
        for (position, incident) in incidents.iter().enumerate() {
            if !incident
                .kinds
                .iter()
                .any(|k| matches!(k, Kind::EquipmentSighting | Kind::Movement))
            {
                continue;
            }
            let mut by_class: std::collections::BTreeMap<
                EquipmentClass,
                (u32, Vec<usize>, Vec<u32>),
            > = Default::default();
            for &m in &incident.members {
                let Some(&i) = node_of.get(&m) else {
                    continue;
                };
                let node = &fuser.nodes[i as usize];
                let Some(class) = node.equipment_class else {
                    continue;
                };
                let facts = &fuser.facts[i as usize];
                let entry = by_class.entry(class).or_default();
                entry.0 = entry.0.max(facts.equipment_count);
                entry.1.push(m);
                if let Some(p) = facts.party.get() {
                    entry.2.push(p);
                }
            }
            for (class, (count, evidence, parties)) in by_class {
                let (zone, territory) = match (fuser.config.assess, incident.location) {
                    (Some(assess), Some((p, _))) => assess(p),
                    _ => ("unassessed".to_owned(), "unknown".to_owned()),
                };
                let party = most_frequent(&parties, &fuser.party_names).unwrap_or(territory);
                groups.push(EquipmentGroup {
                    incident: position,
                    zone,
                    party,
                    class,
                    count,
                    evidence,
                });
            }
        }
        groups
    }
}

/// A located member or fix of an incident: (caller index, whether a fix, node id).
type Located = (usize, bool, u32);

/// The located members and fixes of some incidents: by root (ascending), then caller index.
struct LocatedMembers {
    /// Each member's root.
    roots: Vec<u32>,
    members: Vec<Located>,
}

impl LocatedMembers {
    /// The members of the incident of `root`, if it has any.
    fn get(&self, root: u32) -> Option<&[Located]> {
        let start = self.roots.partition_point(|&r| r < root);
        let end = start + self.roots[start..].partition_point(|&r| r == root);
        (start < end).then(|| &self.members[start..end])
    }

    /// Each incident with its members, by root.
    fn groups(&self) -> impl Iterator<Item = (u32, &[Located])> {
        let mut start = 0;
        self.roots.chunk_by(|a, b| a == b).map(move |run| {
            let members = &self.members[start..start + run.len()];
            start += run.len();
            (run[0], members)
        })
    }
}

/// The order of incidents: their earliest member's (time, source by name, source_ref,
/// caller index).
type IncidentKey<'f> = (DateTime<Utc>, u32, &'f str, usize);

/// What building every incident of a snapshot shares.
struct Tables {
    sound_speed: f64,
    rules: GradingRules,
    /// Each source's rank in name order.
    rank: Vec<u32>,
}

/// A set of small integers below a bound, one bit each: a look-up that stays in cache.
struct BitSet(Vec<u64>);

impl BitSet {
    fn new(bound: usize) -> BitSet {
        BitSet(vec![0; bound.div_ceil(64)])
    }

    fn insert(&mut self, i: u32) {
        self.0[i as usize / 64] |= 1 << (i % 64);
    }

    fn contains(&self, i: u32) -> bool {
        self.0[i as usize / 64] & (1 << (i % 64)) != 0
    }
}

/// What the reports of a group (fixes apart) share, as far as the dismissal rules ask (see
/// [`Snapshot::context`]).
#[derive(Clone, Copy, Default)]
struct Shared {
    /// The first report's discipline (`None` until a report is added; the flags below mean
    /// nothing until then).
    discipline: Option<Discipline>,
    thermal_only: bool,
    party_only: bool,
    low_grade_only: bool,
    one_discipline: bool,
}

impl Shared {
    fn add(&mut self, kind: Kind, info: SourceInfo) {
        let thermal = kind == Kind::ThermalAnomaly;
        let party = info.discipline == Discipline::Party;
        let low_grade = info.reliability >= Reliability::D;
        if self.discipline.is_some() {
            self.thermal_only &= thermal;
            self.party_only &= party;
            self.low_grade_only &= low_grade;
            self.one_discipline &= self.discipline == Some(info.discipline);
        } else {
            *self = Shared {
                thermal_only: thermal,
                party_only: party,
                low_grade_only: low_grade,
                discipline: Some(info.discipline),
                one_discipline: true,
            };
        }
    }

    /// Whether [`Snapshot::context`] may find anything: only heat spots (a field fire?), or
    /// one discipline's claims or low-grade reports (borne out?).
    fn may_be_dismissed(&self) -> bool {
        self.discipline.is_some()
            && (self.thermal_only
                || (self.one_discipline && (self.party_only || self.low_grade_only)))
    }
}

/// Buffers reused from one incident to the next (one set per worker).
#[derive(Default)]
struct Scratch {
    located: Vec<(usize, bool, u32)>,
    by_source: Vec<u32>,
}

fn most_frequent(ids: &[u32], names: &[String]) -> Option<String> {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for &p in ids {
        if let Some(name) = names.get(p as usize) {
            *counts.entry(name.as_str()).or_default() += 1;
        }
    }
    let best = counts.values().copied().max()?;
    counts
        .into_iter()
        .find(|(_, c)| *c == best)
        .map(|(name, _)| name.to_owned())
}

/// How well `b` matches `a`: their distance in units of the combined uncertainty, plus the
/// weighted time offset. Smaller is better.
fn score(a: &Node, b: &Node) -> f64 {
    let d = EARTH_RADIUS_M * central_angle_rad(UnitVector(a.v), UnitVector(b.v));
    d / a.u_m.hypot(b.u_m) + time_offset(a, b)
}

/// Two free bearings whose lines cross: (how far apart their event times are, the lower
/// caller index, the higher, their positions in `Fuser::bearings`).
type CrossingPair = (f64, usize, usize, usize, usize);

/// A candidate's (score, time, caller index, node id): smaller is better.
type ScoreKey = (f64, f64, usize, u32);

/// `a < b` for score keys; scores compared totally.
fn key_lt(a: ScoreKey, b: ScoreKey) -> bool {
    a.0.total_cmp(&b.0)
        .then(a.1.total_cmp(&b.1))
        .then(a.2.cmp(&b.2))
        .then(a.3.cmp(&b.3))
        .is_lt()
}

/// How far apart two windows' middles are, in units of their half-widths summed, weighted
/// by a quarter: windows carry slack, so where a report falls inside one says little.
fn time_offset(a: &Node, b: &Node) -> f64 {
    let (ma, mb) = ((a.t0 + a.t1) / 2.0, (b.t0 + b.t1) / 2.0);
    let half = ((a.t1 - a.t0) + (b.t1 - b.t0)) / 2.0;
    if half > 0.0 {
        0.25 * (ma - mb).abs() / half
    } else {
        0.0
    }
}

/// The kinds a node stands for: its own, and a fix's other kinds.
fn kinds_of(node: &Node) -> impl Iterator<Item = Kind> {
    let mut kinds = node.other_kinds;
    kinds.insert(node.kind);
    kinds.iter()
}

/// Whether a node's position is a location of its incident (not a bearing's observer).
fn has_location(node: &Node) -> bool {
    matches!(node.role, Role::Anchor | Role::Coarse | Role::Fix)
        || (node.role == Role::Alone && node.u_m > 0.0)
}

/// The inverse-variance weighted mean position of nodes and its ~95% radius: the combined
/// uncertainty and the weighted spread of the members around it, added in quadrature.
fn weighted_location<'n>(nodes: impl Iterator<Item = &'n Node> + Clone) -> Option<(LonLat, f64)> {
    let first = nodes.clone().next()?;
    let mut s = [0.0; 3];
    let mut weight = 0.0;
    for node in nodes.clone() {
        let w = 1.0 / (node.u_m * node.u_m);
        s = [
            s[0] + w * node.v[0],
            s[1] + w * node.v[1],
            s[2] + w * node.v[2],
        ];
        weight += w;
    }
    let norm = (s[0] * s[0] + s[1] * s[1] + s[2] * s[2]).sqrt();
    if norm.is_nan() || norm <= 0.0 || weight.is_nan() || weight <= 0.0 {
        return Some((first.pos, first.u_m));
    }
    let centre = [s[0] / norm, s[1] / norm, s[2] / norm];
    let position = LonLat::new(
        centre[1].atan2(centre[0]).to_degrees(),
        centre[2].clamp(-1.0, 1.0).asin().to_degrees(),
    );
    let mut spread = 0.0;
    for node in nodes {
        let d = EARTH_RADIUS_M * central_angle_rad(UnitVector(centre), UnitVector(node.v));
        spread += d * d / (node.u_m * node.u_m);
    }
    let uncertainty = (1.0 / weight + spread / weight).sqrt();
    Some((position, uncertainty))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn located_members_are_found_by_root_and_grouped_in_order() {
        let located = LocatedMembers {
            roots: vec![2, 2, 5, 9, 9, 9],
            members: vec![
                (0, false, 2),
                (4, true, 7),
                (1, false, 5),
                (3, false, 9),
                (6, false, 11),
                (8, false, 12),
            ],
        };
        assert_eq!(located.get(2), Some(&located.members[0..2]));
        assert_eq!(located.get(5), Some(&located.members[2..3]));
        assert_eq!(located.get(9), Some(&located.members[3..6]));
        for absent in [0, 1, 3, 8, 10, u32::MAX] {
            assert_eq!(located.get(absent), None);
        }
        let groups: Vec<(u32, usize)> = located.groups().map(|(r, m)| (r, m.len())).collect();
        assert_eq!(groups, vec![(2, 2), (5, 1), (9, 3)]);
    }

    #[test]
    fn flattened_sets_keep_their_partition_and_point_at_roots() {
        let mut sets = DisjointSets::default();
        for _ in 0..64 {
            sets.push();
        }
        // Sets of equal size merged pairwise, by their roots: trees five steps deep.
        for step in [1u32, 2, 4, 8, 16] {
            for i in (0..32).step_by(2 * step as usize) {
                sets.union(i, i + step);
            }
        }
        sets.union(40, 41);
        assert!((0..64).any(|i| sets.parent[i as usize] != sets.root(i)));
        let before: Vec<u32> = (0..64).map(|i| sets.root(i)).collect();
        sets.flatten();
        for i in 0..64u32 {
            assert_eq!(sets.root(i), before[i as usize]);
            assert_eq!(
                sets.parent[i as usize], before[i as usize],
                "one step to the root"
            );
        }
        assert_eq!(before[31], before[0]);
        assert_ne!(before[32], before[0]);
    }
}
