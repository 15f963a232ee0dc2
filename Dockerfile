# Build stage: compile the release binary (migrations are embedded in it).
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY crates crates
COPY migrations migrations
RUN cargo build --release --locked

# Run stage: the binary, libpq and the official units list.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 toso
COPY --from=build /src/target/release/toso /usr/local/bin/toso
COPY data /usr/share/toso/data
USER toso
ENV TOSO_BIND=0.0.0.0:8080
EXPOSE 8080
CMD ["sh", "-c", "toso migrate && toso import-units /usr/share/toso/data/vn-admin-units-2025.csv && exec toso serve"]
