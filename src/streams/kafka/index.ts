/** `monolith-ts/kafka`: the Kafka features (they need the optional package node-rdkafka, loaded on first use). */
export { kafkaSource, type KafkaSourceOptions } from '../sources/kafka-source.js';
export { kafkaMetricSink, type KafkaMetricSinkOptions } from '../sinks/kafka-metric-sink.js';
export { KProducer, type KProducerOptions, type KProducerCounts, type KafkaMessage } from '../sinks/kafka-producer.js';
export { KafkaUnavailableError } from './kafka-unavailable-error.js';
