# The Capstan runtime's container: `capstan serve`, as CapstanRuntime runs it on Fargate (ARM64).
# Built by `cdk deploy` through ContainerImage.fromAsset; `docker build .` builds the same image.
# Three stages: compile with the dev tooling, install production dependencies alone, then copy
# only the compiled runtime and those dependencies into a slim image that runs as a non-root user.

FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.base.json ./
COPY sdk/package.json sdk/
COPY runtime/package.json runtime/
COPY infra/package.json infra/
COPY handlers/package.json handlers/
# Compiling needs the root's dev tooling (typescript, preact for the console); no install scripts.
RUN npm ci --workspace sdk --workspace runtime --include-workspace-root --ignore-scripts --no-audit --no-fund
COPY sdk/ sdk/
COPY runtime/ runtime/
# The runtime, then the web console the admin listener serves at /ui (into runtime/dist/console).
RUN npx tsc -b sdk runtime && node runtime/console/build.mjs

FROM node:22-bookworm-slim AS deps
WORKDIR /src
# better-sqlite3 compiles from source when no prebuilt binary matches the platform.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY sdk/package.json sdk/
COPY runtime/package.json runtime/
COPY infra/package.json infra/
COPY handlers/package.json handlers/
# Only sdk's and runtime's production dependencies: no root dev tooling, no CDK, no examples.
RUN npm ci --omit=dev --workspace sdk --workspace runtime --no-audit --no-fund

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    CAPSTAN_DATA_DIR=/var/lib/capstan
WORKDIR /app
COPY --from=deps /src/package.json ./
COPY --from=deps /src/node_modules node_modules/
COPY --from=build /src/sdk/package.json sdk/
COPY --from=build /src/sdk/dist sdk/dist/
COPY --from=build /src/runtime/package.json runtime/
COPY --from=build /src/runtime/bin runtime/bin/
COPY --from=build /src/runtime/dist runtime/dist/
# The node's local partition state (task storage; the durable log is in DynamoDB).
RUN mkdir -p /var/lib/capstan && chown node:node /var/lib/capstan
USER node
EXPOSE 8080 9070 9071
ENTRYPOINT ["node", "runtime/bin/capstan.js"]
CMD ["serve"]
