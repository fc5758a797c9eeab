//! # wasp-cluster
//!
//! What a run spread over several processes needs beyond its own share of
//! the plan (the runner's `Segment`):
//!
//! - [`peers`]: the shards' addresses, written once with a `{0..N-1}` range;
//! - [`barrier`]: every shard serves its readiness and starts its load when
//!   all peers are ready, at one agreed instant;
//! - [`start`]: `--start-at`, an instant or a delay;
//! - [`k8s`]: the Kubernetes objects of a sharded run — an Indexed Job, a
//!   headless Service for the peers' names, the plugin, the merge.
//!
//! It knows no Wasm and no load: it only coordinates when processes start.

pub mod barrier;
pub mod k8s;
pub mod peers;
pub mod start;
