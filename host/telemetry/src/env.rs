//! Reading the `OTEL_*` variables wasp interprets itself (the rest is read
//! by the SDK and opentelemetry-otlp).

use crate::ConfigError;
use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exporter {
    Otlp,
    Console,
    None,
}

impl Exporter {
    pub fn name(self) -> &'static str {
        match self {
            Exporter::Otlp => "otlp",
            Exporter::Console => "console",
            Exporter::None => "none",
        }
    }
}

pub(crate) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// `OTEL_{SIGNAL}_EXPORTER`: otlp, console (also `stdout`, `logging`), none.
/// Unset: otlp when an OTLP endpoint is configured for the signal, else none
/// (a load test exports nothing unless told where).
pub(crate) fn exporter(var: &str, signal: &str) -> Result<Exporter, ConfigError> {
    match env(var).as_deref().map(str::to_ascii_lowercase).as_deref() {
        None if env("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() || env(&format!("OTEL_EXPORTER_OTLP_{signal}_ENDPOINT")).is_some() => Ok(Exporter::Otlp),
        None => Ok(Exporter::None),
        Some("otlp") => Ok(Exporter::Otlp),
        Some("console") | Some("stdout") | Some("logging") => Ok(Exporter::Console),
        Some("none") => Ok(Exporter::None),
        Some(other) => Err(ConfigError(format!("{var}={other}: expected otlp, console or none"))),
    }
}

/// Checks the OTLP protocol variables of a signal: `grpc`, `http/protobuf` or
/// `http/json`, or unset. A typo must not silently pick another protocol.
pub(crate) fn check_protocol(signal: &str) -> Result<(), ConfigError> {
    for var in [format!("OTEL_EXPORTER_OTLP_{signal}_PROTOCOL"), "OTEL_EXPORTER_OTLP_PROTOCOL".to_string()] {
        if let Some(v) = env(&var) {
            if !matches!(v.as_str(), "grpc" | "http/protobuf" | "http/json") {
                return Err(ConfigError(format!("{var}={v}: expected grpc, http/protobuf or http/json")));
            }
        }
    }
    Ok(())
}

/// True when no protocol is set for the signal: then wasp speaks gRPC, like the
/// OpenTelemetry demo's load generator (whose env sets only the :4317 endpoint).
pub(crate) fn protocol_unset(signal: &str) -> bool {
    env(&format!("OTEL_EXPORTER_OTLP_{signal}_PROTOCOL")).is_none() && env("OTEL_EXPORTER_OTLP_PROTOCOL").is_none()
}

/// The resource: SDK detectors (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`),
/// with `service.name=wasp` unless the environment names the service.
pub fn resource() -> Resource {
    let named =
        env("OTEL_SERVICE_NAME").is_some() || env("OTEL_RESOURCE_ATTRIBUTES").is_some_and(|a| a.split(',').any(|kv| kv.trim().starts_with("service.name=")));
    let b = Resource::builder().with_attribute(KeyValue::new("wasp.version", env!("CARGO_PKG_VERSION")));
    if named {
        b.build()
    } else {
        b.with_service_name("wasp").build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exporter_names_parse() {
        std::env::set_var("WASP_TEST_EXPORTER_A", "console");
        assert_eq!(exporter("WASP_TEST_EXPORTER_A", "X").unwrap(), Exporter::Console);
        std::env::set_var("WASP_TEST_EXPORTER_A", "None");
        assert_eq!(exporter("WASP_TEST_EXPORTER_A", "X").unwrap(), Exporter::None);
        // unset, and no endpoint for signal WASPTEST: nothing is exported
        assert_eq!(exporter("WASP_TEST_EXPORTER_UNSET", "WASPTEST").unwrap(), Exporter::None);
        std::env::set_var("OTEL_EXPORTER_OTLP_WASPTEST_ENDPOINT", "http://127.0.0.1:1");
        assert_eq!(exporter("WASP_TEST_EXPORTER_UNSET", "WASPTEST").unwrap(), Exporter::Otlp);
        std::env::set_var("WASP_TEST_EXPORTER_A", "zipkin");
        assert!(exporter("WASP_TEST_EXPORTER_A", "X").unwrap_err().0.contains("otlp, console or none"));
        std::env::set_var("OTEL_EXPORTER_OTLP_WASPTEST_PROTOCOL", "htp/protobuf");
        assert!(check_protocol("WASPTEST").unwrap_err().0.starts_with("OTEL_EXPORTER_OTLP_WASPTEST_PROTOCOL=htp/protobuf"));
        std::env::set_var("OTEL_EXPORTER_OTLP_WASPTEST_PROTOCOL", "http/protobuf");
        assert!(check_protocol("WASPTEST").is_ok());
    }
}
