# Test stand-in for the official nginx image (no registry here): Debian's nginx on the local base.
ARG BASE_IMAGE=localhost/debian-bookworm:local
FROM ${BASE_IMAGE}
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install --yes --no-install-recommends nginx-light \
    && rm -rf /var/lib/apt/lists/*
CMD ["nginx", "-g", "daemon off;"]
