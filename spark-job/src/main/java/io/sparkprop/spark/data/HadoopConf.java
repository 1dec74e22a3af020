package io.sparkprop.spark.data;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import org.apache.hadoop.conf.Configuration;

/**
 * The driver's Hadoop configuration, carried in a task closure so that executors open files with
 * the same file system settings (HDFS addresses, credentials, {@code spark.hadoop.*} keys) as the
 * driver listed them with. Java-serialized with the closure, once per stage; never sent through
 * Kryo.
 */
final class HadoopConf implements Serializable {

    private static final long serialVersionUID = 1L;

    private transient Configuration conf;

    HadoopConf(Configuration conf) {
        this.conf = new Configuration(conf);
    }

    Configuration get() {
        return conf;
    }

    private void writeObject(ObjectOutputStream out) throws IOException {
        out.defaultWriteObject();
        conf.write(out);
    }

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        conf = new Configuration(false);
        conf.readFields(in);
    }
}
