// What the two JavaScript shoppers share (this folder's, for wasp:plugin@0.1,
// and plugins/js/otel-demo-async, for 0.2): the demo's choices, its user ids
// and its table of tasks. No SDK here: each shopper brings its own.
export { PRODUCT_IDS, PEOPLE } from "./data.gen.js";

export const CATEGORIES = ["binoculars", "telescopes", "accessories", "assembly", "travel", "books", null];
export const QUANTITIES = [1, 2, 3, 4, 5, 10];
export const choice = (xs) => xs[Math.floor(Math.random() * xs.length)];

/**
 * Time-based (version 1) UUIDs from `hex(n)`, n random bytes as hex: 100 ns
 * ticks since 1582-10-15, a random clock sequence and a random node id with
 * the multicast bit set.
 */
export function timeUuids(hex) {
  return () => {
    const ticks = BigInt(Date.now()) * 10000n + 0x01b21dd213814000n;
    const low = (ticks & 0xffffffffn).toString(16).padStart(8, "0");
    const mid = ((ticks >> 32n) & 0xffffn).toString(16).padStart(4, "0");
    const high = (((ticks >> 48n) & 0x0fffn) | 0x1000n).toString(16).padStart(4, "0");
    const seq = ((parseInt(hex(2), 16) & 0x3fff) | 0x8000).toString(16);
    const node = (parseInt(hex(1), 16) | 1).toString(16).padStart(2, "0") + hex(5);
    return `${low}-${mid}-${high}-${seq}-${node}`;
  };
}

/**
 * The demo's nine tasks by weight, made with the SDK's `task`; `uuid1()`
 * names the user of a cart added to outside a checkout.
 */
export function shopperTasks(task, uuid1) {
  return [
    task("index", 1, (u) => u.index(false)),
    task("browse_product", 10, (u) => u.browseProduct()),
    task("get_recommendations", 3, (u) => u.getRecommendations()),
    task("get_ads", 3, (u) => u.getAds()),
    task("view_cart", 3, (u) => u.viewCart()),
    task("add_to_cart", 2, (u) => u.addToCart(uuid1(), false)),
    task("checkout", 1, (u) => u.checkout()),
    task("checkout_multi", 1, (u) => u.checkoutMulti()),
    task("flood_home", 5, (u) => u.floodHome()),
  ];
}
