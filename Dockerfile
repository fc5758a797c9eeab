# wasp as the OpenTelemetry demo's load generator: a drop-in for its
# `load-generator` container, honouring the same environment (LOCUST_*, OTEL_*,
# FLAGD_HOST/FLAGD_OFREP_PORT).
#
#   From source:          docker build -t wasp-load-generator .
#   From built binaries:  put `wasp` and `otel-demo.wasm` in dist/, then
#                         docker build --target prebuilt -t wasp-load-generator .
#
# Build arguments: BUILDER and RUNTIME name the base images (any Debian-like
# image works as RUNTIME, e.g. one made locally with debootstrap + podman
# import); CA_CERTIFICATES=0 skips installing ca-certificates (wasp then warns
# and uses the Mozilla roots built into it for HTTPS).

ARG BUILDER=docker.io/library/rust:1.95-bookworm
ARG RUNTIME=docker.io/library/debian:bookworm-slim

FROM ${BUILDER} AS build
RUN rustup target add wasm32-wasip2
WORKDIR /src
COPY . .
# The `dist` profile: the release build with link-time optimisation across
# crates. No debug info in the image: a small, stripped binary.
ENV CARGO_PROFILE_DIST_DEBUG=false CARGO_PROFILE_DIST_STRIP=true CARGO_TARGET_DIR=/src/target
RUN cargo build --profile dist --locked -p wasp \
 && cargo build --release --locked --target wasm32-wasip2 -p otel-demo \
 && mkdir -p /src/dist \
 && cp target/dist/wasp /src/dist/wasp \
 && cp target/wasm32-wasip2/release/otel_demo.wasm /src/dist/otel-demo.wasm

# What both images share: the base, CA certificates, the demo's contract.
FROM ${RUNTIME} AS runtime
ARG CA_CERTIFICATES=1
RUN if [ "$CA_CERTIFICATES" = 1 ]; then \
      apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*; \
    fi
# The demo's contract: users from LOCUST_USERS, following the loadGeneratorVUs
# flag; traffic paused by loadGeneratorTraffic; with LOCUST_HEADLESS=false the
# web UI and API on LOCUST_WEB_PORT (8089), on every address so that the demo's
# proxy reaches it (at /loadgen/; every link is relative). LOCUST_AUTOSTART=true
# starts the run at once, as the demo asks; without it the UI's form does.
# The plugin is compiled into WASP_CACHE_DIR when the image is built, so that
# no start recompiles it (the user below has no home to cache in).
ENV WASP_PLUGIN=/usr/local/share/wasp/otel-demo.wasm \
    WASP_CACHE_DIR=/var/cache/wasp \
    WASP_USERS_FLAG=loadGeneratorVUs \
    WASP_PAUSE_FLAG=loadGeneratorTraffic \
    WASP_WEB_HOST=0.0.0.0 \
    OTEL_SERVICE_NAME=load-generator
EXPOSE 8089
ENTRYPOINT ["wasp", "run"]

# The image from binaries built elsewhere (dist/wasp, dist/otel-demo.wasm).
FROM runtime AS prebuilt
COPY dist/wasp /usr/local/bin/wasp
COPY dist/otel-demo.wasm /usr/local/share/wasp/otel-demo.wasm
RUN wasp inspect "$WASP_PLUGIN" >/dev/null && chmod -R a+rX "$WASP_CACHE_DIR"
USER 65532:65532

# The image from source (the default target).
FROM runtime
COPY --from=build /src/dist/wasp /usr/local/bin/wasp
COPY --from=build /src/dist/otel-demo.wasm /usr/local/share/wasp/otel-demo.wasm
RUN wasp inspect "$WASP_PLUGIN" >/dev/null && chmod -R a+rX "$WASP_CACHE_DIR"
USER 65532:65532
