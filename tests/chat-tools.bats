#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# oai-chat's tool calling (issue 14, item 2): --tool runs an executable
# the model calls and sends the result back until a reply; --tools
# prints the calls; calls and results in -c files; recorded exchanges.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	export OPENAI_API_KEY=sk-test-chat
	T=$BATS_TEST_TMPDIR
	# upper: its schema from --schema; upper-cases its standard input
	cat >"$T/upper" <<-'SH'
	#!/bin/sh
	if [ "$1" = --schema ]; then
		echo '{"description":"upper-case text","parameters":{"type":"object","properties":{"text":{"type":"string"}}}}'
		exit 0
	fi
	tr a-z A-Z
	SH
	chmod +x "$T/upper"
}

# msgs N: the messages of request N, compact
msgs() { srv_req_field "$1" '.body | fromjson | .messages | tojson'; }

@test "--tool: the schema from PATH --schema, the call run with its arguments on stdin, the result sent back" {
	run --separate-stderr oai-chat --tool "$T/upper" hi </dev/null
	assert_status 0
	assert_stderr ''
	assert_output 'echo: {"TEXT":"HI"}'
	assert_equal 2 "$(srv_nreq)"
	assert_equal '[{"type":"function","function":{"name":"upper","description":"upper-case text","parameters":{"type":"object","properties":{"text":{"type":"string"}}}}}]' \
		"$(srv_req_field 1 '.body | fromjson | .tools | tojson')"
	assert_equal '[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_test1_0","type":"function","function":{"name":"upper","arguments":"{\"text\":\"hi\"}"}}]},{"role":"tool","tool_call_id":"call_test1_0","content":"{\"TEXT\":\"HI\"}"}]' \
		"$(msgs 2)"
}

@test "--tool: PATH.json beside it is the schema, a bare JSON schema is the parameters; --no-stream" {
	printf '#!/bin/sh\necho "[$(cat)]"\n' >"$T/wrap.sh"
	chmod +x "$T/wrap.sh"
	printf '{"type": "object", "properties": {}}\n' >"$T/wrap.sh.json"
	run --separate-stderr oai-chat --no-stream --tool "$T/wrap.sh" 'a $(touch pwned) b' </dev/null
	assert_status 0
	assert_stderr ''
	assert_output 'echo: [{"text":"a $(touch pwned) b"}]'
	[ ! -e pwned ] && [ ! -e "$T/pwned" ]
	assert_equal '[{"type":"function","function":{"name":"wrap","parameters":{"type":"object","properties":{}}}}]' \
		"$(srv_req_field 1 '.body | fromjson | .tools | tojson')"
}

@test "recorded parallel tool calls: both run, both results sent back in order" {
	cat >"$T/get_weather_for_city" <<-'SH'
	#!/bin/sh
	case $1 in --schema) echo '{"type":"object"}'; exit ;; esac
	jq -r '.city_name + ": fine"'
	SH
	chmod +x "$T/get_weather_for_city"
	srv_queue '{"cassette": "chat_tool_calls_parallel/00"}'
	run --separate-stderr oai-chat --no-stream --tool "$T/get_weather_for_city" weather? </dev/null
	assert_status 0
	assert_stderr ''
	assert_output "$(printf 'echo: Lisbon: fine\n | Oslo: fine')"
	assert_equal '[{"role":"tool","tool_call_id":"call_OaiFixture0000000000002","content":"Lisbon: fine\n"},{"role":"tool","tool_call_id":"call_OaiFixture0000000000003","content":"Oslo: fine\n"}]' \
		"$(srv_req_field 2 '.body | fromjson | .messages[2:] | tojson')"
	assert_equal 2 "$(srv_req_field 2 '.body | fromjson | .messages[1].tool_calls | length')"
}

@test "recorded streamed argument fragments, one byte a write: the call is put together, then the recorded reply" {
	printf '#!/bin/sh\n[ "$1" = --schema ] && { echo "{}"; exit; }\njq -r .country | sed s/France/Paris/\n' >"$T/get_capital"
	chmod +x "$T/get_capital"
	srv_queue '{"cassette": "chat_stream_tool_calls_usage_2026/00", "chunk": 1}' \
		'{"cassette": "chat_stream_tool_calls_usage_2026/01", "chunk": 1}'
	run --separate-stderr oai-chat --tool "$T/get_capital" capital? </dev/null
	assert_status 0
	assert_stderr ''
	assert_output 'The capital of France is Paris.'
	assert_equal '[{"role":"user","content":"capital?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_OaiFixture0000000000001","type":"function","function":{"name":"get_capital","arguments":"{\"country\":\"France\"}"}}]},{"role":"tool","tool_call_id":"call_OaiFixture0000000000001","content":"Paris\n"}]' \
		"$(msgs 2)"
}

@test "-c keeps the calls and the results, and the next run sends them back" {
	run --separate-stderr oai-chat -c "$T/c.jsonl" --tool "$T/upper" hi </dev/null
	assert_status 0
	assert_equal 4 "$(grep -c '' "$T/c.jsonl")"
	assert_equal 'user assistant tool assistant' "$(jq -r .role "$T/c.jsonl" | xargs)"
	assert_equal '{"role":"assistant","content":"echo: {\"TEXT\":\"HI\"}","model":"gpt-4o"}' "$(tail -n1 "$T/c.jsonl")"
	run --separate-stderr oai-chat -c "$T/c.jsonl" again </dev/null
	assert_status 0
	assert_output 'echo: again'
	assert_equal "$(jq -sc 'map(del(.model)) + [{"role":"user","content":"again"}]' <(head -n4 "$T/c.jsonl"))" "$(msgs 3)"
}

@test "--tools FILE: the definitions sent as given, the calls printed as JSON lines, status 6, nothing run" {
	printf '[{"type":"function","function":{"name":"upper"}}]\n' >"$T/defs.json"
	run --separate-stderr oai-chat --tools "$T/defs.json" -c "$T/c.jsonl" hi </dev/null
	assert_status 6
	assert_stderr ''
	assert_output '{"id":"call_test1_0","type":"function","function":{"name":"upper","arguments":"{\"text\":\"hi\"}"}}'
	assert_equal 1 "$(srv_nreq)"
	assert_equal '[{"type":"function","function":{"name":"upper"}}]' "$(srv_req_field 1 '.body | fromjson | .tools | tojson')"
	assert_equal '{"role":"assistant","content":null,"tool_calls":[{"id":"call_test1_0","type":"function","function":{"name":"upper","arguments":"{\"text\":\"hi\"}"}}],"model":"gpt-4o"}' \
		"$(tail -n1 "$T/c.jsonl")"
}

@test "--max-tool-rounds: past it, the calls left are printed and the status is 6" {
	srv_queue '{"tool_calls": [{"name": "upper", "arguments": {"text": "x"}}], "repeat": 3}'
	run --separate-stderr oai-chat --max-tool-rounds 2 --tool "$T/upper" hi </dev/null
	assert_status 6
	assert_stderr 'oai-chat: --max-tool-rounds: 2 rounds of tool calls and no reply yet'
	assert_output '{"id":"call_test3_0","type":"function","function":{"name":"upper","arguments":"{\"text\":\"x\"}"}}'
	assert_equal 3 "$(srv_nreq)"
	assert_equal 'user assistant tool assistant tool' "$(srv_req_field 3 '.body | fromjson | [.messages[].role] | join(" ")')"
}

@test "a tool that fails, hangs past --tool-timeout, or is not offered: the model is told, the chat goes on" {
	printf '#!/bin/sh\n[ "$1" = --schema ] && { echo "{}"; exit; }\necho partial; exit 3\n' >"$T/bad"
	printf '#!/bin/sh\n[ "$1" = --schema ] && { echo "{}"; exit; }\nexec sleep 20\n' >"$T/slow"
	chmod +x "$T/bad" "$T/slow"
	srv_queue '{"tool_calls": [{"name": "bad", "arguments": "{}"}, {"name": "slow", "arguments": "{}"}, {"name": "nope", "arguments": "{}"}]}'
	SECONDS=0
	run --separate-stderr oai-chat --tool-timeout 1 --tool "$T/bad" --tool "$T/slow" hi </dev/null
	[ "$SECONDS" -lt 10 ]
	assert_status 0
	assert_stderr <<-'EOF'
	oai-chat: tool bad: exit status 3
	oai-chat: tool slow: timed out after 1
	EOF
	assert_equal '["partial\n\n[exit status 3]","\n[timed out after 1 seconds]","error: there is no tool named nope {}"]' \
		"$(srv_req_field 2 '.body | fromjson | [.messages[] | select(.role == "tool") | .content] | tojson')"
}

@test "bad --tool and --tools are usage errors before any request" {
	printf '#!/bin/sh\nexit 1\n' >"$T/noschema"
	printf 'x' >"$T/plain"
	chmod +x "$T/noschema"
	cp "$T/upper" "$T/a b"
	printf '{"x": 1}' >"$T/defs.json"
	local -a cases=(
		"--tool $T/plain|--tool: $T/plain: Permission denied"
		"--tool $T/noschema|--tool: $T/noschema --schema: failed (and there is no PATH.json)"
		"--tool $T/upper --tools $T/defs.json|--tool and --tools exclude each other"
		"--tools $T/defs.json|--tools: $T/defs.json: not a JSON array of tool definitions"
		"--confirm|--confirm needs --tool"
		"--each --tool $T/upper|--each excludes --tool and --tools"
	)
	local c
	for c in "${cases[@]}"; do
		# shellcheck disable=SC2086
		run --separate-stderr oai-chat ${c%%|*} hi </dev/null
		assert_status 2
		assert_output ''
		assert_stderr "oai-chat: ${c#*|}"
	done
	run --separate-stderr oai-chat --tool "$T/a b" hi </dev/null
	assert_status 2
	assert_stderr "oai-chat: --tool: $T/a b: a tool's name (its file name up to a dot) is 1 to 64 letters, digits, _ or -"
	assert_equal 0 "$(srv_nreq)"
}

@test "at a terminal each call is shown as [tool] name {args}; --confirm asks, and a no is sent back" {
	command -v script >/dev/null || skip "script is not installed"
	run bash -c "printf 'n\n' | script -qec 'oai-chat --confirm --tool $T/upper hi' /dev/null"
	assert_status 0
	assert_output_contains '[tool] upper {"text":"hi"}'
	assert_output_contains 'run upper {"text":"hi"}? [y/N]'
	assert_output_contains 'echo: the user declined to run this tool'
	run bash -c "printf 'y\n' | script -qec 'oai-chat --confirm --tool $T/upper hi' /dev/null"
	assert_status 0
	assert_output_contains 'echo: {"TEXT":"HI"}'
}
