# Multi-stage build: dependencies are compiled in their own layer so that a
# change to the sources does not rebuild them.
#
#   docker build -t erratum .      (scripts/check-docker-context checks, without
#                                   Docker, that every COPY brings what cargo needs)
FROM rust:1-bookworm AS build
WORKDIR /src
# libpq and SQLite are bundled (built from source), OpenSSL comes from Debian.
RUN apt-get update && apt-get install -y --no-install-recommends libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
# 1. Dependencies only: the manifest, and an empty file for every target it
#    names (lib, bins, benches, tests, examples), so a [[bench]] or [[test]]
#    added to Cargo.toml needs no change here.
COPY Cargo.toml Cargo.lock ./
COPY scripts/cargo-target-stubs scripts/cargo-target-stubs
RUN scripts/cargo-target-stubs Cargo.toml \
    && cargo build --release --locked \
    && rm -rf src benches tests examples
# 2. The real sources: everything Cargo.toml and the code's include_str!
#    and embed_migrations! read.
COPY src src
COPY benches benches
COPY migrations migrations
COPY config config
COPY locales locales
COPY tests/fixtures tests/fixtures
RUN touch src/main.rs src/lib.rs && cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data erratum \
    && mkdir -p /data && chown erratum /data
COPY --from=build /src/target/release/erratum /usr/local/bin/erratum
# The image's settings (listen on 0.0.0.0, SQLite and mail under /data, no
# demo); ERRATUM_CONFIG makes every command read them, `serve` and the
# `editor`, `backup`, `migrate` commands run with `docker compose exec` alike.
COPY config/docker.toml /etc/erratum/erratum.toml
ENV ERRATUM_CONFIG=/etc/erratum/erratum.toml
USER erratum
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
    CMD curl -fsS http://127.0.0.1:8080/health/ready || exit 1
ENTRYPOINT ["erratum"]
CMD ["serve"]
