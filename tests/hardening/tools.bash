# See LICENSE file for copyright and license details.
#
# The table the tests/hardening-*.bats files walk: every tool's main path
# against the test server.  Load after helper:  load hardening/tools
#
#   HD_TOOLS          every tool in bin/ (cmd/*.c), so a new tool is covered
#   hd_files          create the inputs the table uses in the current dir
#   hd_cmd TOOL [OPT...]
#                     set HD_CMD (argv: the tool, OPT..., its operands) and
#                     HD_IN (the file its stdin reads) for TOOL's main path
#   hd_path TOOL      the API path the main path requests
#   assert_one_line PREFIX
#                     $stderr is exactly one line starting with "PREFIX: "
#   assert_no_crash   $status is below 128 (a signal is a crash) and
#                     nothing on stderr comes from a sanitizer or valgrind

. "$BATS_TEST_DIRNAME/hardening/known.bash"

HD_TOOLS=()
for _t in "$ROOT"/cmd/*.c; do
	_t=${_t##*/}
	HD_TOOLS+=("${_t%.c}")
done
unset _t

hd_files() {
	printf 'ID3 fake audio\n' > hello.mp3
	printf 'hello world\n' > hello.txt
	: > empty
}

hd_cmd() {
	local t=$1
	shift
	HD_IN=/dev/null
	case $t in
	# oai-batch: its listing (as JSON, so that even an empty one
	# prints); a whole run (upload, create, poll, download) is
	# tests/oai-batch.bats's
	oai-batch)	HD_CMD=(oai-batch "$@" --list --json) ;;
	oai-chat)	HD_CMD=(oai-chat "$@" hi) ;;
	oai-complete)	HD_CMD=(oai-complete "$@" hi) ;;
	oai-embed)	HD_CMD=(oai-embed "$@"); HD_IN=hello.txt ;;
	oai-files)	HD_CMD=(oai-files "$@" --json) ;;
	oai-image)	HD_CMD=(oai-image "$@" hi) ;;
	oai-models)	HD_CMD=(oai-models "$@") ;;
	oai-moderate)	HD_CMD=(oai-moderate "$@"); HD_IN=hello.txt ;;
	oai-speak)	HD_CMD=(oai-speak "$@" hi) ;;
	oai-transcribe)	HD_CMD=(oai-transcribe "$@" hello.mp3) ;;
	*)		HD_CMD=("$t" "$@") ;;	# a new tool: add its main path here
	esac
}

hd_path() {
	case $1 in
	oai-batch)	echo /v1/batches ;;
	oai-chat)	echo /v1/chat/completions ;;
	oai-complete)	echo /v1/completions ;;
	oai-embed)	echo /v1/embeddings ;;
	oai-files)	echo /v1/files ;;
	oai-image)	echo /v1/images/generations ;;
	oai-models)	echo /v1/models ;;
	oai-moderate)	echo /v1/moderations ;;
	oai-speak)	echo /v1/audio/speech ;;
	oai-transcribe)	echo /v1/audio/transcriptions ;;
	esac
}

assert_one_line() {
	_helper_need_stderr assert_one_line || return 1
	if [[ $stderr == *$'\n'* || $stderr != "$1: "?* ]]; then
		printf 'assert_one_line: want one line starting "%s: "\n' "$1" >&2
		_helper_context
		return 1
	fi
}

assert_no_crash() {
	if [ "${status-}" -ge 128 ] || [[ ${stderr-} == *Sanitizer* ||
		${stderr-} == *"runtime error"* || ${stderr-} == *"=="[0-9]*"=="* ]]
	then
		printf 'assert_no_crash: signal, sanitizer or valgrind report\n' >&2
		_helper_context
		return 1
	fi
}

# hd_each KEY FUNC: run FUNC TOOL for every tool.  For the "KEY TOOL"
# pairs listed in hardening/known.bash FUNC must fail (a fix must be
# noticed and the entry removed); the reason is printed as a comment.
hd_each() {
	local key=$1 fn=$2 t rc
	for t in "${HD_TOOLS[@]}"; do
		if [ -z "${HD_KNOWN["$key $t"]:-}" ]; then
			"$fn" "$t"
			continue
		fi
		# In the background, so that set -e still applies inside.
		( "$fn" "$t" ) >/dev/null 2>&1 &
		rc=0
		wait $! || rc=$?
		if [ "$rc" -eq 0 ]; then
			fail "$key: $t passes now: remove it from tests/hardening/known.bash"
			return 1
		fi
		echo "# known failure ($key $t): ${HD_KNOWN["$key $t"]}" >&3
	done
}
