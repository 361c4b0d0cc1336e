/**
 * Documents as this sink last wrote them, with the seq_no and primary term the write returned, so
 * the next read–merge–write of the same document starts from memory instead of a realtime mget.
 * Safe because every write made from a remembered document is conditional on that seq_no: if
 * anyone else wrote or deleted it since, the write conflicts, the entry is forgotten and the
 * document re-read. Least recently written entries go first once `max` is reached.
 */
export class WrittenDocs<T extends { seqNo: number; primaryTerm: number }> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(id: string): T | undefined {
    return this.entries.get(id);
  }

  remember(id: string, entry: T): void {
    this.entries.delete(id); // re-inserted last: the Map's order is least recently written first
    this.entries.set(id, entry);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  forget(id: string): void {
    this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
  }
}
