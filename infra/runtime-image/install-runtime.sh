#!/bin/sh
# Installs @capstan/runtime VERSION (production dependencies only) into APP_DIR: from the tarballs
# in PACKAGES_DIR when they are there (`npm run package` names them capstan-<name>-VERSION.tgz),
# else from the npm registry. The runtime image's one install step, runnable without Docker.
# Usage: install-runtime.sh VERSION PACKAGES_DIR APP_DIR
set -eu
version="$1"
packages="$2"
app="$3"
runtime_tgz="$packages/capstan-runtime-$version.tgz"
sdk_tgz="$packages/capstan-sdk-$version.tgz"
mkdir -p "$app"
cd "$app"
if [ -f "$runtime_tgz" ]; then
  [ -f "$sdk_tgz" ] || { echo "install-runtime: $runtime_tgz needs $sdk_tgz beside it" >&2; exit 1; }
  # The runtime's own dependency on @capstan/sdk must resolve to the tarball too (unpublished version).
  cat > package.json <<JSON
{ "private": true,
  "dependencies": { "@capstan/runtime": "file:$runtime_tgz", "@capstan/sdk": "file:$sdk_tgz" },
  "overrides": { "@capstan/sdk": "file:$sdk_tgz" },
  "allowScripts": { "better-sqlite3": true, "esbuild": true } }
JSON
else
  printf '{ "private": true, "dependencies": { "@capstan/runtime": "%s" },\n  "allowScripts": { "better-sqlite3": true, "esbuild": true } }\n' "$version" > package.json
fi
npm install --omit=dev --no-audit --no-fund
