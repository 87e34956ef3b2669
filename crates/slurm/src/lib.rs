//! Steward's client of a Slurm cluster.
//!
//! Slurm stays the authority: this crate reads its nodes, partitions, jobs and reservations and
//! asks it to change them; it decides nothing. Reads and job operations go through slurmrestd
//! with a JWT ([`rest`]); what a slurmrestd version cannot do (reservations and node states
//! before v0.0.40) and every read when no slurmrestd is reachable go through the Slurm CLI on
//! this host ([`cli`]). The answers of both are the same JSON shapes, read leniently across
//! plugin versions by [`model`].

pub mod array;
pub mod cli;
pub mod client;
pub mod error;
pub mod events;
pub mod local_cluster;
pub mod mapping;
pub mod model;
pub mod number;
pub mod rest;
pub mod submit;
pub mod version;

pub use client::{Check, ReservationSettings, SlurmClient};
pub use error::SlurmError;
