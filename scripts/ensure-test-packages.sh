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
# Keep the packages' own services (dovecot) from starting on their standard ports while installing.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && own_policy=yes
fi
status=0
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=600 update -qq && apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null || status=$?
[ -n "$own_policy" ] && rm -f "$policy"
if [ "$status" != 0 ]; then
  echo "npm test: installing$missing failed; run: $command" >&2
  exit 1
fi
# The mailbox monitor's tests start private Dovecot instances; the system service must not listen on 143/993.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now dovecot.service dovecot.socket >/dev/null 2>&1 || true
fi
if [ -f /run/dovecot/master.pid ] && command -v doveadm >/dev/null 2>&1; then
  doveadm stop >/dev/null 2>&1 || true
fi
exit 0
