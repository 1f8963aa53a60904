/** `monolith-ts/kafka`: the Kafka features (they need the optional package node-rdkafka, loaded on first use). */
export { kafkaSource, kafkaRecordSource, type KafkaSourceOptions } from '../sources/kafka-source.js';
export { kafkaMetricSink, type KafkaMetricSinkOptions } from '../sinks/kafka-metric-sink.js';
export { KProducer, type KProducerOptions, type KProducerCounts, type KafkaMessage } from '../sinks/kafka-producer.js';
export { KafkaUnavailableError } from './kafka-unavailable-error.js';
export { SyncPublisher, type SyncPublisherOptions } from '../sync/sync-publisher.js';
export { SyncSubscriber, type SyncSubscriberOptions, type SyncSubscriberCounts } from '../sync/sync-subscriber.js';
export { SyncApplier, SyncRefusedError, type ApplyResult } from '../sync/sync-apply.js';
export { encodeSyncMessage, decodeSyncMessage, SYNC_MAGIC, SYNC_FORMAT, type SyncMessage, type SyncRows, type SyncDense } from '../sync/sync-message.js';
