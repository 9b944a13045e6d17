#!/usr/bin/env bats
# See LICENSE file for copyright and license details.
# The config file of every tool, oai-chat's roles and -s @FILE (issue 14,
# item 4; oai(7) CONFIGURATION): precedence flag > role > environment >
# config > default, sections, errors naming FILE:LINE.
bats_require_minimum_version 1.5.0

setup_file() { load helper; srv_start; }
teardown_file() { load helper; srv_stop; }
setup() {
	load helper
	srv_reset
	export OPENAI_API_KEY=sk-test-config
	export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/cfg"
	CONF=$XDG_CONFIG_HOME/oai/config
	ROLES=$XDG_CONFIG_HOME/oai/roles
	mkdir -p "$ROLES"
	cd "$BATS_TEST_TMPDIR"
}

# The model oai-chat would send.
model() { oai-chat --dry-run "$@" hi | jq -r .model; }

@test "config: model precedence: flag > OAI_CHAT_MODEL > config > default" {
	assert_equal gpt-4o "$(model)"
	printf '[oai-chat]\nmodel = conf-m\n' > "$CONF"
	assert_equal conf-m "$(model)"
	assert_equal env-m "$(OAI_CHAT_MODEL=env-m model)"
	assert_equal flag-m "$(OAI_CHAT_MODEL=env-m model -m flag-m)"
	assert_equal conf-m "$(OAI_CHAT_MODEL= model)"
	# what the server received
	run --separate-stderr oai-chat hi </dev/null
	assert_status 0
	assert_output 'echo: hi'
	assert_stderr ''
	assert_equal conf-m "$(srv_req_field 1 '.body | fromjson | .model')"
}

@test "config: oai-embed's model: flag > OAI_EMBED_MODEL > config > default" {
	printf 'x\n' > in.txt
	emodel() { oai-embed --dry-run "$@" in.txt | jq -r .model; }
	assert_equal text-embedding-3-small "$(emodel)"
	printf '[oai-embed]\nmodel = conf-e\n' > "$CONF"
	assert_equal conf-e "$(emodel)"
	assert_equal env-e "$(OAI_EMBED_MODEL=env-e emodel)"
	assert_equal flag-e "$(OAI_EMBED_MODEL=env-e emodel -m flag-e)"
}

@test "config: lines before any section go to every tool with the option; sections to one" {
	cat > "$CONF" <<-'END'
	# defaults
	temperature = 0.5
	voice = echo
	no-such-option = ignored here

	[oai-speak]
	format = wav
	[oai-embed]
	model = emb-only
	END
	run --separate-stderr oai-chat --dry-run --no-stream hi
	assert_status 0
	assert_stderr ''
	assert_output '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"temperature":0.5}'
	run --separate-stderr bash -c 'oai-speak hi | head -c4'
	assert_status 0
	assert_stderr ''
	assert_equal '{"model":"tts-1","input":"hi","voice":"echo","response_format":"wav"}' \
		"$(srv_req_field 1 .body)"
	oai-speak -v nova -f mp3 hi > /dev/null
	assert_equal '{"model":"tts-1","input":"hi","voice":"nova","response_format":"mp3"}' \
		"$(srv_req_field 2 .body)"
}

@test "config: model, format and output before any section are refused: they differ by tool" {
	for key in model format output; do
		printf '# top\n%s = x\n[oai-chat]\n' "$key" > "$CONF"
		printf "x\n" > in.txt
		run --separate-stderr oai-embed --dry-run in.txt
		assert_status 2
		assert_output ''
		assert_stderr "oai-embed: $CONF:2: --$key means something else in each tool: set it in a tool's section, such as [oai-embed]"
	done
	assert_equal 0 "$(srv_nreq)"
}

@test "config: values keep their spaces; repeatable options add up; the command line replaces them" {
	cat > "$CONF" <<-'END'
	[oai-chat]
	system = Be  brief # not a comment
	param = user=a b
	param = seed=7
	no-stream
	json = false
	END
	run --separate-stderr oai-chat --dry-run hi
	assert_status 0
	assert_stderr ''
	assert_output '{"model":"gpt-4o","messages":[{"role":"system","content":"Be  brief # not a comment"},{"role":"user","content":"hi"}],"user":"a b","seed":7}'
	run --separate-stderr oai-chat --dry-run --param seed=8 hi
	assert_status 0
	assert_output '{"model":"gpt-4o","messages":[{"role":"system","content":"Be  brief # not a comment"},{"role":"user","content":"hi"}],"seed":8}'
}

@test "config: OAI_CONFIG names the file; empty turns it off; a missing file is no error" {
	printf '[oai-chat]\nmodel = from-xdg\n' > "$CONF"
	printf '[oai-chat]\nmodel = from-env-file\n' > other
	assert_equal from-xdg "$(model)"
	assert_equal from-env-file "$(OAI_CONFIG=other model)"
	assert_equal gpt-4o "$(OAI_CONFIG= model)"
	run --separate-stderr env OAI_CONFIG=/nonexistent/config oai-chat --dry-run hi
	assert_status 0
	assert_stderr ''
	# without XDG_CONFIG_HOME: ~/.config/oai/config
	mkdir -p "$HOME/.config/oai"
	printf '[oai-chat]\nmodel = from-home\n' > "$HOME/.config/oai/config"
	assert_equal from-home "$(unset XDG_CONFIG_HOME; model)"
	# a relative XDG_CONFIG_HOME is ignored, as the XDG spec says
	assert_equal from-home "$(XDG_CONFIG_HOME=cfg model)"
}

@test "config: base-url and api-key-file, under OPENAI_BASE_URL and OPENAI_API_KEY" {
	umask 077
	printf 'sk-from-file-0123456789\n' > key
	printf 'base-url = %s/v1\napi-key-file = %s/key\n' "$SRV_URL" "$PWD" > "$CONF"
	run --separate-stderr env -u OPENAI_BASE_URL -u OPENAI_API_KEY oai-models
	assert_status 0
	assert_stderr ''
	assert_equal 'Bearer sk-from-file-0123456789' "$(srv_req_field 1 .headers.authorization)"
	# the environment wins over the file
	printf 'base-url = http://127.0.0.1:1/v1\napi-key-file = /nonexistent\n' > "$CONF"
	run --separate-stderr oai-models
	assert_status 0
	assert_stderr ''
	assert_equal 'Bearer sk-test-config' "$(srv_req_field 2 .headers.authorization)"
	# --dry-run and -v show neither key
	printf 'api-key-file = %s/key\n' "$PWD" > "$CONF"
	run --separate-stderr env -u OPENAI_API_KEY oai-chat -v hi </dev/null
	assert_status 0
	refute_stderr_contains sk-from-file
	assert_stderr_contains "oai-chat: config $CONF"
}

@test "config: a value starting ~/ or @~/ is in \$HOME; a ~ elsewhere is kept" {
	umask 077
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME/k"
	printf 'sk-from-home-0123456789\n' > "$HOME/k/key"
	printf 'Be brief.\n' > "$HOME/sys.txt"
	printf 'api-key-file = ~/k/key\n[oai-chat]\nsystem = @~/sys.txt\n' > "$CONF"
	run --separate-stderr env -u OPENAI_API_KEY oai-chat --no-stream hi
	assert_status 0
	assert_stderr ''
	assert_equal 'Bearer sk-from-home-0123456789' "$(srv_req_field 1 .headers.authorization)"
	assert_equal '[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]' \
		"$(srv_req_field 1 '.body | fromjson | .messages | tojson')"
	printf '[oai-chat]\nsystem = a ~/b and ~c\n' > "$CONF"
	assert_equal 'a ~/b and ~c' "$(oai-chat --dry-run hi | jq -r '.messages[0].content')"
}

@test "config: errors name FILE:LINE, exit 2, nothing on stdout" {
	check() {
		printf "$1" > "$CONF"
		run --separate-stderr oai-chat --dry-run hi
		assert_status 2
		assert_output ''
		assert_stderr "oai-chat: $CONF:$2"
	}
	check '[oai-chat]\n\nfoo = 1\n' "3: oai-chat has no option --foo"
	check '# c\n[oai-chatt]\n' "2: unknown section [oai-chatt]: sections are named after the tools (oai-chat...)"
	check 'temperature = 3\n' "1: --temperature: 3 is out of range (0 to 2)"
	check 'model: x\n' "1: expected key = value (a long option name, '=', its value), a [section] or a # comment"
	check '[oai-chat\n' "1: a section header is [name]"
	check 'no-stream = yes\n' "1: --no-stream takes no value: write no-stream, no-stream = true or no-stream = false"
	check '[oai-chat]\nmodel\n' "2: --model needs a value"
	check '[oai-chat]\nmodel =\n' "2: --model: empty model name"
	check 'api-key = sk-abcdefghijkl\n' "1: the API key goes in a file of its own, mode 0600: api-key-file = FILE"
	check 'help\n' "1: --help goes on the command line only"
	check '[oai-chat]\nrole = x\n' "2: --role goes on the command line only"
	# a bad line in another tool's section is still an error; its keys are not checked
	check '[oai-speak]\nwhatever = 1\n[oai-embed]\nbad line\n' "4: expected key = value (a long option name, '=', its value), a [section] or a # comment"
	# --help works whatever the file says
	run --separate-stderr oai-chat --help
	assert_status 0
	# a file that is not a regular file, or not text
	mkdir -p dir
	run --separate-stderr env OAI_CONFIG=dir oai-chat --dry-run hi
	assert_status 2
	assert_stderr 'oai-chat: config file dir is not a regular file'
	printf 'timeout = \377\n' > "$CONF"
	run --separate-stderr oai-chat --dry-run hi
	assert_status 2
	assert_stderr "oai-chat: $CONF: not valid UTF-8 at byte offset 10"
}

@test "roles: options and system message; flag > role > environment > config" {
	printf '[oai-chat]\nmodel = conf-m\ntemperature = 1.5\nmax-tokens = 9\n' > "$CONF"
	printf 'model = role-m\ntemperature = 0.2\n\n\nYou are terse.\n\nVery.\n\n' > "$ROLES/terse"
	run --separate-stderr oai-chat -r terse --dry-run --no-stream hi
	assert_status 0
	assert_stderr ''
	assert_output '{"model":"role-m","messages":[{"role":"system","content":"You are terse.\n\nVery."},{"role":"user","content":"hi"}],"temperature":0.2,"max_completion_tokens":9}'
	assert_equal role-m "$(OAI_CHAT_MODEL=env-m model -r terse)"
	assert_equal flag-m "$(OAI_CHAT_MODEL=env-m model -r terse -m flag-m)"
	run --separate-stderr oai-chat -r terse -s 'Be kind.' -t 1 hi </dev/null
	assert_status 0
	assert_output 'echo: hi'
	assert_equal '{"model":"role-m","messages":[{"role":"system","content":"Be kind."},{"role":"user","content":"hi"}],"temperature":1,"max_completion_tokens":9}' \
		"$(srv_req_field 1 '.body | fromjson | del(.stream, .stream_options) | tojson')"
}

@test "roles: --- separates, no header, a prompt starting with @ is text" {
	printf -- '---\n@not-a-file\n' > "$ROLES/at"
	run --separate-stderr oai-chat -r at --dry-run --no-stream hi
	assert_status 0
	assert_output '{"model":"gpt-4o","messages":[{"role":"system","content":"@not-a-file"},{"role":"user","content":"hi"}]}'
	printf 'model = only-options\n---\n' > "$ROLES/opts"
	run --separate-stderr oai-chat --role opts --dry-run --no-stream hi
	assert_status 0
	assert_output '{"model":"only-options","messages":[{"role":"user","content":"hi"}]}'
}

@test "roles: a missing, misnamed or malformed role is one line, exit 2" {
	run --separate-stderr oai-chat -r nope hi
	assert_status 2
	assert_output ''
	assert_stderr "oai-chat: --role: no role 'nope' (looked for $ROLES/nope)"
	run --separate-stderr oai-chat -r ../config hi
	assert_status 2
	assert_stderr "oai-chat: --role: '../config' is not a role name (a file name in the roles directory)"
	printf 'You are a pirate.\n' > "$ROLES/plain"
	run --separate-stderr oai-chat -r plain hi
	assert_status 2
	assert_stderr "oai-chat: $ROLES/plain:1: expected key = value (a long option name, '=', its value); the system prompt goes after an empty line or ---"
	printf 'model = x\n' > "$ROLES/nosep"
	run --separate-stderr oai-chat -r nosep hi
	assert_status 2
	assert_stderr "oai-chat: $ROLES/nosep: no empty line or --- after the options, before the system prompt"
	printf 'colour = red\n\nHi.\n' > "$ROLES/unknown"
	run --separate-stderr oai-chat -r unknown hi
	assert_status 2
	assert_stderr "oai-chat: $ROLES/unknown:1: oai-chat has no option --colour"
	printf '[oai-chat]\n\nHi.\n' > "$ROLES/sect"
	run --separate-stderr oai-chat -r sect hi
	assert_status 2
	assert_stderr "oai-chat: $ROLES/sect:1: a role file has no sections"
}

@test "-s @FILE reads the system message from a file; @@ is a literal @; @- is stdin" {
	printf 'From a file.\n\n' > sys.txt
	run --separate-stderr oai-chat -s @sys.txt --dry-run --no-stream hi
	assert_status 0
	assert_stderr ''
	assert_output '{"model":"gpt-4o","messages":[{"role":"system","content":"From a file."},{"role":"user","content":"hi"}]}'
	run --separate-stderr oai-chat --system @@home --dry-run --no-stream hi
	assert_output '{"model":"gpt-4o","messages":[{"role":"system","content":"@home"},{"role":"user","content":"hi"}]}'
	run --separate-stderr oai-chat -s @- --dry-run --no-stream hi <<<'From stdin.'
	assert_status 0
	assert_output '{"model":"gpt-4o","messages":[{"role":"system","content":"From stdin."},{"role":"user","content":"hi"}]}'
	run --separate-stderr oai-chat -s @missing hi
	assert_status 2
	assert_output ''
	assert_stderr 'oai-chat: --system: cannot read missing: No such file or directory'
	run --separate-stderr oai-chat -s @ hi
	assert_status 2
	assert_stderr 'oai-chat: --system: @ without a file name (@@ begins a text with @)'
	printf 'a\0b' > nul.txt
	run --separate-stderr oai-chat -s @nul.txt hi
	assert_status 2
	assert_stderr 'oai-chat: nul.txt: a NUL byte at byte offset 1'
	# from the config file too
	printf '[oai-chat]\nsystem = @%s/sys.txt\n' "$PWD" > "$CONF"
	run --separate-stderr oai-chat hi </dev/null
	assert_status 0
	assert_equal 'From a file.' "$(srv_req_field 1 '.body | fromjson | .messages[0].content')"
}

@test "oai-batch -s @FILE, and its model from the config file under OAI_CHAT_MODEL" {
	printf 'Be brief.\n' > sys.txt
	printf 'one\n' > in.txt
	printf '[oai-batch]\nmodel = conf-b\n' > "$CONF"
	oai-batch -e chat --lines --keep-files -s @sys.txt < in.txt > out
	assert_equal '["line-1",{"model":"conf-b","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"one"}]}]' \
		"$(oai-files -g file-test1 | jq -c '[.custom_id, .body]')"
	srv_reset
	OAI_CHAT_MODEL=env-b oai-batch -e chat --lines --keep-files < in.txt > out
	assert_equal env-b "$(oai-files -g file-test1 | jq -r .body.model)"
}

@test "config: a -c conversation's model and system message win over the config file's, not over -m and -s" {
	printf '[oai-chat]\nmodel = conf-m\nsystem = conf-s\n' > "$CONF"
	printf '%s\n' '{"role":"system","content":"conv-s"}' '{"role":"user","content":"q"}' \
		'{"role":"assistant","content":"a","model":"conv-m"}' > c.jsonl
	run --separate-stderr oai-chat -c c.jsonl --dry-run --no-stream hi
	assert_status 0
	assert_output '{"model":"conv-m","messages":[{"role":"system","content":"conv-s"},{"role":"user","content":"q"},{"role":"assistant","content":"a"},{"role":"user","content":"hi"}]}'
	run --separate-stderr oai-chat -c c.jsonl -m flag-m -s flag-s --dry-run --no-stream hi
	assert_status 0
	assert_output '{"model":"flag-m","messages":[{"role":"system","content":"flag-s"},{"role":"user","content":"q"},{"role":"assistant","content":"a"},{"role":"user","content":"hi"}]}'
}

@test "roles: --list-roles prints the names -r takes, sorted bytewise; the completions offer them" {
	for r in zeta Alpha beta; do printf -- '---\nYou are %s.\n' "$r" > "$ROLES/$r"; done
	touch "$ROLES/.hidden"
	mkdir "$ROLES/adir"
	ln -s beta "$ROLES/linked"
	ln -s nowhere "$ROLES/dangling"
	run --separate-stderr oai-chat --list-roles
	assert_status 0
	assert_stderr ''
	assert_output "$(printf 'Alpha\nbeta\nlinked\nzeta')"
	# each one listed is one -r takes
	for r in $output; do
		oai-chat --dry-run -r "$r" hi >/dev/null || fail "-r $r refused"
	done
	for t in oai-chat oai-batch; do
		run bash -c '. "$1/completions/bash/$2" && COMP_WORDS=($2 -r "$3") &&
			COMP_CWORD=2 && _${2//-/_} && echo "${COMPREPLY[*]}"' - "$ROOT" "$t" b
		assert_status 0
		assert_output 'beta'
	done
	grep -q -- "-a '(oai-chat --list-roles 2>/dev/null)'" "$ROOT/completions/fish/oai-chat.fish"
	grep -q 'oai-chat --list-roles' "$ROOT/completions/zsh/_oai-batch"
	rm -r "$ROLES"
	run --separate-stderr oai-chat --list-roles
	assert_status 0
	assert_output ''
	assert_stderr ''
}

@test "roles: --list-roles takes no prompt and no other mode: exit 2, one line" {
	for a in hi -C --each --json --list-conversations "-c $BATS_TEST_TMPDIR/c.jsonl"; do
		run --separate-stderr oai-chat --list-roles $a </dev/null
		assert_status 2
		assert_output ''
		assert_stderr 'oai-chat: --list-roles takes no prompt and excludes -c, -C, --each, --json and --list-conversations'
	done
	run --separate-stderr env -u HOME -u XDG_CONFIG_HOME oai-chat --list-roles
	assert_status 2
	assert_stderr 'oai-chat: --list-roles: $XDG_CONFIG_HOME/oai/roles or $HOME/.config/oai/roles: neither is set'
	assert_equal 0 "$(srv_nreq)"
}
