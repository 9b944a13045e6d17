# See LICENSE file for copyright and license details.
# Sourced by tests/run and tests/helper.bash: find the shared OpenAI data
# (recordings, SSE vectors, the OpenAPI description).  It lives beside the
# checkout (../shared/openai); a clone elsewhere falls back to
# /work/shared/openai, or OAI_TEST_SHARED names it.
for _d in "${OAI_TEST_SHARED:-}" "$ROOT/../shared/openai" /work/shared/openai; do
	[ -n "$_d" ] && [ -d "$_d/cassettes" ] && break
done
export OAI_TEST_SHARED="$_d"
export OAI_CASSETTES="$_d/cassettes" SRV_CASSETTES="$_d/cassettes"
export OAI_SSE_VECTORS="$_d/sse-vectors.json"
export OAI_OPENAPI_SPEC="${OAI_OPENAPI_SPEC:-$_d/openapi.yaml}"
export OAI_SHARED="$_d"
unset _d
