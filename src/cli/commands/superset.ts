import type { Command } from 'commander';
import { loadStackConfig } from '../../stack/config.js';
import { loadSupersetSettings, supersetUrl } from '../../superset/settings.js';
import { supersetDown, supersetLog, supersetRunning, supersetUp } from '../../superset/server.js';

/** `ride-cdc superset up|down|status`: Apache Superset over reporting_db (src/superset/). */
export function register(program: Command): void {
  const cmd = program
    .command('superset')
    .description('Apache Superset on 127.0.0.1:8088 over reporting_db, with the ride-cdc dashboards');

  cmd
    .command('up')
    .description(
      'install (first time, pip into <stack>/superset/venv), start and import the dashboards; idempotent',
    )
    .action(async () => {
      const cfg = loadStackConfig();
      const s = loadSupersetSettings(cfg);
      try {
        const r = await supersetUp(cfg, s, (l) => console.log(l));
        console.log(
          `superset up at ${supersetUrl(s)} (login ${s.admin.username}); ` +
            `${r.installed ? `installed in ${r.installSeconds.toFixed(0)} s, ` : 'venv reused, '}` +
            `${r.alreadyRunning ? 'was already running' : 'started'}, ready in ${r.startSeconds.toFixed(0)} s; log ${supersetLog(cfg)}`,
        );
      } catch (err) {
        console.error((err as Error).message);
        process.exitCode = 1;
      }
    });

  cmd
    .command('down')
    .description('stop the Superset server (the venv and the metadata store are kept)')
    .action(async () => {
      console.log(`superset: ${await supersetDown(loadStackConfig())}`);
    });

  cmd
    .command('status')
    .description('whether the Superset server this stack started is running')
    .action(() => {
      const cfg = loadStackConfig();
      const up = supersetRunning(cfg);
      console.log(
        up ? `superset running at ${supersetUrl(loadSupersetSettings(cfg))}` : 'superset not running',
      );
      if (!up) process.exitCode = 3;
    });
}
