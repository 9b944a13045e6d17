# See LICENSE file for copyright and license details.
#
# Known failures of the hardening tests, by "KEY TOOL": the test still
# runs the check and requires it to FAIL (so a fix is noticed: the test
# then fails until the entry is removed), and prints the reason as a TAP
# comment.  Every entry is a bug to fix, not a decision.
declare -gA HD_KNOWN=(
	# lib/http.c: for streams the timeout is CURLOPT_LOW_SPEED_TIME, which
	# never fires while nothing at all arrives (headers pending, or a
	# stalled body): the tool waits for the server forever.
	["stall oai-chat"]="--timeout not enforced on a stalled stream (lib/http.c LOW_SPEED)"
	["stall oai-speak"]="--timeout not enforced on a stalled stream (lib/http.c LOW_SPEED)"
	["silent oai-chat"]="--timeout not enforced before the stream's headers (lib/http.c LOW_SPEED)"
	["silent oai-speak"]="--timeout not enforced before the stream's headers (lib/http.c LOW_SPEED)"
	# lib/config.c openfds() reopens a closed stdout on /dev/null: the
	# output is silently thrown away and the tool exits 0 (cat and curl
	# report the write error).
	["closed oai-chat"]="closed stdout (>&-) silently becomes /dev/null, exit 0"
	["closed oai-embed"]="closed stdout (>&-) silently becomes /dev/null, exit 0"
	["closed oai-models"]="closed stdout (>&-) silently becomes /dev/null, exit 0"
	["closed oai-moderate"]="closed stdout (>&-) silently becomes /dev/null, exit 0"
	["closed oai-speak"]="closed stdout (>&-) silently becomes /dev/null, exit 0"
	["closed oai-transcribe"]="closed stdout (>&-) silently becomes /dev/null, exit 0"
	# oai-embed adds a second line ("stdin:1 and what follows were not
	# embedded") to every request failure.
	["5xx oai-embed"]="two lines on stderr after a failed request"
	["stall oai-embed"]="two lines on stderr after a failed request"
	["silent oai-embed"]="two lines on stderr after a failed request"
)
HD_KNOWN["redirect oai-embed"]="two lines on stderr after a failed request"
HD_KNOWN["big oai-embed"]="two lines on stderr after a failed request"
