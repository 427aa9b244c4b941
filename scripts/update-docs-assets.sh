#!/usr/bin/env bash
# Refreshes the API docs pages' assets in handlers/docs/ from the pinned npm
# releases of Swagger UI and ReDoc, with their licences. The big bundles are
# stored gzipped (served as is to browsers, which all accept gzip). Never
# edit the copies by hand.
set -euo pipefail
swagger_ui=${SWAGGER_UI_VERSION:-5.32.1}
redoc=${REDOC_VERSION:-2.5.1}
cd "$(dirname "$0")/.."
out=handlers/docs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "swagger-ui-dist@$swagger_ui" "redoc@$redoc" >/dev/null)
mkdir -p "$tmp/swagger-ui" "$tmp/redoc"
tar xzf "$tmp/swagger-ui-dist-$swagger_ui.tgz" -C "$tmp/swagger-ui"
tar xzf "$tmp/redoc-$redoc.tgz" -C "$tmp/redoc"
rm -rf "$out" && mkdir -p "$out"
gzip -9n < "$tmp/swagger-ui/package/swagger-ui-bundle.js" > "$out/swagger-ui-bundle.js.gz"
gzip -9n < "$tmp/swagger-ui/package/swagger-ui.css" > "$out/swagger-ui.css.gz"
gzip -9n < "$tmp/redoc/package/bundles/redoc.standalone.js" > "$out/redoc.standalone.js.gz"
{
  echo "Swagger UI $swagger_ui (npm swagger-ui-dist), Apache License 2.0:"
  cat "$tmp/swagger-ui/package/LICENSE" "$tmp/swagger-ui/package/NOTICE" "$tmp/swagger-ui/package/swagger-ui-bundle.js.LICENSE.txt"
  echo
  echo "ReDoc $redoc (npm redoc), MIT License:"
  cat "$tmp/redoc/package/LICENSE" "$tmp/redoc/package/bundles/redoc.standalone.js.LICENSE.txt"
} > "$out/LICENSES.txt"
printf 'swagger-ui-dist@%s\nredoc@%s\n' "$swagger_ui" "$redoc" > "$out/VERSIONS"
ls -l "$out"
