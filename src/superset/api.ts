import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The few Superset REST calls ride-cdc needs: JWT login, CSRF token (with the session cookie it
 * belongs to), bundle import, and listings to verify what is there.
 */
export class SupersetApi {
  private token?: string;
  private csrf?: string;
  private cookie = '';

  constructor(private readonly base: string) {}

  static async waitHealthy(base: string, timeoutMs: number, alive: () => boolean): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (!alive()) throw new Error('superset exited while starting (see its log)');
      try {
        const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(5000) });
        if (res.ok && (await res.text()).trim() === 'OK') return;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await sleep(1000);
    }
    throw new Error(`superset not healthy at ${base}/health after ${timeoutMs} ms (${last})`);
  }

  async login(username: string, password: string): Promise<void> {
    const res = await fetch(`${this.base}/api/v1/security/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password, provider: 'db', refresh: false }),
    });
    if (!res.ok) throw new Error(`superset login as ${username}: HTTP ${res.status} ${await res.text()}`);
    this.token = ((await res.json()) as { access_token: string }).access_token;
    const csrf = await fetch(`${this.base}/api/v1/security/csrf_token/`, { headers: this.headers() });
    if (!csrf.ok) throw new Error(`superset csrf token: HTTP ${csrf.status} ${await csrf.text()}`);
    this.cookie = csrf.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    this.csrf = ((await csrf.json()) as { result: string }).result;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { ...extra };
    if (this.token) h.authorization = `Bearer ${this.token}`;
    if (this.csrf) h['x-csrftoken'] = this.csrf;
    if (this.cookie) h.cookie = this.cookie;
    h.referer = this.base;
    return h;
  }

  async get<T>(path: string): Promise<T> {
    const res = await fetch(`${this.base}${path}`, { headers: this.headers() });
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  /** POST /api/v1/<resource>/import/ with overwrite: objects are matched by uuid and updated. */
  async importBundle(
    resource: 'database' | 'dataset' | 'chart' | 'dashboard',
    zip: Buffer,
    passwords: Record<string, string>,
  ): Promise<void> {
    const form = new FormData();
    form.append('formData', new Blob([zip], { type: 'application/zip' }), `ride-cdc-${resource}s.zip`);
    form.append('overwrite', 'true');
    form.append('passwords', JSON.stringify(passwords));
    const res = await fetch(`${this.base}/api/v1/${resource}/import/`, {
      method: 'POST',
      headers: this.headers(),
      body: form,
    });
    if (!res.ok) throw new Error(`superset ${resource} import: HTTP ${res.status} ${await res.text()}`);
  }

  /** All rows of a list endpoint (charts, dashboards, datasets, databases), following pages. */
  async list<T>(resource: string, columns: string[]): Promise<T[]> {
    const out: T[] = [];
    for (let page = 0; ; page++) {
      const q = `(columns:!(${columns.join(',')}),page:${page},page_size:100)`;
      const r = await this.get<{ result: T[]; count: number }>(
        `/api/v1/${resource}/?q=${encodeURIComponent(q)}`,
      );
      out.push(...r.result);
      if (out.length >= r.count || r.result.length === 0) return out;
    }
  }
}
