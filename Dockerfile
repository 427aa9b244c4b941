# syntax=docker/dockerfile:1

# Build: a static, stripped binary (pure Go SQLite, so no cgo).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/spaceauth . \
    && mkdir -p /out/app/database

# Run: no shell, no compiler; uid 1000 as on Hugging Face Spaces.
FROM gcr.io/distroless/static-debian12
COPY --from=build /out/spaceauth /usr/local/bin/spaceauth
# database/ is where the default DATABASE_PATH (database/auth.db) is created on first start.
COPY --from=build --chown=1000:1000 /out/app /app
WORKDIR /app
USER 1000:1000
ENV PORT=7860
EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/usr/local/bin/spaceauth", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/spaceauth"]
CMD ["serve"]
