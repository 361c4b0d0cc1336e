package ridecdc.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * The Flink SQL peer of ride-cdc's compare bench: bookings_requested / completed / cancelled, gmv
 * and avg_fare per MINUTE and HOUR, dimension 'all' and per pickup zone, from the Debezium topic of
 * bookings into PostgreSQL, in a local MiniCluster.
 *
 * How it reads the envelope: plain avro-confluent with a partial reader schema of the Debezium
 * envelope (before.id, after.{the columns the KPIs read}, op). Debezium's own changelog format
 * (debezium-avro-confluent) needs REPLICA IDENTITY FULL for updates, which the source does not
 * have; instead the job keeps the latest image per booking id (ROW_NUMBER over processing time
 * within a partition = Kafka order) and drops deleted rows, so the aggregate is over current rows
 * exactly as the truth SQL. ZonedTimestamp columns arrive as ISO-8601 UTC strings; buckets are
 * their prefixes (minute: 16 characters, hour: 13), which is exact for UTC strings.
 *
 * Arguments: bootstrap topic registryUrl jdbcUrl user password parallelism
 * Prints one JSON line with the processing span (the first record read to the end of the bounded
 * job, the last rows flushed: planning, MiniCluster start, submission and task deployment
 * excluded), the start-up parts, the whole run, CPU seconds and peak RSS of this JVM.
 */
public final class KpiJob {
  /**
   * Identity on the booking id that notes when the first record passed (the MiniCluster runs in
   * this JVM, so the static is the one main reads): the span starts at the first record, after
   * task deployment and the sources' and sink's connections.
   */
  public static final class FirstRecord extends ScalarFunction {
    static final AtomicLong AT = new AtomicLong(Long.MAX_VALUE);

    public Long eval(Long id) {
      if (AT.get() == Long.MAX_VALUE) AT.compareAndSet(Long.MAX_VALUE, System.nanoTime());
      return id;
    }

    @Override
    public boolean isDeterministic() {
      return false;
    }
  }

  public static void main(String[] args) throws Exception {
    long t0 = System.nanoTime();
    String bootstrap = args[0];
    String topic = args[1];
    String registry = args[2];
    String jdbcUrl = args[3];
    String user = args[4];
    String password = args[5];
    String parallelism = args[6];

    Configuration conf = new Configuration();
    // A failing job must fail, not restart forever after writing partial rows.
    conf.setString("restart-strategy.type", "none");
    conf.setString("parallelism.default", parallelism);
    conf.setString("table.exec.sink.upsert-materialize", "NONE");
    TableEnvironment t =
        TableEnvironment.create(
            EnvironmentSettings.newInstance().inStreamingMode().withConfiguration(conf).build());

    t.executeSql(
        "CREATE TABLE bookings_cdc (\n"
            + "  `before` ROW<id BIGINT>,\n"
            + "  `after` ROW<id BIGINT, pickup_zone_id INT, requested_at STRING, completed_at STRING,"
            + " cancelled_at STRING, final_fare DECIMAL(12, 2)>,\n"
            + "  op STRING,\n"
            + "  proc AS PROCTIME()\n"
            + ") WITH (\n"
            + "  'connector' = 'kafka',\n"
            + "  'topic' = '" + topic + "',\n"
            + "  'properties.bootstrap.servers' = '" + bootstrap + "',\n"
            + "  'properties.group.id' = 'flink-kpi-peer',\n"
            + "  'scan.startup.mode' = 'earliest-offset',\n"
            + "  'scan.bounded.mode' = 'latest-offset',\n"
            + "  'value.format' = 'avro-confluent',\n"
            + "  'value.avro-confluent.url' = '" + registry + "'\n"
            + ")");
    t.createTemporarySystemFunction("first_record", FirstRecord.class);
    // Tombstones (null values) deserialize to no row.
    t.executeSql(
        "CREATE TEMPORARY VIEW changes AS\n"
            + "SELECT first_record(COALESCE(`after`.id, `before`.id)) AS id, op, `after`.pickup_zone_id AS zone,\n"
            + "  `after`.requested_at AS requested_at, `after`.completed_at AS completed_at,\n"
            + "  `after`.cancelled_at AS cancelled_at, `after`.final_fare AS final_fare, proc\n"
            + "FROM bookings_cdc");
    t.executeSql(
        "CREATE TEMPORARY VIEW latest AS\n"
            + "SELECT id, zone, requested_at, completed_at, cancelled_at, final_fare FROM (\n"
            + "  SELECT *, ROW_NUMBER() OVER (PARTITION BY id ORDER BY proc DESC) AS rn FROM changes\n"
            + ") WHERE rn = 1 AND op <> 'd'");
    t.executeSql(
        "CREATE TEMPORARY VIEW facts AS\n"
            + "SELECT 'bookings_requested' AS metric, requested_at AS ts, CAST(1 AS DECIMAL(38, 2)) AS amount, zone"
            + " FROM latest WHERE requested_at IS NOT NULL\n"
            + "UNION ALL SELECT 'bookings_completed', completed_at, CAST(1 AS DECIMAL(38, 2)), zone"
            + " FROM latest WHERE completed_at IS NOT NULL\n"
            + "UNION ALL SELECT 'bookings_cancelled', cancelled_at, CAST(1 AS DECIMAL(38, 2)), zone"
            + " FROM latest WHERE cancelled_at IS NOT NULL\n"
            + "UNION ALL SELECT 'gmv', completed_at, CAST(final_fare AS DECIMAL(38, 2)), zone"
            + " FROM latest WHERE completed_at IS NOT NULL AND final_fare IS NOT NULL\n"
            + "UNION ALL SELECT 'avg_fare', completed_at, CAST(final_fare AS DECIMAL(38, 2)), zone"
            + " FROM latest WHERE completed_at IS NOT NULL AND final_fare IS NOT NULL");
    t.executeSql(
        "CREATE TABLE kpi_sink (\n"
            + "  metric_name STRING, bucket_granularity STRING, bucket STRING, dimension STRING,\n"
            + "  numerator DECIMAL(38, 2), denominator BIGINT,\n"
            + "  PRIMARY KEY (metric_name, bucket_granularity, bucket, dimension) NOT ENFORCED\n"
            + ") WITH (\n"
            + "  'connector' = 'jdbc',\n"
            + "  'url' = '" + jdbcUrl + "',\n"
            + "  'table-name' = 'flink_kpi',\n"
            + "  'username' = '" + user + "',\n"
            + "  'password' = '" + password + "',\n"
            + "  'sink.buffer-flush.max-rows' = '5000',\n"
            + "  'sink.buffer-flush.interval' = '1s'\n"
            + ")");

    long submit = System.nanoTime();
    TableResult r =
        t.executeSql(
            "INSERT INTO kpi_sink\n"
                + "SELECT metric, gran, bucket, dim, SUM(amount), COUNT(*) FROM (\n"
                + "  SELECT metric, g.gran,\n"
                + "    CASE g.gran WHEN 'MINUTE' THEN SUBSTRING(ts FROM 1 FOR 16) ELSE SUBSTRING(ts FROM 1 FOR 13) END"
                + " AS bucket,\n"
                + "    d.dim, amount\n"
                + "  FROM facts\n"
                + "  CROSS JOIN UNNEST(ARRAY['MINUTE', 'HOUR']) AS g(gran)\n"
                + "  CROSS JOIN UNNEST(ARRAY['all', 'zone:' || CAST(zone AS STRING)]) AS d(dim)\n"
                + ") WHERE dim IS NOT NULL\n"
                + "GROUP BY metric, gran, bucket, dim");
    // The fixed start-up (planning, MiniCluster, submission) is not processing: the span starts
    // when the job is RUNNING (or already over, for a tiny input).
    JobClient job = r.getJobClient().orElseThrow();
    for (;;) {
      JobStatus st = job.getJobStatus().get();
      if (st == JobStatus.RUNNING || st.isGloballyTerminalState()) break;
      Thread.sleep(10);
    }
    long running = System.nanoTime();
    r.await();
    long done = System.nanoTime();
    long first = FirstRecord.AT.get();
    long spanStart = first == Long.MAX_VALUE ? running : first;

    double cpu =
        ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime()
            / 1e9;
    long hwm = 0;
    Matcher m =
        Pattern.compile("VmHWM:\\s+(\\d+) kB").matcher(Files.readString(Path.of("/proc/self/status")));
    if (m.find()) hwm = Long.parseLong(m.group(1)) * 1024;
    System.out.printf(
        Locale.ROOT,
        "{\"setupSeconds\": %.3f, \"submitSeconds\": %.3f, \"firstRecordAfterRunningSeconds\": %.3f,"
            + " \"processingSeconds\": %.3f, \"spanFrom\": \"%s\", \"totalSeconds\": %.3f,"
            + " \"cpuSeconds\": %.3f, \"peakRssBytes\": %d}%n",
        (submit - t0) / 1e9,
        (running - submit) / 1e9,
        (spanStart - running) / 1e9,
        (done - spanStart) / 1e9,
        first == Long.MAX_VALUE ? "running" : "first-record",
        (done - t0) / 1e9,
        cpu,
        hwm);
    System.exit(0);
  }
}
