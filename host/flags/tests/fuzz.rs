//! Arbitrary flag files and evaluation contexts into flagd's engine: never a
//! panic (a bad file is a usage error, a bad context an OFREP error).

use proptest::prelude::*;
use wasp_flags::FileProvider;

const DEMO: &str = r#"{"flags":{"n":{"state":"ENABLED","variants":{"a":1,"b":5},"defaultVariant":"a",
  "targeting":{"if":[{"in":[{"var":"product_id"},["X","Y"]]},"b","a"]}}}}"#;

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn flag_files_never_panic(text in prop_oneof![".{0,200}", r#"\{"flags":\{"[a-z]{1,4}":\{"state":"(ENABLED|DISABLED|x)","variants":\{"[a-z]":[0-9a-z"\[\]{}]{1,6}\},"defaultVariant":"[a-z]{0,2}"\}\}\}"#]) {
        if let Ok(p) = FileProvider::from_text(&text) {
            let _ = p.evaluate_json("a", &serde_json::json!({}));
        }
    }

    #[test]
    fn contexts_never_panic(key in "[a-z]{0,3}", field in "[a-z_]{0,12}", value in prop_oneof![".{0,8}".prop_map(serde_json::Value::from), any::<i64>().prop_map(serde_json::Value::from), any::<bool>().prop_map(serde_json::Value::from)]) {
        let p = FileProvider::from_text(DEMO).unwrap();
        let mut ctx = serde_json::Map::new();
        ctx.insert(field, value);
        let _ = p.evaluate_json(&key, &serde_json::Value::Object(ctx.clone()));
        let _ = p.evaluate_json("n", &serde_json::Value::Object(ctx));
    }
}
