# seqshim: the CLI, whose `serve` command is the server tier.
#   docker build -t seqshim .
#   docker run -p 7070:7070 -p 9090:9090 seqshim serve --store dynamodb://TABLE
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/seqshim ./cmd/seqshim \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/seqshim /usr/local/bin/seqshim
# The journal's directory, writable by the nonroot user (mount a volume).
COPY --from=build --chown=65532:65532 /out/data /data
USER nonroot
EXPOSE 7070 9090
ENTRYPOINT ["/usr/local/bin/seqshim"]
CMD ["serve"]
