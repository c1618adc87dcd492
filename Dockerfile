# mlpd image: build with the same scripts CI runs, then ship only the two binaries and the
# shared libraries they load.
#
#   docker build -t mlpd .
#   docker run -p 50051:50051 -v mlpd-data:/data mlpd
#   docker build --build-arg MLPD_RUN_TESTS=1 -t mlpd .   # also run scripts/test (needs network
#                                                         # for MNIST)
# Operations guide: deploy/README.md.

# ---- build stage -------------------------------------------------------------------------
FROM debian:bookworm-slim AS build
ARG MLPD_RUN_TESTS=0
WORKDIR /src
# Dependencies first, in their own layer: source edits do not reinstall packages.
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps --build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN MLPD_BUILD_DIR=/src/build scripts/build --target mlpd mlpctl \
 && if [ "$MLPD_RUN_TESTS" = "1" ]; then MLPD_BUILD_DIR=/src/build scripts/test; fi \
 && strip build/server/mlpd build/client/mlpctl

# ---- runtime stage -----------------------------------------------------------------------
FROM debian:bookworm-slim
# The runtime package list lives in scripts/install-deps (--runtime); tests/e2e/deploy_image.sh
# checks that it covers every shared library the built binaries load.
COPY scripts/install-deps /usr/local/lib/mlpd/install-deps
RUN /usr/local/lib/mlpd/install-deps --runtime && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin mlpd \
 && mkdir -p /data && chown mlpd:mlpd /data
COPY --from=build /src/build/server/mlpd /src/build/client/mlpctl /usr/local/bin/

# Created and owned by mlpd before VOLUME, so a fresh named volume starts writable by it.
VOLUME ["/data"]
WORKDIR /data
USER mlpd:mlpd
EXPOSE 50051
ENV MLPD_SERVER=127.0.0.1:50051

# SIGTERM starts the drain. `docker stop` waits 10 s by default, so the image drains for 5 s
# and keeps the rest for the final snapshots; with a longer `docker stop -t` / `--stop-timeout`
# pass a longer --drain-seconds (the last occurrence of a flag wins).
STOPSIGNAL SIGTERM
# The health service answers without a token. With TLS on, set MLPD_HEALTH_FLAGS to the
# mlpctl TLS flags (e.g. "--tls-ca /certs/ca.pem --tls-server-name mlpd") so the check can
# connect; `|| exit 1` because Docker reserves exit code 2.
ENV MLPD_HEALTH_FLAGS=""
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD mlpctl --server 127.0.0.1:50051 --timeout 4 $MLPD_HEALTH_FLAGS health || exit 1
ENTRYPOINT ["mlpd", "--listen=0.0.0.0:50051", "--data-dir=/data", "--drain-seconds=5"]
CMD []
