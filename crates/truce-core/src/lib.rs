//! The domain model of Truce: observations, agreements, assessments and the replay summary.
//!
//! This crate is pure: it reads no files, opens no connections and reads no clock. Time is
//! always a parameter, bytes arrive already parsed (see `truce-formats`).

pub mod agreement;
pub mod assess;
pub mod evaluation;
pub mod fusion;
pub mod incidents;
pub mod observation;
pub mod points;
pub mod replay;

pub use agreement::{Agreement, AgreementGeometry, FusionParams, Party, PartySide, Zone};
pub use assess::{Assessment, Assessor, ZoneRef};
pub use observation::{
    Bearing, Equipment, EquipmentClass, Evidence, Kind, KindSet, Location, Observation,
    ObservationKey,
};
