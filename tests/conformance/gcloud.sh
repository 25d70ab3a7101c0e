#!/bin/bash
# Drives a running `ccaictl emulator` with gcloud, as shipped, pointed at
# it with api_endpoint_overrides and the emulator's key file (the token
# endpoint is the key file's token_uri; nothing reaches Google):
# services, iam service-accounts (and keys, JSON and P12),
# projects get/add/remove-iam-policy-binding, storage buckets/cp/cat/ls/rm.
#   tests/conformance/gcloud.sh BASE_URL DATA_DIR
# Prints "conformance: gcloud ok (N checks)" or fails.
set -u
base=$1
data=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/ccai-gcloud-XXXXXX")
trap 'rm -rf "$work"' EXIT
export CLOUDSDK_CONFIG=$work/config
export CLOUDSDK_CORE_DISABLE_PROMPTS=1
checks=0
project=gcloud-conf-1

fail() {
	echo "conformance: gcloud FAILED: $*" >&2
	exit 1
}

# gc ARGS...: runs gcloud, output in $out; fails the suite on an error
gc() {
	if ! out=$(gcloud "$@" 2>"$work/err"); then
		cat "$work/err" >&2
		fail "gcloud $*"
	fi
}

check() { # check WHAT CONDITION...
	local what=$1
	shift
	"$@" || fail "$what"
	checks=$((checks + 1))
}

has() { grep -qF -- "$2" <<<"$1"; }

# --- set-up: overrides, the emulator's key, no calls home ---------------
# Properties as environment variables (CLOUDSDK_SECTION_PROPERTY), the same
# as `gcloud config set section/property` (docs/emulator.md), one gcloud
# start each fewer.
export CLOUDSDK_CORE_DISABLE_USAGE_REPORTING=true
export CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK=true
export CLOUDSDK_CORE_CHECK_GCE_METADATA=false
export CLOUDSDK_CORE_PROJECT=$project
for api in CLOUDRESOURCEMANAGER IAM SERVICEUSAGE IAMCREDENTIALS; do
	export "CLOUDSDK_API_ENDPOINT_OVERRIDES_$api=$base/"
done
export CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE=$base/storage/v1/
gc auth activate-service-account --key-file="$data/credentials.json"
gc auth print-access-token
check "an access token from the key file's token_uri" has "$out" ya29.

# --- services ---------------------------------------------------------
gc services enable dialogflow.googleapis.com \
	contactcenterinsights.googleapis.com storage.googleapis.com
gc services list --enabled --format='value(config.name)'
check "services enabled" has "$out" contactcenterinsights.googleapis.com
gc services disable storage.googleapis.com
gc services list --enabled --format='value(config.name)'
check "services disabled" test "$(grep -c . <<<"$out")" -eq 2

# --- service accounts and keys -----------------------------------------
sa=ccai-insights@$project.iam.gserviceaccount.com
gc iam service-accounts create ccai-insights --display-name="CCAI Insights"
gc iam service-accounts list --format='value(email)'
check "service account listed" has "$out" "$sa"
gc iam service-accounts describe "$sa" --format='value(uniqueId)'
uid=$out
check "unique id" test "${#uid}" -eq 21
gc iam service-accounts update "$sa" --display-name="Insights export"
# by unique id: projects/-/serviceAccounts/UNIQUE_ID
gc iam service-accounts describe "$uid" --format='value(displayName)'
check "described by unique id" test "$out" = "Insights export"
gc iam service-accounts keys create "$work/key.json" --iam-account="$sa"
check "JSON key file" grep -Eq '"type":[[:space:]]*"service_account"' \
	"$work/key.json"
gc iam service-accounts keys create "$work/key.p12" --iam-account="$sa" \
	--key-file-type=p12
if command -v openssl >/dev/null 2>&1; then
	check "P12 key file (password notasecret)" \
		openssl pkcs12 -in "$work/key.p12" -passin pass:notasecret \
		-nokeys -out /dev/null
fi
gc iam service-accounts keys list --iam-account="$sa" --managed-by=user \
	--format='value(name)'
check "two user-managed keys" test "$(grep -c . <<<"$out")" -eq 2
key=$(head -1 <<<"$out")
key=${key##*/}
gc iam service-accounts keys disable "$key" --iam-account="$sa"
gc iam service-accounts keys list --iam-account="$sa" --managed-by=user \
	--format='value(disabled)'
check "a key disabled" has "$out" True
gc iam service-accounts keys delete "$key" --iam-account="$sa"
gc iam service-accounts keys list --iam-account="$sa" --managed-by=user \
	--format='value(name)'
check "a key deleted" test "$(grep -c . <<<"$out")" -eq 1
gc iam service-accounts disable "$sa"
gc iam service-accounts enable "$sa"
gc iam service-accounts describe "$sa" --format='value(disabled)'
check "enabled again" test "$out" != True

# --- the project's IAM policy: read-modify-write with etags ---------------
gc projects describe "$project" --format='value(projectId)'
check "projects describe" test "$out" = "$project"
# several writes: the etag gcloud sends back is URL-safe base64
for role in dialogflow.admin contactcenterinsights.editor \
	dialogflow.reader iam.serviceAccountUser storage.objectViewer \
	logging.viewer; do
	gc projects add-iam-policy-binding "$project" \
		--member="serviceAccount:$sa" --role="roles/$role" \
		--condition=None
done
gc projects get-iam-policy "$project" \
	--flatten='bindings[].members' \
	--filter="bindings.members:serviceAccount:$sa" \
	--format='value(bindings.role)'
check "six roles bound" test "$(grep -c . <<<"$out")" -eq 6
gc projects remove-iam-policy-binding "$project" \
	--member="serviceAccount:$sa" --role=roles/logging.viewer --all
gc projects get-iam-policy "$project" --format=json
check "binding removed" bash -c '! grep -q logging.viewer <<<"$1"' _ "$out"
check "the admin stays owner" has "$out" roles/owner

# --- Cloud Storage ---------------------------------------------------------
bucket=gs://gcloud-conf-bucket-1
gc storage buckets create "$bucket" --location=EU
gc storage buckets describe "$bucket" --format='value(location)'
check "bucket location" test "$out" = EU
gc storage buckets list --format='value(name)'
check "buckets list" has "$out" gcloud-conf-bucket-1
printf 'state v1\n' >"$work/state.txt"
gc storage cp "$work/state.txt" "$bucket/env/state.txt"
printf 'other\n' >"$work/other.txt"
gc storage cp "$work/other.txt" "$bucket/other.txt"
gc storage cat "$bucket/env/state.txt"
check "cat" test "$out" = "state v1"
gc storage ls "$bucket"
check "ls folds env/" has "$out" "$bucket/env/"
gc storage ls -r "$bucket"
check "ls -r" has "$out" "$bucket/env/state.txt"
gc storage cp "$bucket/other.txt" "$work/back.txt"
check "download" cmp -s "$work/other.txt" "$work/back.txt"
gc storage objects describe "$bucket/env/state.txt" --format=json
check "crc32c and md5" bash -c 'grep -q crc32c_hash <<<"$1" && grep -q md5_hash <<<"$1"' _ "$out"
gc storage rm "$bucket/env/state.txt" "$bucket/other.txt"
gc storage ls "$bucket"
check "objects removed" test -z "$out"
gc storage buckets delete "$bucket"
gc storage buckets list --format='value(name)'
check "bucket deleted" bash -c '! grep -q gcloud-conf-bucket-1 <<<"$1"' _ "$out"

# --- the account goes ---------------------------------------------------
gc iam service-accounts delete "$sa"
gc iam service-accounts list --format='value(email)'
check "account deleted" bash -c '! grep -qF "$2" <<<"$1"' _ "$out" "$sa"

echo "conformance: gcloud ok ($checks checks)"
