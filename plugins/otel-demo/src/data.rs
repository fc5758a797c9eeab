//! The demo's data, taken from `data/` (copies of the shared files, used as is)
//! by build.rs: product ids and the checkout people.

include!(concat!(env!("OUT_DIR"), "/data.rs"));

/// Ad categories the demo asks for; `None` asks without one.
pub const CATEGORIES: [Option<&str>; 7] = [Some("binoculars"), Some("telescopes"), Some("accessories"), Some("assembly"), Some("travel"), Some("books"), None];

/// Quantities added to the cart.
pub const QUANTITIES: [u32; 6] = [1, 2, 3, 4, 5, 10];
