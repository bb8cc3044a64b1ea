#!/bin/sh
# Runs before vitest (`npm test`): makes sure the Debian packages some tests drive are installed.
# Everything else the suite needs comes from `npm ci` (the XSD checks use xmllint-wasm).
#   chromium             the admin page tests (playwright-core drives /usr/bin/chromium)
#   python3-exchangelib  the second, independent EWS client against the simulator
#   dovecot-imapd        the IMAP server behind the mailbox monitor's simulator
# Missing and running as root: installs them (waiting for another apt run's lock up to 10 minutes).
# Missing otherwise: exits 1 at once with the one command that installs them.
# EXSYNC_SKIP_TEST_PACKAGES=1 skips the check (for a run of tests that need none of them).
set -eu

[ "${EXSYNC_SKIP_TEST_PACKAGES:-}" = "1" ] && exit 0

PACKAGES="chromium python3-exchangelib dovecot-imapd"

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=""
for p in $PACKAGES; do
  installed "$p" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

command="apt-get update && apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "npm test: missing Debian packages:$missing. Install them with: sudo sh -c '$command'" >&2
  exit 1
fi

echo "npm test: installing missing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get -o DPkg::Lock::Timeout=600 update -qq && apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null; }; then
  echo "npm test: installing$missing failed; run: $command" >&2
  exit 1
fi
