import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The status page: one static HTML file with inline CSS and script (page.html), read once. */
export const STATUS_PAGE_HTML = readFileSync(join(import.meta.dirname, 'page.html'), 'utf8');
