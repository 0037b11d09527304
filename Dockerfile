# syntax=docker/dockerfile:1
# The marksmith server: a static binary (the SQLite driver is pure Go, no
# cgo) on a distroless base, running as an unprivileged user. With no
# settings it serves on :8080 from the SQLite file /data/marksmith.db;
# set MARKSMITH_DATABASE_URL for PostgreSQL (see compose.yaml and
# docs/operations.md).

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/marksmith ./cmd/marksmith \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/marksmith /usr/local/bin/marksmith
# The data folder belongs to the nonroot user (65532) so that a new volume does too.
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
ENV MARKSMITH_ADDR=:8080 \
    MARKSMITH_DATABASE_URL=sqlite:/data/marksmith.db \
    MARKSMITH_LOG_FORMAT=json
VOLUME /data
EXPOSE 8080
USER 65532:65532
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/marksmith"]
CMD ["serve"]
