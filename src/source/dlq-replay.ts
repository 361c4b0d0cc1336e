import { Partitioners, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import { REPLAY_HEADER, parseLetter, planReplay, type Later, type Letter } from './dlq-plan.js';
import { readRanges, watermarks, type OffsetRange } from './topic-range.js';

/** Every letter in the dead-letter topic up to its current end, in (partition, offset) order. */
export async function readLetters(
  kafka: Kafka,
  dlqTopic: string,
): Promise<{ letters: Letter[]; unparsed: number }> {
  const letters: Letter[] = [];
  let unparsed = 0;
  await readRanges(kafka, dlqTopic, await watermarks(kafka, dlqTopic), (partition, m) => {
    const l = parseLetter({ partition, offset: m.offset }, m);
    if (l) letters.push(l);
    else unparsed++;
  });
  letters.sort(
    (a, b) => a.dlq.partition - b.dlq.partition || Number(BigInt(a.dlq.offset) - BigInt(b.dlq.offset)),
  );
  return { letters, unparsed };
}

/** Messages (offset, key) of each origin partition after the oldest selected letter, up to `until`. */
async function laterMessages(
  kafka: Kafka,
  selected: readonly Letter[],
  until?: ReadonlyMap<string, bigint>,
): Promise<{ later: Map<string, Later[]>; ends: Map<string, bigint> }> {
  const later = new Map<string, Later[]>();
  const ends = new Map<string, bigint>();
  for (const topic of new Set(selected.map((l) => l.origin.topic))) {
    const marks = await watermarks(kafka, topic);
    const ranges = new Map<number, OffsetRange>();
    for (const l of selected.filter((x) => x.origin.topic === topic)) {
      const from = BigInt(l.origin.offset) + 1n;
      const to = until?.get(`${topic}/${l.origin.partition}`) ?? marks.get(l.origin.partition)?.to ?? 0n;
      const r = ranges.get(l.origin.partition);
      ranges.set(l.origin.partition, { from: r && r.from < from ? r.from : from, to });
      ends.set(`${topic}/${l.origin.partition}`, to);
    }
    await readRanges(kafka, topic, ranges, (partition, m) => {
      const id = `${topic}/${partition}`;
      const list = later.get(id) ?? [];
      list.push({ offset: m.offset, key: m.key });
      later.set(id, list);
    });
  }
  return { later, ends };
}

export interface ReplayResult {
  replayed: Letter[];
  superseded: Letter[];
}

/**
 * Re-drives the chosen dead letters (see planReplay for which and why) by producing their
 * original key, value and headers again to their origin topic and partition, where the worker
 * consumes them like any other change: a fixed mapping or schema then lets them through, the
 * mart's state-based deltas and Elasticsearch's deterministic ids make a duplicate harmless.
 * `dryRun` only reports the plan.
 */
export async function replayLetters(
  kafka: Kafka,
  selected: readonly Letter[],
  all: readonly Letter[],
  opts: { dryRun?: boolean } = {},
): Promise<ReplayResult> {
  const { later, ends } = await laterMessages(kafka, selected);
  const plan = planReplay(selected, all, later);
  if (opts.dryRun || plan.replay.length === 0) return { replayed: plan.replay, superseded: plan.superseded };
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    const copies = new Map<string, bigint>(); // origin partition → offset of the last copy
    for (const l of plan.replay) {
      const [meta] = await producer.send({
        topic: l.origin.topic,
        acks: -1,
        messages: [
          {
            partition: l.origin.partition,
            key: l.key,
            value: l.value,
            headers: { ...l.headers, [REPLAY_HEADER]: `dlq/${l.dlq.partition}@${l.dlq.offset}` },
          },
        ],
      });
      const id = `${l.origin.topic}/${l.origin.partition}`;
      if (meta?.baseOffset !== undefined) copies.set(id, BigInt(meta.baseOffset));
    }
    await repairRaces(kafka, producer, plan.replay, ends, copies);
  } finally {
    await producer.disconnect();
  }
  return { replayed: plan.replay, superseded: plan.superseded };
}

/**
 * A change of a re-driven row that Debezium produced between the check (`ends`) and the copy
 * would now sit before the older copy, and the copy would win. Such a change is produced again
 * after the copy (a duplicate of the newest state is harmless), so the newest state wins again.
 */
async function repairRaces(
  kafka: Kafka,
  producer: Producer,
  replayed: readonly Letter[],
  ends: ReadonlyMap<string, bigint>,
  copies: ReadonlyMap<string, bigint>,
): Promise<void> {
  for (const topic of new Set(replayed.map((l) => l.origin.topic))) {
    const ranges = new Map<number, OffsetRange>();
    for (const l of replayed.filter((x) => x.origin.topic === topic)) {
      const id = `${topic}/${l.origin.partition}`;
      const from = ends.get(id);
      const to = copies.get(id);
      if (from !== undefined && to !== undefined && from < to) ranges.set(l.origin.partition, { from, to });
    }
    const newest = new Map<string, KafkaMessage & { partition: number }>();
    const keys = new Set(
      replayed
        .filter((l) => l.key && l.origin.topic === topic)
        .map((l) => `${l.origin.partition}#${l.key!.toString('hex')}`),
    );
    await readRanges(kafka, topic, ranges, (partition, m) => {
      if (m.headers?.[REPLAY_HEADER] !== undefined || !m.key) return;
      const k = `${partition}#${m.key.toString('hex')}`;
      if (keys.has(k)) newest.set(k, { ...m, partition });
    });
    for (const m of newest.values())
      await producer.send({
        topic,
        acks: -1,
        messages: [{ partition: m.partition, key: m.key, value: m.value, headers: m.headers }],
      });
  }
}
