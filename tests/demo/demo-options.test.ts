import { describe, expect, it } from 'vitest';
import { DemoUsageError, parseDemoOptions, publicUrlFor } from '../../scripts/demoOptions';

describe('parseDemoOptions', () => {
  it.each([
    [[], {}, { port: 0, bannerEveryMs: 180_000, databaseUrl: undefined, redisPrefix: undefined, publicUrl: undefined }],
    [['--port', '4000'], {}, { port: 4000 }],
    [['--port=4001'], { PORT: '3999' }, { port: 4001 }],
    [[], { PORT: '3999' }, { port: 3999 }],
    [[], { PORT: '  ' }, { port: 0 }],
    [['--banner-every', '0'], {}, { bannerEveryMs: 0 }],
    [
      [],
      { DATABASE_URL: 'postgres://x/y', EXSYNC_REDIS_PREFIX: 'p', EXSYNC_PUBLIC_URL: 'https://e.example' },
      { databaseUrl: 'postgres://x/y', redisPrefix: 'p', publicUrl: 'https://e.example' },
    ],
    [['--help'], {}, { help: true }],
  ])('%j with %j', (argv, env, expected) => {
    expect(parseDemoOptions(argv, env)).toMatchObject(expected);
  });

  it.each([
    [['--port'], '--port'],
    [['--port', 'abc'], '--port'],
    [['--port', '70000'], '--port'],
    [['--port', '-1'], '--port'],
    [['--banner-every', '1.5'], '--banner-every'],
    [['--verbose'], 'unknown option --verbose'],
  ])('%j is refused naming %s', (argv, named) => {
    expect(() => parseDemoOptions(argv, {})).toThrow(DemoUsageError);
    expect(() => parseDemoOptions(argv, {})).toThrow(named);
  });

  it('names PORT when the environment holds a bad one', () => {
    expect(() => parseDemoOptions([], { PORT: 'x' })).toThrow('PORT needs a whole number');
  });
});

describe('publicUrlFor', () => {
  it.each([
    ['127.0.0.1', 3000, 'http://127.0.0.1:3000'],
    ['0.0.0.0', 3001, 'http://127.0.0.1:3001'],
    ['::', 3002, 'http://[::1]:3002'],
    ['::1', 3003, 'http://[::1]:3003'],
    ['10.1.2.3', 80, 'http://10.1.2.3:80'],
  ])('%s:%d -> %s', (address, port, url) => {
    expect(publicUrlFor(address, port)).toBe(url);
  });
});
