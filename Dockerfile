# podbgp container image: the daemon and its CLI on Node.js 20, with iproute2 (the kernel
# interface). Build: docker build -t podbgp . ; run as in examples/daemonset.yaml.
# Stages: deps (production node_modules), build (TypeScript -> dist), runtime.

# Production dependencies only; --ignore-scripts skips "prepare" (the build needs the sources).
FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts

# Compile with the full toolchain.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY protocol ./protocol
COPY src ./src
RUN npm run build

FROM node:20-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends iproute2 \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
# package.json carries "type": "module", which dist/ needs.
COPY --from=deps /app/package.json ./package.json
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN chmod +x /app/dist/src/cli/main.js \
  && ln -s /app/dist/src/cli/main.js /usr/local/bin/podbgp
# BGP and /metrics, /healthz, /readyz (with hostNetwork these are the node's ports).
EXPOSE 179/tcp 9179/tcp
# Liveness from inside the container, with node's own http module (the image has no curl).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "require('http').get({host:'127.0.0.1',port:9179,path:'/healthz',timeout:4000},(r)=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM (Cease to peers, routes kept) and SIGHUP (reload).
ENTRYPOINT ["podbgp", "run"]
CMD ["--config", "/etc/podbgp/podbgp.yaml"]
