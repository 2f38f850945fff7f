# syntax=docker/dockerfile:1
#
# Hookflow in one static binary. The same image runs every role:
#   docker run -e HOOKFLOW_API_KEYS=... IMAGE api | worker | serve
# (the image listens on 0.0.0.0, where the API will not start without keys
# unless HOOKFLOW_INSECURE_NO_AUTH=true).
# docker-compose.yml shows the production topology (PostgreSQL, Temporal on
# PostgreSQL, the API and a scalable pool of workers).

# The builder's Go release follows the go directive of go.mod (a test in
# deploy/ checks that they agree).
FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first, so that a code change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# CGO_ENABLED=0: a static binary (SQLite is modernc.org/sqlite, pure Go),
# so the runtime image needs no C library.
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath \
        -ldflags="-s -w -X github.com/hookflow/hookflow/app.Version=${VERSION}" \
        -o /out/hookflow ./cmd/hookflow

# Alpine rather than distroless for busybox wget, which the compose
# healthcheck uses to ask the API's /healthz.
FROM alpine:3.22
RUN apk add --no-cache ca-certificates tzdata \
    && addgroup -S -g 10001 hookflow \
    && adduser -S -D -H -u 10001 -G hookflow hookflow \
    && mkdir -p /var/lib/hookflow \
    && chown hookflow:hookflow /var/lib/hookflow
COPY --from=build /out/hookflow /usr/local/bin/hookflow
# The working folder is where the default SQLite database
# (sqlite://.hookflow/hookflow.db) lands when no PostgreSQL is configured.
WORKDIR /var/lib/hookflow
USER 10001:10001
ENV HOOKFLOW_HTTP_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/hookflow"]
CMD ["serve"]
