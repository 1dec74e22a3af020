package io.sparkprop.spark.data;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * The driver's Hadoop configuration for tasks that open files themselves, so that executors use
 * the same file system settings (HDFS addresses, credentials, {@code spark.hadoop.*} keys) as the
 * driver listed them with.
 *
 * <p>The configuration is written once, into a broadcast byte array; a closure carries only the
 * broadcast's handle. Carrying the configuration itself would put its thousand-odd entries into
 * the serialized lineage of every RDD derived from the loaded blocks, and training serializes and
 * ships that lineage with every step's job (measured: several milliseconds a step, spent writing
 * the configuration on the driver and parsing it again in every task). Each executor JVM parses a
 * broadcast configuration once.
 */
final class HadoopConf implements Serializable {

    private static final long serialVersionUID = 2L;

    /** Parsed configurations by broadcast id; a few at most (one per loaded dataset in use). */
    private static final Map<Long, Configuration> PARSED = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Configuration> eldest) {
            return size() > 8;
        }
    };

    private final Broadcast<byte[]> bytes;

    private HadoopConf(Broadcast<byte[]> bytes) {
        this.bytes = bytes;
    }

    /** Broadcasts a snapshot of {@code conf}. */
    static HadoopConf broadcast(JavaSparkContext sc, Configuration conf) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(buffer)) {
            new Configuration(conf).write(out);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not serialize the Hadoop configuration", e);
        }
        return new HadoopConf(sc.broadcast(buffer.toByteArray()));
    }

    /** The configuration; shared within a JVM, so callers must not modify it. */
    Configuration get() {
        synchronized (PARSED) {
            Configuration conf = PARSED.get(bytes.id());
            if (conf == null) {
                conf = new Configuration(false);
                try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes.value()))) {
                    conf.readFields(in);
                } catch (IOException e) {
                    throw new UncheckedIOException("Could not read the broadcast Hadoop configuration", e);
                }
                PARSED.put(bytes.id(), conf);
            }
            return conf;
        }
    }
}
