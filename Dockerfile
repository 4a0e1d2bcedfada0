# reconcile as a GitHub App server: `reconcile github serve` (docs/github-app.md).
# Build:  docker build -t reconcile .
# Run:    docker run -p 8080:8080 -e GITHUB_APP_ID -e GITHUB_WEBHOOK_SECRET -e GITHUB_APP_PRIVATE_KEY_PATH=/keys/app.pem \
#           -v /path/to/keys:/keys:ro -e ANTHROPIC_API_KEY reconcile --drift-interval 1h

# Stage 1: compile TypeScript (needs the dev dependencies).
FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY schemas ./schemas
RUN npm run build

# Stage 2: only the runtime dependencies and the compiled code, as a non-root user.
FROM node:22-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would run the TypeScript build, which the runtime image neither needs nor can run.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY schemas ./schemas
# The `node` user (uid 1000) ships with the image; it owns nothing under /app, so the code is read-only to it.
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/app/bin/reconcile", "github", "serve", "--host", "0.0.0.0", "--port", "8080"]
