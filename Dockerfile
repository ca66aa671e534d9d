# Shrike as a drop-in for the `redis` service of a docker-compose file:
#   docker build -t shrike . && docker run -p 6379:6379 shrike
FROM node:20-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates build-essential \
 && curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
ENV PATH="/root/.cargo/bin:${PATH}"
WORKDIR /src
COPY . .
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/packages ./packages
COPY --from=build /src/crates/binding/package.json /src/crates/binding/index.js /src/crates/binding/index.d.ts ./crates/binding/
COPY --from=build /src/crates/binding/*.node ./crates/binding/
EXPOSE 6379
# Protected mode off, as the official redis image has it: inside a container every client is
# from outside, and Docker exposes the port only where it is asked to.
ENTRYPOINT ["node", "packages/server/bin/shrike-server.js", "--bind", "0.0.0.0", "--protected-mode", "no"]
