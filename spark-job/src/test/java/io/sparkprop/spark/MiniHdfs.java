package io.sparkprop.spark;

import java.io.IOException;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/** A real HDFS for a test class: Hadoop's MiniDFSCluster, one NameNode and one DataNode. */
public final class MiniHdfs {

    private MiniHdfs() {
    }

    /**
     * Starts a cluster keeping its data under {@code base}, replication 1, and waits until it is
     * up. The caller shuts it down. Closing a file waits for the NameNode to see its last block,
     * polling after 400 ms, then 800 ms, ...: a checkpoint's five files cost 1-2 s that way. The
     * cluster's FileSystem, cached for every client of this URI in the JVM, polls sooner.
     */
    public static MiniDFSCluster start(Path base) throws IOException {
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.resolve("minidfs").toString());
        conf.setInt("dfs.replication", 1);
        conf.setInt("dfs.client.block.write.locateFollowingBlock.initial.delay.ms", 10);
        MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        cluster.waitActive();
        return cluster;
    }
}
