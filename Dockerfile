# syntax=docker/dockerfile:1
# confbot: a release build in a small Debian image, running `confbot run`.
#   docker build -t confbot .
#   docker run --rm -e DATABASE_URL=postgres://... -e DISCORD_TOKEN=... confbot
# compose.yaml runs it next to PostgreSQL. The image has no PostgreSQL server: give it
# DATABASE_URL (the embedded default needs the server binaries and is meant for a laptop).
# What the runtime stage assumes (only libc6/libgcc-s1 libraries, glibc <= 2.36, nothing but
# the binary needed) is proven by tests/it/ops/image.rs on every `cargo test`.

########## build ##########
FROM rust:1-bookworm AS builder
WORKDIR /app

# Dependencies first, against placeholder sources, so this layer is rebuilt only when
# Cargo.toml or Cargo.lock change and not on every source edit. The manifest names bench
# targets, which must exist for cargo to read it: one placeholder per `name = "..."` line
# (the package's own name makes a harmless extra one), so a new bench cannot break this.
# tests/it/ops/image.rs runs these placeholder lines and has cargo read the result.
COPY Cargo.toml Cargo.lock build.rs ./
RUN mkdir -p src migrations benches \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && sed -n 's/^name = "\([a-z_]*\)"$/\1/p' Cargo.toml \
       | while read -r bench; do echo 'fn main() {}' > "benches/$bench.rs"; done \
    && cargo build --release --locked --bin confbot \
    && rm -rf src migrations

# The real sources. COPY keeps the files' mtimes, which may be older than the placeholder
# build: touch them so cargo rebuilds the crate itself instead of shipping the placeholder.
COPY migrations ./migrations
COPY src ./src
RUN touch src/main.rs src/lib.rs build.rs \
    && cargo build --release --locked --bin confbot \
    && cp target/release/confbot /usr/local/bin/confbot

########## run ##########
FROM debian:bookworm-slim
# CA roots for HTTPS (Discord, schedule sources); sqlx and rustls speak PostgreSQL and TLS
# themselves, so no libpq and no libssl.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /home/confbot --shell /usr/sbin/nologin confbot
COPY --from=builder /usr/local/bin/confbot /usr/local/bin/confbot
USER confbot
WORKDIR /home/confbot
# The web surface on every interface of the container (put the reverse proxy with TLS in
# front; see the README); JSON logs for the log collector.
ENV CONFBOT__WEB__LISTEN=0.0.0.0:8080 \
    CONFBOT__LOG__FORMAT=json
# 8080: /healthz, /metrics, the calendar feeds and room screens, and POST /interactions of
# `confbot serve-interactions`.
EXPOSE 8080
# Slim images have no curl: the binary checks itself (GET /healthz, exit 0 or 1). The start
# period covers migrations and the first gateway connection.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["confbot", "healthcheck"]
ENTRYPOINT ["confbot"]
# Any subcommand works too: `docker run ... confbot import URL --conference SLUG`.
CMD ["run"]
