/** Whether `err` is Postgres's unique violation (SQLSTATE 23505) of the index or constraint `name`. */
export function isUniqueViolationOf(err: unknown, name: string): boolean {
  const e = err as { code?: string; constraint?: string };
  return e.code === '23505' && e.constraint === name;
}
