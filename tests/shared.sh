# See LICENSE file for copyright and license details.
# Sourced by tests/run and tests/helper.bash: where the test data is.
#
# The fixtures the suite needs live in the repository (tests/fixtures,
# written by tests/fixtures/make.py and sse_vectors.py).  Real recorded
# API traffic is an optional extra tier: OAI_TEST_RECORDINGS=DIR names a
# folder holding cassettes/ (and optionally sse-vectors.json and
# openapi.yaml); a sibling ../shared/openai of the checkout is used when
# it exists and the variable is unset (set it empty to turn the tier
# off).  Without it, the tier's tests skip with one line saying what to set.
export OAI_FIXTURES="$ROOT/tests/fixtures"
export OAI_CASSETTES="$OAI_FIXTURES" SRV_CASSETTES="$OAI_FIXTURES"
export OAI_SSE_VECTORS="$OAI_FIXTURES/sse-vectors.json"
if [ -z "${OAI_TEST_RECORDINGS+set}" ] && [ -d "$ROOT/../shared/openai/cassettes" ]; then
	OAI_TEST_RECORDINGS=$(cd "$ROOT/../shared/openai" && pwd)
fi
if [ -n "${OAI_TEST_RECORDINGS:-}" ] && [ ! -d "$OAI_TEST_RECORDINGS/cassettes" ]; then
	echo "tests: OAI_TEST_RECORDINGS=$OAI_TEST_RECORDINGS has no cassettes/ folder; recordings tier off" >&2
	OAI_TEST_RECORDINGS=
fi
export OAI_TEST_RECORDINGS="${OAI_TEST_RECORDINGS:-}"
# The OpenAPI description for the conformance tier (tests/conformance.bats).
if [ -z "${OAI_OPENAPI_SPEC:-}" ] && [ -n "$OAI_TEST_RECORDINGS" ] &&
	[ -f "$OAI_TEST_RECORDINGS/openapi.yaml" ]; then
	OAI_OPENAPI_SPEC=$OAI_TEST_RECORDINGS/openapi.yaml
fi
export OAI_OPENAPI_SPEC="${OAI_OPENAPI_SPEC:-}"
OAI_RECORDINGS_SKIP="real recordings not found: set OAI_TEST_RECORDINGS=DIR (a folder with cassettes/) to run this tier"
export OAI_RECORDINGS_SKIP
