import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadStackConfig } from '../../src/stack/config.js';
import {
  WORKER_JOB,
  capRuleFor,
  durationSeconds,
  prometheusYaml,
  workerTargetsFile,
} from '../../src/stack/prometheus/config.js';

const ALERTS = readFileSync(join(import.meta.dirname, '../../compose/prometheus/alerts.yml'), 'utf8');
type Rule = { alert: string; expr: string; for?: string; labels: unknown; annotations: unknown };
const rules = (y: string): Rule[] =>
  (parse(y) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

describe('native Prometheus configuration', () => {
  it('parses Prometheus durations and refuses anything else', () => {
    expect(durationSeconds('90s')).toBe(90);
    expect(durationSeconds('2m')).toBe(120);
    expect(durationSeconds('1h30m')).toBe(5400);
    expect(durationSeconds('500ms')).toBe(0.5);
    for (const bad of ['', '5', 'm5', '5 m', '1.5m']) expect(() => durationSeconds(bad)).toThrow(/duration/);
  });

  it('caps every for: and leaves expressions, labels and annotations identical', () => {
    const capped = rules(capRuleFor(ALERTS, 10));
    const original = rules(ALERTS);
    expect(capped.length).toBe(original.length);
    expect(capped.length).toBeGreaterThan(5);
    for (const [i, r] of capped.entries()) {
      const o = original[i]!;
      expect(r.alert).toBe(o.alert);
      expect(r.expr).toBe(o.expr);
      expect(r.labels).toEqual(o.labels);
      expect(r.annotations).toEqual(o.annotations);
      expect(durationSeconds(r.for!)).toBe(Math.min(10, durationSeconds(o.for!)));
    }
  });

  it('scrapes the workers under the job name the rules use, at the configured intervals', () => {
    const cfg = loadStackConfig({
      PROMETHEUS_WORKER_TARGETS: '127.0.0.1:9464,127.0.0.1:9465',
      PROMETHEUS_SCRAPE_INTERVAL_S: '2',
      PROMETHEUS_EVALUATION_INTERVAL_S: '3',
    });
    const y = parse(
      prometheusYaml(cfg.prometheus, {
        ruleFile: '/r/alerts.yml',
        targetsGlob: '/t/*.json',
        selfTarget: 'x:1',
      }),
    ) as Record<string, any>;
    expect(y.global.scrape_interval).toBe('2s');
    expect(y.global.evaluation_interval).toBe('3s');
    expect(y.rule_files).toEqual(['/r/alerts.yml']);
    expect(y.scrape_configs[0].job_name).toBe(WORKER_JOB);
    expect(ALERTS).toContain(`job="${WORKER_JOB}"`);
    expect(y.scrape_configs[0].file_sd_configs[0].files).toEqual(['/t/*.json']);
    expect(JSON.parse(workerTargetsFile(cfg.prometheus.workerTargets))[0].targets).toEqual([
      '127.0.0.1:9464',
      '127.0.0.1:9465',
    ]);
  });

  it('defaults: rules verbatim, port 9090, the worker on METRICS_PORT', () => {
    const cfg = loadStackConfig({ METRICS_PORT: '9999' });
    expect(cfg.prometheus.ruleForMaxS).toBeUndefined();
    expect(cfg.ports.prometheus).toBe(9090);
    expect(cfg.prometheus.workerTargets).toEqual(['127.0.0.1:9999']);
    expect(() => loadStackConfig({ PROMETHEUS_RULE_FOR_MAX_S: 'soon' })).toThrow(/PROMETHEUS_RULE_FOR_MAX_S/);
  });
});
