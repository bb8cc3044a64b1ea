/** A configuration problem: the message is one line naming the variable and the fix. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * For a process's main: prints a ConfigError's one line to stderr and exits 1; rethrows anything
 * else so real bugs keep their stack.
 */
export function exitOnConfigError(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message.replace(/\s*\n\s*/g, ' ')}\n`);
    process.exit(1);
  }
  throw err;
}
