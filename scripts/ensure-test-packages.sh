#!/bin/sh
# Installs the Debian packages the test suite runs (npm test's pretest; .ci/run installs the same).
# As root it installs what is missing; otherwise it fails at once naming the one command to run.
# Package -> what needs it:
#   dovecot-imapd  the mailbox monitor's IMAP server (tests run a private instance on a free port)
set -eu
missing=""
[ -x /usr/sbin/dovecot ] && [ -x /usr/bin/doveadm ] || missing="$missing dovecot-imapd"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing Debian packages:$missing; install them with: sudo apt-get install -y$missing" >&2
  exit 1
fi
# Keep the packages' own services from starting on their standard ports while installing.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && own_policy=yes
fi
# shellcheck disable=SC2086
(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null) || status=$?
[ -n "$own_policy" ] && rm -f "$policy"
if [ "${status:-0}" != 0 ]; then
  echo "apt-get install$missing failed; install them with: sudo apt-get install -y$missing" >&2
  exit 1
fi
# The tests start private instances; the system service must not listen on 143/993.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now dovecot.service dovecot.socket >/dev/null 2>&1 || true
fi
if [ -f /run/dovecot/master.pid ]; then
  doveadm stop >/dev/null 2>&1 || true
fi
exit 0
