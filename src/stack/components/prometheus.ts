import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type StackConfig, paths } from '../config.js';
import { httpGet } from '../health.js';
import { capRuleFor, prometheusYaml, workerTargetsFile } from '../prometheus/config.js';
import type { Component } from './types.js';

export function prometheusUrl(cfg: StackConfig): string {
  return `http://127.0.0.1:${cfg.ports.prometheus}`;
}

/** The rule file compose/ mounts: the only definition of the alerts. */
export function alertRulesFile(cfg: StackConfig): string {
  return resolve(cfg.repoRoot, 'compose', 'prometheus', 'alerts.yml');
}

/** Where targets files live: `worker.json` is ours; any other *.json added there is scraped too. */
export function prometheusTargetsDir(cfg: StackConfig): string {
  return resolve(paths(cfg).conf, 'prometheus', 'targets');
}

/**
 * Debian's Prometheus binary run natively (its packaged systemd service is not used: it would
 * read /etc/prometheus and listen on every interface). Config, targets and TSDB live under the
 * stack dir; it listens on loopback only. Optional: `stack up` starts it only when named.
 */
export function prometheusComponent(cfg: StackConfig): Component {
  const p = paths(cfg);
  const s = cfg.prometheus;
  const confDir = resolve(p.conf, 'prometheus');
  const configFile = resolve(confDir, 'prometheus.yml');
  const dataDir = resolve(p.data, 'prometheus');

  return {
    name: 'prometheus',
    port: cfg.ports.prometheus,
    dependsOn: [],
    stopSignal: 'SIGTERM',
    async prepare() {
      if (!existsSync(s.binary)) {
        throw new Error(
          `${s.binary} not found: install Debian's Prometheus (apt-get install prometheus) or set PROMETHEUS_BIN`,
        );
      }
      await mkdir(prometheusTargetsDir(cfg), { recursive: true });
      await mkdir(dataDir, { recursive: true });
      let ruleFile = alertRulesFile(cfg);
      if (s.ruleForMaxS !== undefined) {
        ruleFile = resolve(confDir, 'alerts.capped.yml');
        await writeFile(ruleFile, capRuleFor(readFileSync(alertRulesFile(cfg), 'utf8'), s.ruleForMaxS));
      }
      await writeFile(resolve(prometheusTargetsDir(cfg), 'worker.json'), workerTargetsFile(s.workerTargets));
      await writeFile(
        configFile,
        prometheusYaml(s, {
          ruleFile,
          targetsGlob: resolve(prometheusTargetsDir(cfg), '*.json'),
          selfTarget: `127.0.0.1:${cfg.ports.prometheus}`,
        }),
      );
    },
    startSpec() {
      return {
        command: s.binary,
        args: [
          `--config.file=${configFile}`,
          `--storage.tsdb.path=${dataDir}`,
          '--storage.tsdb.retention.time=3d',
          `--web.listen-address=127.0.0.1:${cfg.ports.prometheus}`,
          `--web.external-url=${prometheusUrl(cfg)}/`,
          // POST /-/reload after editing rules, without a restart.
          '--web.enable-lifecycle',
        ],
        cwd: confDir,
        logFile: p.log('prometheus'),
        pidFile: p.pid('prometheus'),
        match: configFile,
      };
    },
    async probe() {
      await httpGet(`${prometheusUrl(cfg)}/-/ready`);
      const res = JSON.parse(await httpGet(`${prometheusUrl(cfg)}/api/v1/rules`)) as {
        data: { groups: { rules: unknown[] }[] };
      };
      const rules = res.data.groups.reduce((n, g) => n + g.rules.length, 0);
      if (rules === 0) throw new Error('no alert rules loaded');
      return `${rules} alert rules loaded`;
    },
  };
}
