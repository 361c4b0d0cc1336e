import { describe, expect, it } from 'vitest';
import { loadWorkerConfig, tableOfTopic } from '../../src/config/worker-config.js';
import { ConfigError } from '../../src/shared/errors.js';

describe('worker configuration', () => {
  it('has working defaults for the native stack', () => {
    const c = loadWorkerConfig({});
    expect(c.kafka.brokers).toEqual(['localhost:9092']);
    expect(c.registry.url).toBe('http://localhost:18081/apis/ccompat/v7');
    expect(c.reporting.port).toBe(5433);
    expect(c.kafka.offsetReset.bookings).toBe('earliest');
  });
  it('per-table offset reset overrides', () => {
    const c = loadWorkerConfig({
      KAFKA_OFFSET_RESET: 'latest',
      KAFKA_OFFSET_RESET_OVERRIDES: 'bookings:earliest',
    });
    expect(c.kafka.offsetReset.bookings).toBe('earliest');
    expect(c.kafka.offsetReset.drivers).toBe('latest');
  });
  it('reports every bad value at once, naming variable, value and expectation, without secrets', () => {
    let err: unknown;
    try {
      loadWorkerConfig({
        METRICS_PORT: 'abc',
        ES_NODE: 'ftp://u:secret@x',
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_BROKERS: 'nohost',
        KAFKA_OFFSET_RESET_OVERRIDES: 'trips:earliest',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('METRICS_PORT="abc": expected an integer between 0 and 65535');
    expect(msg).toContain('ES_NODE');
    expect(msg).not.toContain('secret');
    expect(msg).toContain('KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required');
    expect(msg).toContain('KAFKA_BROKERS item "nohost"');
    expect(msg).toContain('trips:earliest');
  });
  it('REPORTING_KPIS: unset maintains the whole catalog; a name outside it is refused', () => {
    expect(loadWorkerConfig({}).reporting.kpis).toBeNull();
    expect(loadWorkerConfig({ REPORTING_KPIS: 'gmv,avg_fare' }).reporting.kpis).toEqual(['gmv', 'avg_fare']);
    expect(() => loadWorkerConfig({ REPORTING_KPIS: 'gmv,revenue' })).toThrow(
      /REPORTING_KPIS contains "revenue": expected KPIs from .*bookings_requested/,
    );
  });
  it('KPI_MIRROR_INTERVAL_MS: half a second by default, bounded', () => {
    expect(loadWorkerConfig({}).elasticsearch.kpiMirrorIntervalMs).toBe(500);
    expect(loadWorkerConfig({ KPI_MIRROR_INTERVAL_MS: '2000' }).elasticsearch.kpiMirrorIntervalMs).toBe(2000);
    expect(() => loadWorkerConfig({ KPI_MIRROR_INTERVAL_MS: '10' })).toThrow(/KPI_MIRROR_INTERVAL_MS="10"/);
  });
  it('maps topics back to tables', () => {
    expect(tableOfTopic('ride', 'ride.public.bookings')).toBe('bookings');
    expect(tableOfTopic('ride', '__debezium-heartbeat.ride')).toBeNull();
  });
});
