#!/usr/bin/env bash
# Refreshes the API docs pages' assets in handlers/docs/ from the pinned npm
# releases of Swagger UI and ReDoc, with their licences. They stay text: a
# Hugging Face Space refuses a push holding any binary file, so the server
# gzips them itself. Files are cut into parts of at most 900 KiB
# (the server joins them), so no tracked file is large. Never edit the
# copies by hand.
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
for src in swagger-ui/package/swagger-ui-bundle.js swagger-ui/package/swagger-ui.css redoc/package/bundles/redoc.standalone.js; do
  split --bytes=900K --numeric-suffixes=1 --suffix-length=2 "$tmp/$src" "$out/$(basename "$src").part"
done
{
  echo "Swagger UI $swagger_ui (npm swagger-ui-dist), Apache License 2.0:"
  cat "$tmp/swagger-ui/package/LICENSE" "$tmp/swagger-ui/package/NOTICE" "$tmp/swagger-ui/package/swagger-ui-bundle.js.LICENSE.txt"
  echo
  echo "ReDoc $redoc (npm redoc), MIT License:"
  cat "$tmp/redoc/package/LICENSE" "$tmp/redoc/package/bundles/redoc.standalone.js.LICENSE.txt"
} > "$out/LICENSES.txt"
printf 'swagger-ui-dist@%s\nredoc@%s\n' "$swagger_ui" "$redoc" > "$out/VERSIONS"
ls -l "$out"
