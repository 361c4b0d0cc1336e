/** The value of `p`, or 'late' when `ms` pass first; the timer never outlives the race. */
export async function orLate<T>(p: Promise<T>, ms: number): Promise<T | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
