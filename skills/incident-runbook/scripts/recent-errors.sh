#!/bin/sh
# Error counts per minute for one service over the last MINUTES minutes (default 30), from the read-only status API.
set -eu
service="${1:?usage: recent-errors.sh SERVICE [MINUTES]}"
minutes="${2:-30}"
curl -fsS "https://status.example.com/api/errors?service=${service}&minutes=${minutes}" | jq -r '.buckets[] | "\(.minute) \(.count)"'
