#!/bin/sh
# See LICENSE file for copyright and license details.
# Install the conformance tier's npm dependencies (Stoplight Prism, pinned
# in package.json and package-lock.json) into tests/conformance/node_modules.
# Called by `make deps`.  Without node or npm it says so and does nothing:
# tests/conformance.bats then skips every test with that reason.
set -eu
cd "$(dirname "$0")"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "conformance: node/npm not installed; the conformance tier will be skipped"
	exit 0
fi
if [ -x node_modules/.bin/prism ] && [ -f node_modules/.package-lock.json ] &&
	[ ! package-lock.json -nt node_modules/.package-lock.json ]; then
	echo "conformance: npm dependencies present"
	exit 0
fi
echo "conformance: installing npm dependencies (@stoplight/prism-cli)"
npm ci --no-audit --no-fund --loglevel=error
