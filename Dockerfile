# The engine in a container: docker build -t engine .
# See book/src/installing.md.

# Build stage: the release binary, with the dependency versions of
# Cargo.lock.
FROM rust:bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p engine

# Runtime stage: the binary and the default configuration on Debian slim
# (same glibc as the build stage).
FROM debian:bookworm-slim
# The default configuration binds as root, then chroots into
# /var/lib/engine and becomes the user engine; its stats socket lives in
# /run/engine.
RUN groupadd --system engine \
    && useradd --system --gid engine --home-dir /var/lib/engine \
        --no-create-home --shell /usr/sbin/nologin engine \
    && mkdir -p /var/lib/engine /run/engine /etc/engine
COPY --from=build /src/target/release/engine /usr/sbin/engine
COPY packaging/engine.cfg /etc/engine/engine.cfg
# docker stop sends SIGUSR1, a soft stop (live connections finish), as
# HAProxy's official image does; SIGKILL follows after docker stop's
# timeout (-t, 10 s by default).
STOPSIGNAL SIGUSR1
# -W: master-worker; -db: stay in the foreground, the container's main
# process.
CMD ["engine", "-W", "-db", "-f", "/etc/engine/engine.cfg"]
