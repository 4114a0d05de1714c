#!/usr/bin/env bash
# ConHub health monitor (the seed's monitor.sh, extended).
#
# Checks every target's /health directly on its port, and the routed ones
# through the gateway (nginx, or the one-process gateway): /health of the
# gateway itself, <prefix>/health of each routed service, and / (the dashboard).
# Prints one ✅/❌ line per check and exits 1 if any check failed.
#
# Usage: ./monitor.sh [--direct-only | --gateway-only] [-q|--quiet] [-h|--help]
#
# Environment:
#   MONITOR_HOST       host of the direct checks (default: localhost)
#   GATEWAY_URL        base URL of the gateway (default: http://localhost;
#                      the one-process gateway is http://localhost:8000)
#   MONITOR_TIMEOUT    seconds allowed per check (default: 5)
#   CURL_INSECURE=1    accept a self-signed certificate (https GATEWAY_URL)
#   AUTH_SERVICE_PORT, BILLING_SERVICE_PORT, AI_SERVICE_PORT, DATA_SERVICE_PORT,
#   SECURITY_SERVICE_PORT, WEBHOOK_SERVICE_PORT, INDEXER_PORT, MCP_SERVICE_PORT,
#   GOOGLE_DRIVE_MCP_PORT, DROPBOX_MCP_PORT, FILESYSTEM_MCP_PORT, FRONTEND_PORT
#                      override the seed ports, as for `conhub start`.

set -uo pipefail

direct=1
gateway=1
quiet=0
for arg in "$@"; do
  case "$arg" in
    --direct-only) gateway=0 ;;
    --gateway-only) direct=0 ;;
    -q | --quiet) quiet=1 ;;
    -h | --help)
      sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0"
      exit 0
      ;;
    *)
      echo "monitor.sh: unknown argument: $arg (try --help)" >&2
      exit 2
      ;;
  esac
done

host="${MONITOR_HOST:-localhost}"
gateway_url="${GATEWAY_URL:-http://localhost}"
gateway_url="${gateway_url%/}"
timeout="${MONITOR_TIMEOUT:-5}"

curl_opts=(--silent --show-error --location --max-time "$timeout" --output /dev/null --write-out '%{http_code}')
if [[ "${CURL_INSECURE:-0}" == "1" ]]; then
  curl_opts+=(--insecure)
fi

# name|port|gateway prefix ("-" when the target is not routed by the gateway)
targets=(
  "auth-service|${AUTH_SERVICE_PORT:-3010}|/api/auth"
  "billing-service|${BILLING_SERVICE_PORT:-3011}|/api/billing"
  "ai-service|${AI_SERVICE_PORT:-3012}|/api/ai"
  "data-service|${DATA_SERVICE_PORT:-3013}|/api/data"
  "security-service|${SECURITY_SERVICE_PORT:-3014}|/api/security"
  "webhook-service|${WEBHOOK_SERVICE_PORT:-3015}|/api/webhooks"
  "indexer|${INDEXER_PORT:-8080}|/indexer"
  "mcp-service|${MCP_SERVICE_PORT:-3004}|/mcp"
  "google-drive|${GOOGLE_DRIVE_MCP_PORT:-3005}|-"
  "dropbox|${DROPBOX_MCP_PORT:-3006}|-"
  "filesystem|${FILESYSTEM_MCP_PORT:-3007}|-"
  "frontend|${FRONTEND_PORT:-3000}|/"
)

checked=0
failed=0

# check LABEL URL: healthy when the final answer (after redirects) is 2xx.
check() {
  local label="$1" url="$2" code
  checked=$((checked + 1))
  code="$(curl "${curl_opts[@]}" "$url" 2>/dev/null)"
  if [[ "$code" =~ ^2[0-9][0-9]$ ]]; then
    if [[ "$quiet" == "0" ]]; then
      echo "✅ $label is healthy ($url)"
    fi
  else
    failed=$((failed + 1))
    if [[ -z "$code" || "$code" == "000" ]]; then
      echo "❌ $label is down ($url: no answer)"
    else
      echo "❌ $label is down ($url: HTTP $code)"
    fi
  fi
}

if [[ "$direct" == "1" ]]; then
  for entry in "${targets[@]}"; do
    IFS='|' read -r name port _prefix <<<"$entry"
    check "$name" "http://${host}:${port}/health"
  done
fi

if [[ "$gateway" == "1" ]]; then
  check "gateway" "${gateway_url}/health"
  for entry in "${targets[@]}"; do
    IFS='|' read -r name _port prefix <<<"$entry"
    case "$prefix" in
      -) ;;
      # The gateway answers /health itself: the dashboard is checked at /.
      /) check "$name via gateway" "${gateway_url}/" ;;
      *) check "$name via gateway" "${gateway_url}${prefix}/health" ;;
    esac
  done
fi

if [[ "$failed" -gt 0 ]]; then
  echo "$failed of $checked checks failed."
  exit 1
fi
echo "All $checked checks passed."
