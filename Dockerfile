# Multi-stage build: dependencies are compiled in their own layer so that a
# change to the sources does not rebuild them.
FROM rust:1-bookworm AS build
WORKDIR /src
# libpq and SQLite are bundled (built from source), OpenSSL comes from Debian.
RUN apt-get update && apt-get install -y --no-install-recommends libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
# 1. Dependencies only, against a dummy crate.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src
# 2. The real sources.
COPY src src
COPY migrations migrations
COPY config config
COPY tests/fixtures tests/fixtures
RUN touch src/main.rs src/lib.rs && cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data erratum \
    && mkdir -p /data && chown erratum /data
COPY --from=build /src/target/release/erratum /usr/local/bin/erratum
COPY config /etc/erratum
USER erratum
WORKDIR /data
VOLUME ["/data"]
ENV ERRATUM__SERVER__HOST=0.0.0.0 \
    ERRATUM__DATABASE__URL=sqlite:///data/erratum.db \
    ERRATUM__EMAIL__FILE__DIR=/data/mail
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
    CMD curl -fsS http://127.0.0.1:8080/health/ready || exit 1
ENTRYPOINT ["erratum"]
CMD ["serve"]
