#!/usr/bin/env node
/**
 * Adds lock entries for optional native packages of other platforms that this machine's npm
 * registry mirror does not serve (so `npm install` leaves them out of package-lock.json, and
 * `npm ci` then refuses the lock as out of sync). Each entry carries the os/cpu its name says,
 * so `npm ci` skips it here exactly as it skips any foreign-platform binary.
 * Usage: node scripts/completeLockfile.js   (after `npm install`; rewrites package-lock.json)
 */
const fs = require('node:fs');
const { execSync } = require('node:child_process');

const lockPath = require('node:path').join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
const OS = { android: 'android', darwin: 'darwin', freebsd: 'freebsd', linux: 'linux', openbsd: 'openbsd', openharmony: 'openharmony', win32: 'win32' };
const CPU = {
  arm: 'arm',
  'arm-eabi': 'arm',
  gnueabihf: 'arm',
  musleabihf: 'arm',
  arm64: 'arm64',
  x64: 'x64',
  ia32: 'ia32',
  loong64: 'loong64',
  ppc64: 'ppc64',
  riscv64: 'riscv64',
  s390x: 's390x',
};

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS[p]);
  const cpu = parts.find((p) => CPU[p] && p !== 'arm') ?? (parts.includes('arm') ? 'arm' : undefined);
  const libc = parts.includes('musl') || parts.includes('musleabihf') ? 'musl' : parts.includes('gnu') || parts.includes('gnueabihf') ? 'glibc' : undefined;
  return { os, cpu: CPU[cpu] ?? cpu, libc };
}

let out = '';
try {
  execSync('npm ci --dry-run --ignore-scripts', { cwd: require('node:path').dirname(lockPath), stdio: 'pipe' });
} catch (e) {
  out = String(e.stderr);
}
const missing = [...out.matchAll(/Missing: (@?[^@\s]+)@\S* from lock file/g)].map((m) => m[1]);
let added = 0;
for (const name of missing) {
  // Find the package that lists it as optional, for its version and dev/prod flag.
  const parent = Object.entries(lock.packages).find(([, p]) => p.optionalDependencies && p.optionalDependencies[name]);
  if (!parent) continue;
  const { os, cpu, libc } = platformOf(name);
  if (!os || !cpu) continue;
  const entry = { version: parent[1].optionalDependencies[name], optional: true };
  if (parent[1].dev) entry.dev = true;
  entry.os = [os];
  entry.cpu = [cpu];
  if (libc && os === 'linux') entry.libc = [libc];
  lock.packages[`node_modules/${name}`] = entry;
  added += 1;
}
// Keep the packages map in npm's own (sorted) order.
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)));
fs.writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n');
console.log(`added ${added} of ${missing.length} missing optional platform entries`);
