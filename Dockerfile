# syntax=docker/dockerfile:1
# confbot: a release build in a small Debian image.
#   docker build -t confbot .
#   docker run --rm -e DATABASE_URL=postgres://... -e CONFBOT_DISCORD__TOKEN=... confbot
# The image has no PostgreSQL server: give it DATABASE_URL (the embedded default needs the
# server binaries and is meant for a laptop, not a container).

########## build ##########
FROM rust:1-bookworm AS builder
WORKDIR /app

# Dependencies first, against placeholder sources, so this layer is rebuilt only when
# Cargo.toml or Cargo.lock change and not on every source edit.
COPY Cargo.toml Cargo.lock build.rs ./
RUN mkdir -p src migrations \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src migrations

# The real sources. COPY keeps the files' mtimes, which may be older than the placeholder
# build: touch them so cargo rebuilds the crate itself instead of shipping the placeholder.
COPY migrations ./migrations
COPY src ./src
RUN touch src/main.rs src/lib.rs build.rs \
    && cargo build --release --locked \
    && cp target/release/confbot /usr/local/bin/confbot

########## run ##########
FROM debian:bookworm-slim
# CA roots for HTTPS (Discord, schedule sources); sqlx speaks PostgreSQL itself, so no libpq.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /home/confbot --shell /usr/sbin/nologin confbot
COPY --from=builder /usr/local/bin/confbot /usr/local/bin/confbot
USER confbot
WORKDIR /home/confbot
ENTRYPOINT ["confbot"]
# The Discord bot (`confbot run`) arrives with the Discord issue; until then the image is a
# schedule tool: `docker run -e DATABASE_URL=... confbot import URL --conference SLUG`.
CMD ["--help"]
