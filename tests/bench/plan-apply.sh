#!/bin/bash
# Benchmark: plan and apply of a 1,000-resource set (50 projects x 20
# resources) against the emulator with 20 ms added to every request.
# Prints figures; never fails on a slow machine.
#
#   tests/bench/plan-apply.sh [BUILD_DIR] [PARALLELISM...]
#
# For apply from scratch it prints the wall time next to two lower
# bounds: the critical path (the longest chain of dependent requests x
# 20 ms) and the throughput bound (requests / parallelism x 20 ms).  For
# a no-op plan it prints the wall time and request count next to what a
# reader doing one GET per resource, one after another, would need.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
shift || true
PARS=${*:-8 32}
CCAICTL=$PWD/$BUILD/ccaictl
[ -x "$CCAICTL" ] || { echo "build first: ./scripts/build $BUILD" >&2; exit 1; }
LAT=20
PROJECTS=50
T=$(mktemp -d "${TMPDIR:-/tmp}/ccai-bench-XXXXXX")
trap 'kill $EMU_PID 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT

# 20 resources per project: two APIs, 4 security settings, 5 agents each
# behind its security settings, 5 profiles each with its agent, 3 service
# accounts, Insights settings.
gen() {
	local dir=$1 p i
	mkdir -p "$dir"
	for p in $(seq 1 $PROJECTS); do
		f="$dir/p$p.yaml"
		proj=bench-proj-$(printf %03d $p)
		{
			printf 'apiVersion: ccaictl/v1\nkind: ApiService\nmetadata: {name: dialogflow, project: %s}\nspec: {service: dialogflow.googleapis.com}\n' $proj
			printf -- '---\napiVersion: ccaictl/v1\nkind: ApiService\nmetadata: {name: insights, project: %s}\nspec: {service: contactcenterinsights.googleapis.com}\n' $proj
			for i in 1 2 3 4; do
				printf -- '---\napiVersion: ccaictl/v1\nkind: SecuritySettings\nmetadata: {name: s%d, project: %s}\nspec: {displayName: "settings %d", insightsExportSettings: {enableInsightsExport: true}}\n' $i $proj $i
			done
			for i in 1 2 3; do
				printf -- '---\napiVersion: ccaictl/v1\nkind: ServiceAccount\nmetadata: {name: sa%d, project: %s}\nspec: {accountId: bench-account-%d}\n' $i $proj $i
			done
			for i in 1 2 3 4 5; do
				s=$(( (i - 1) % 4 + 1 ))
				printf -- '---\napiVersion: ccaictl/v1\nkind: Agent\nmetadata: {name: a%d, project: %s}\nspec: {displayName: "agent %d", defaultLanguageCode: en, timeZone: Europe/Madrid, securitySettingsRef: {name: s%d}}\n' $i $proj $i $s
				printf -- '---\napiVersion: ccaictl/v1\nkind: ConversationProfile\nmetadata: {name: c%d, project: %s}\nspec: {displayName: "profile %d", automatedAgentConfig: {agentRef: {name: a%d}}, securitySettingsRef: {name: s%d}}\n' $i $proj $i $i $s
			done
			printf -- '---\napiVersion: ccaictl/v1\nkind: InsightsSettings\nmetadata: {name: insights, project: %s, location: us-central1}\nspec: {languageCode: en-US}\n' $proj
		} > "$f"
	done
}

requests() {
	curl -sf "$EMU/__emulator/stats" | tr ',{}' '\n\n\n' | grep -oE ':[0-9]+$' | tr -d ':' | awk '{ s += $1 } END { print s + 0 }'
}

ms() { date +%s%3N; }

gen "$T/m"
"$CCAICTL" validate -f "$T/m" | sed 's/ (bench.*//; s/^/set: /'

mkdir -p "$T/emu"
coproc EMUP { exec "$CCAICTL" emulator --listen 127.0.0.1:0 --data "$T/emu" --faults "latency=${LAT}ms" 2>/dev/null; }
EMU_PID=$EMUP_PID
read -r line <&"${EMUP[0]}"
EMU=$(echo "$line" | grep -oE 'http://127\.0\.0\.1:[0-9]+')
G="--endpoint $EMU --credentials $T/emu/credentials.json"
cd "$T"

for par in $PARS; do
	rm -rf .ccaictl/state.json
	# a fresh set of projects per run: the emulator keeps what it made
	sed -i "s/bench-proj-\([0-9]*\)/bench$par-proj-\1/" m/*.yaml 2>/dev/null || true
	r0=$(requests); t0=$(ms)
	"$CCAICTL" apply -f m $G --auto-approve --parallelism "$par" > apply.out 2>&1 || { tail -5 apply.out; exit 1; }
	t1=$(ms); r1=$(requests)
	n=$((r1 - r0))
	# critical path: reads (1 round) + enable (POST + poll) + security
	# settings + agent + profile, each one request
	crit=$(( 6 * LAT ))
	thru=$(( n * LAT / par ))
	echo "apply from scratch, 1000 resources, parallelism $par: $((t1 - t0)) ms, $n requests;" \
		"lower bounds: critical path ${crit} ms, throughput ${thru} ms ($n x ${LAT} ms / $par)"
	r0=$(requests); t0=$(ms)
	"$CCAICTL" plan -f m $G --parallelism "$par" --detailed-exitcode > plan.out 2>&1 || { tail -5 plan.out; exit 1; }
	t1=$(ms); r1=$(requests)
	echo "no-op plan, 1000 resources in $PROJECTS projects, parallelism $par: $((t1 - t0)) ms, $((r1 - r0)) requests;" \
		"a sequential reader, one GET per resource: $((1000 * LAT)) ms, 1000 requests"
	sed -i "s/bench$par-proj-\([0-9]*\)/bench-proj-\1/" m/*.yaml
done
