//! The observation record: one report by one source (see `shared/spec/observation.md`).

use chrono::{DateTime, Utc};
use truce_geo::LonLat;

/// What was observed. The names are the wire names of `observation.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Explosion,
    OutgoingFire,
    SmallArmsFire,
    ThermalAnomaly,
    EquipmentSighting,
    TroopPresence,
    Movement,
    AirActivity,
    MonitorRestriction,
    CivilianHarm,
    InfrastructureDamage,
    Notification,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::Explosion,
        Kind::OutgoingFire,
        Kind::SmallArmsFire,
        Kind::ThermalAnomaly,
        Kind::EquipmentSighting,
        Kind::TroopPresence,
        Kind::Movement,
        Kind::AirActivity,
        Kind::MonitorRestriction,
        Kind::CivilianHarm,
        Kind::InfrastructureDamage,
        Kind::Notification,
    ];

    /// The wire name, e.g. `thermal_anomaly`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Explosion => "explosion",
            Kind::OutgoingFire => "outgoing_fire",
            Kind::SmallArmsFire => "small_arms_fire",
            Kind::ThermalAnomaly => "thermal_anomaly",
            Kind::EquipmentSighting => "equipment_sighting",
            Kind::TroopPresence => "troop_presence",
            Kind::Movement => "movement",
            Kind::AirActivity => "air_activity",
            Kind::MonitorRestriction => "monitor_restriction",
            Kind::CivilianHarm => "civilian_harm",
            Kind::InfrastructureDamage => "infrastructure_damage",
            Kind::Notification => "notification",
        }
    }

    /// Parses a wire name; `None` for anything not in the vocabulary.
    pub fn from_wire(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// A set of kinds, one bit each: no allocation, iterated in [`Kind`] order (so a set prints
/// and compares as the sorted list of its kinds would).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct KindSet(u16);

const _: () = assert!(Kind::ALL.len() <= 16);

impl KindSet {
    pub const EMPTY: KindSet = KindSet(0);

    pub fn of(kind: Kind) -> KindSet {
        KindSet(1 << kind as u16)
    }

    pub fn insert(&mut self, kind: Kind) {
        self.0 |= 1 << kind as u16;
    }

    pub fn contains(self, kind: Kind) -> bool {
        self.0 & (1 << kind as u16) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The set without `kind`.
    pub fn without(self, kind: Kind) -> KindSet {
        KindSet(self.0 & !(1 << kind as u16))
    }

    /// The kinds in [`Kind`] order.
    pub fn iter(self) -> impl Iterator<Item = Kind> {
        Kind::ALL.into_iter().filter(move |&k| self.contains(k))
    }
}

impl FromIterator<Kind> for KindSet {
    fn from_iter<I: IntoIterator<Item = Kind>>(kinds: I) -> KindSet {
        let mut set = KindSet::EMPTY;
        for kind in kinds {
            set.insert(kind);
        }
        set
    }
}

impl std::fmt::Debug for KindSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Military equipment classes. The names are the wire names of `observation.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EquipmentClass {
    Tank,
    ApcIfv,
    ArtilleryGe100mm,
    ArtilleryLt100mm,
    Mortar,
    Mlrs,
    MlrsHeavy,
    TacticalMissile,
    AirDefence,
    CombatAircraft,
    Helicopter,
    Uav,
    Other,
}

impl EquipmentClass {
    pub const ALL: [EquipmentClass; 13] = [
        EquipmentClass::Tank,
        EquipmentClass::ApcIfv,
        EquipmentClass::ArtilleryGe100mm,
        EquipmentClass::ArtilleryLt100mm,
        EquipmentClass::Mortar,
        EquipmentClass::Mlrs,
        EquipmentClass::MlrsHeavy,
        EquipmentClass::TacticalMissile,
        EquipmentClass::AirDefence,
        EquipmentClass::CombatAircraft,
        EquipmentClass::Helicopter,
        EquipmentClass::Uav,
        EquipmentClass::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EquipmentClass::Tank => "tank",
            EquipmentClass::ApcIfv => "apc_ifv",
            EquipmentClass::ArtilleryGe100mm => "artillery_ge_100mm",
            EquipmentClass::ArtilleryLt100mm => "artillery_lt_100mm",
            EquipmentClass::Mortar => "mortar",
            EquipmentClass::Mlrs => "mlrs",
            EquipmentClass::MlrsHeavy => "mlrs_heavy",
            EquipmentClass::TacticalMissile => "tactical_missile",
            EquipmentClass::AirDefence => "air_defence",
            EquipmentClass::CombatAircraft => "combat_aircraft",
            EquipmentClass::Helicopter => "helicopter",
            EquipmentClass::Uav => "uav",
            EquipmentClass::Other => "other",
        }
    }

    pub fn from_wire(name: &str) -> Option<EquipmentClass> {
        EquipmentClass::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// A located report: WGS84 position and the ~95% radius of its uncertainty, in metres.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Location {
    pub position: LonLat,
    pub uncertainty_m: f64,
}

/// A direction-only report: azimuth clockwise from true north, in degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bearing {
    pub observer: LonLat,
    pub azimuth_deg: f64,
    pub sigma_deg: f64,
    pub max_range_m: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Equipment {
    pub class: EquipmentClass,
    pub count: u32,
}

/// A content-addressed attachment; the bytes are stored separately.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    pub media_type: String,
    pub name: Option<String>,
    pub captured_at: Option<DateTime<Utc>>,
}

/// The idempotency key of an observation: (`source`, `source_ref`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObservationKey {
    pub source: String,
    pub source_ref: String,
}

/// One report by one source. Immutable: a correction is a new revision, never an edit.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    pub key: ObservationKey,
    pub kind: Kind,
    /// When it happened (start), in UTC.
    pub observed_at: DateTime<Utc>,
    pub observed_until: Option<DateTime<Utc>>,
    pub location: Option<Location>,
    pub bearing: Option<Bearing>,
    /// The party the source attributes the activity to, if it asserts one.
    pub party: Option<String>,
    pub equipment: Option<Equipment>,
    /// Admiralty information credibility, 1 (confirmed) … 6 (cannot be judged).
    pub credibility: Option<u8>,
    pub text: Option<String>,
    pub evidence: Vec<Evidence>,
    /// Source-specific extra fields, kept verbatim.
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

impl Observation {
    /// A report of `kind` at `observed_at` with nothing else said: no location, bearing,
    /// party, equipment, credibility, text, evidence or attributes. Set the fields that apply.
    pub fn new(key: ObservationKey, kind: Kind, observed_at: DateTime<Utc>) -> Observation {
        Observation {
            key,
            kind,
            observed_at,
            observed_until: None,
            location: None,
            bearing: None,
            party: None,
            equipment: None,
            credibility: None,
            text: None,
            evidence: Vec::new(),
            attributes: serde_json::Map::new(),
        }
    }

    /// [`Observation::new`] at a place: `position` with its ~95% radius in metres.
    pub fn located(
        key: ObservationKey,
        kind: Kind,
        observed_at: DateTime<Utc>,
        position: LonLat,
        uncertainty_m: f64,
    ) -> Observation {
        Observation {
            location: Some(Location {
                position,
                uncertainty_m,
            }),
            ..Observation::new(key, kind, observed_at)
        }
    }

    /// The position, if the observation is located (bearing-only reports are not).
    pub fn position(&self) -> Option<LonLat> {
        self.location.map(|l| l.position)
    }
}
