# wasp as the OpenTelemetry demo's load generator: a drop-in for its
# `load-generator` container, honouring the same environment (LOCUST_*, OTEL_*,
# FLAGD_HOST/FLAGD_OFREP_PORT). Build: docker build -t wasp-load-generator .

FROM rust:1.95-bookworm AS build
RUN rustup target add wasm32-wasip2
WORKDIR /src
COPY . .
# No debug info in the image: a small, stripped binary.
ENV CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=true CARGO_TARGET_DIR=/src/target
RUN cargo build --release --locked -p wasp \
 && cargo build --release --locked --target wasm32-wasip2 -p otel-demo

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/wasp /usr/local/bin/wasp
COPY --from=build /src/target/wasm32-wasip2/release/otel_demo.wasm /usr/local/share/wasp/otel-demo.wasm
# The demo's contract: users from LOCUST_USERS, following the loadGeneratorVUs
# flag; traffic paused by loadGeneratorTraffic; with LOCUST_HEADLESS=false the
# web UI and API on LOCUST_WEB_PORT (8089), on every address so that the demo's
# proxy reaches it (at /loadgen/; every link is relative). LOCUST_AUTOSTART=true
# starts the run at once, as the demo asks; without it the UI's form does.
ENV WASP_PLUGIN=/usr/local/share/wasp/otel-demo.wasm \
    WASP_USERS_FLAG=loadGeneratorVUs \
    WASP_PAUSE_FLAG=loadGeneratorTraffic \
    WASP_WEB_HOST=0.0.0.0 \
    OTEL_SERVICE_NAME=load-generator
EXPOSE 8089
USER 65532:65532
ENTRYPOINT ["wasp", "run"]
