//! The demo's data, embedded from `data/` (copies of the shared files, used as is).

use serde::Deserialize;
use serde_json::Value;
use std::sync::OnceLock;

#[derive(Deserialize)]
pub struct Product {
    pub id: String,
}

#[derive(Deserialize)]
struct Catalogue {
    products: Vec<Product>,
}

/// The catalogue's products.
pub fn products() -> &'static [Product] {
    static P: OnceLock<Vec<Product>> = OnceLock::new();
    P.get_or_init(|| serde_json::from_str::<Catalogue>(include_str!("../data/products.json")).expect("embedded products.json").products)
}

/// The shoppers used at checkout (email, address, currency, credit card).
pub fn people() -> &'static [Value] {
    static P: OnceLock<Vec<Value>> = OnceLock::new();
    P.get_or_init(|| serde_json::from_str(include_str!("../data/people.json")).expect("embedded people.json"))
}

/// Ad categories the demo asks for; `None` asks without one.
pub const CATEGORIES: [Option<&str>; 7] =
    [Some("binoculars"), Some("telescopes"), Some("accessories"), Some("assembly"), Some("travel"), Some("books"), None];

/// Quantities added to the cart.
pub const QUANTITIES: [u32; 6] = [1, 2, 3, 4, 5, 10];
