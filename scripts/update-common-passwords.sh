#!/usr/bin/env bash
# Refreshes auth/commonpasswords.txt: the 10,000 most common passwords,
# in rank order, from the frequency-ranked list (Xato's 10M leaked
# passwords) that the maintained zxcvbn-ts project ships on npm.
set -euo pipefail
version=${1:-4.1.3}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@zxcvbn-ts/language-common@$version" >/dev/null && tar xzf ./*.tgz)
{
  echo "# The 10,000 most common passwords, most common first."
  echo "# Source: npm @zxcvbn-ts/language-common@$version, src/passwords.json (MIT licence below)."
  echo "# Regenerate with scripts/update-common-passwords.sh; do not edit by hand."
  sed 's/^/# /' "$tmp/package/LICENSE.txt"
  node -e 'const l=require(process.argv[1]); process.stdout.write(l.slice(0,10000).join("\n")+"\n")' "$tmp/package/src/passwords.json"
} > auth/commonpasswords.txt
echo "wrote auth/commonpasswords.txt ($(grep -vc '^#' auth/commonpasswords.txt) passwords)"
