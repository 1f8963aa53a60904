import { ConfigError } from '../errors.js';
import { checkRecordFile } from '../streams/sources/input-check.js';
import type { RecordInput } from '../streams/sources/record-input.js';

/** Where a command reads records from: files, or a Kafka topic. */
export interface DataFlags {
  data?: string[];
  kafkaBrokers?: string;
  topic?: string;
  groupId?: string;
}

export function checkDataFlags(o: DataFlags, kafkaAllowed: boolean): void {
  const files = o.data?.length ?? 0;
  if (o.kafkaBrokers && !kafkaAllowed) throw new ConfigError('this command reads files (--data), not Kafka');
  if (o.kafkaBrokers && files) throw new ConfigError('choose --data files or --kafka-brokers, not both');
  if (o.kafkaBrokers && !o.topic) throw new ConfigError('--kafka-brokers needs --topic');
  if (!o.kafkaBrokers && o.topic) throw new ConfigError('--topic needs --kafka-brokers');
  if (!o.kafkaBrokers && !files) throw new ConfigError(kafkaAllowed ? 'say where the records are: --data FILE… or --kafka-brokers with --topic' : 'say where the records are: --data FILE…');
}

/**
 * Checks the framing and the parse configuration against the first records of
 * each file before anything runs; problems that make the data meaningless
 * throw, the others are written as warning lines.
 */
export async function checkDataFiles(files: string[], input: RecordInput, needLabels: boolean, warn: (line: string) => void = (l) => void process.stderr.write(`${l}\n`)): Promise<void> {
  for (const file of files) {
    const { warnings } = await checkRecordFile(file, input, { needLabels });
    for (const w of warnings) warn(`warning: ${w}`);
  }
}
