package io.sparkprop.spark.train;

import io.sparkprop.core.DataBlock;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.Dependency;
import org.apache.spark.NarrowDependency;
import org.apache.spark.Partition;
import org.apache.spark.TaskContext;
import org.apache.spark.rdd.RDD;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * The input of one round (or one synchronous step) of {@code train.shuffle = window}: one
 * partition per training partition, each yielding a single {@link ChunkReader} through which the
 * task reads its partition's cached chunks one by one, only those it needs
 * ({@code docs/out-of-core.md}, "The round RDD").
 *
 * <p>Modelled on Spark's {@code CoalescedRDD} and {@code PartitionPruningRDD}: a
 * {@link NarrowDependency} on the chunk RDD whose {@code getParents(p)} lists the chunks of the
 * windows the round's positions overlap, so the scheduler places partition {@code p}'s task where
 * those chunks are cached (DAGScheduler falls back to a narrow parent's cache locations) and a
 * lost chunk is recomputed from its lineage. Unlike {@code CoalescedRDD}, whose {@code compute}
 * reads every parent partition in turn, {@code compute} here reads nothing: the task asks the
 * reader for a chunk when its window is not already in the executor's shuffle buffer.
 */
final class ChunkRoundRDD extends RDD<ChunkRoundRDD.ChunkReader> {

    private static final long serialVersionUID = 1L;
    private static final ClassTag<ChunkReader> TAG = ClassTag$.MODULE$.apply(ChunkReader.class);

    /**
     * Reads training partition {@code partition}'s chunks: chunk {@code c} (0-based, among the
     * partition's non-empty chunks in chunk order) is the chunk RDD's partition {@code ids[c]},
     * with {@code rows[c]} rows. Lives in one task.
     */
    static final class ChunkReader {
        private final int partition;
        private final int chunkRddId;
        private final Partition[] parents;
        private final int[] rows;
        private final RDD<DataBlock> chunks;
        private final TaskContext context;

        ChunkReader(int partition, int chunkRddId, Partition[] parents, int[] rows, RDD<DataBlock> chunks,
                    TaskContext context) {
            this.partition = partition;
            this.chunkRddId = chunkRddId;
            this.parents = parents;
            this.rows = rows;
            this.chunks = chunks;
            this.context = context;
        }

        int partition() {
            return partition;
        }

        /** The id of the cached chunk RDD: with the application, what a buffered window belongs to. */
        int chunkRddId() {
            return chunkRddId;
        }

        /** {@code (C_p)}: the rows of each of the partition's chunks; do not modify. */
        int[] chunkRows() {
            return rows;
        }

        /**
         * Chunk {@code c}, through Spark's block manager (memory, disk, a remote executor or its
         * lineage). The chunk's iterator is run to its end, which releases the read lock the block
         * manager holds on a cached block until then: otherwise every chunk the task reads stays
         * pinned (not evictable) until the task ends, and Spark reports the leak ("block locks were
         * not released", an error under {@code spark.storage.exceptionOnPinLeak}).
         */
        DataBlock chunk(int c) {
            Iterator<DataBlock> it = chunks.iterator(parents[c], context);
            if (!it.hasNext()) {
                throw new IllegalStateException("Chunk " + parents[c].index() + " of the cached training chunks is"
                        + " empty");
            }
            DataBlock block = it.next();
            if (it.hasNext()) {
                throw new IllegalStateException("Chunk " + parents[c].index() + " of the cached training chunks holds"
                        + " more than one block");
            }
            return block;
        }
    }

    /**
     * Partition {@code p} of the round: its chunks' partitions of the chunk RDD (as the driver made
     * them, shipped with the task as {@code CoalescedRDDPartition} ships its parents) and their row
     * counts.
     */
    private static final class RoundPartition implements Partition {
        private static final long serialVersionUID = 1L;
        private final int index;
        private final Partition[] parents;
        private final int[] rows;

        RoundPartition(int index, Partition[] parents, int[] rows) {
            this.index = index;
            this.parents = parents;
            this.rows = rows;
        }

        @Override
        public int index() {
            return index;
        }

        @Override
        public int hashCode() {
            return index;
        }

        @Override
        public boolean equals(Object other) {
            return other == this;
        }
    }

    /** Round partition {@code p} depends on the chunk RDD's partitions {@code parents[p]}. */
    private static final class RoundDependency extends NarrowDependency<DataBlock> {
        private static final long serialVersionUID = 1L;
        private final int[][] parents;

        RoundDependency(RDD<DataBlock> chunks, int[][] parents) {
            super(chunks);
            this.parents = parents;
        }

        @Override
        @SuppressWarnings({"unchecked", "rawtypes"})
        public scala.collection.immutable.Seq<Object> getParents(int partitionId) {
            List<Object> ids = new ArrayList<>(parents[partitionId].length);
            for (int id : parents[partitionId]) {
                ids.add(id);
            }
            return (scala.collection.immutable.Seq) CollectionConverters.asScala(ids).toList();
        }
    }

    private final transient Partition[] partitions;

    /**
     * @param chunks    the cached chunk RDD
     * @param ids       per training partition, its non-empty chunks' ids in {@code chunks}, in chunk order
     * @param rows      per training partition, those chunks' row counts
     * @param dependsOn per training partition, the chunk ids the round may read (the windows its
     *                  positions overlap), for locality and lineage
     */
    ChunkRoundRDD(RDD<DataBlock> chunks, int[][] ids, int[][] rows, int[][] dependsOn) {
        super(chunks.context(), dependencies(chunks, dependsOn), TAG);
        this.partitions = new Partition[ids.length];
        Partition[] all = chunks.partitions();
        for (int p = 0; p < ids.length; p++) {
            Partition[] parents = new Partition[ids[p].length];
            for (int c = 0; c < parents.length; c++) {
                parents[c] = all[ids[p][c]];
            }
            partitions[p] = new RoundPartition(p, parents, rows[p]);
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static scala.collection.immutable.Seq<Dependency<?>> dependencies(RDD<DataBlock> chunks,
                                                                            int[][] dependsOn) {
        List<Dependency<?>> deps = List.of(new RoundDependency(chunks, dependsOn));
        return (scala.collection.immutable.Seq) CollectionConverters.asScala(deps).toList();
    }

    @Override
    @SuppressWarnings("unchecked")
    public Iterator<ChunkReader> compute(Partition split, TaskContext context) {
        RoundPartition part = (RoundPartition) split;
        RDD<DataBlock> chunks = (RDD<DataBlock>) dependencies().head().rdd();
        ChunkReader reader = new ChunkReader(part.index, chunks.id(), part.parents, part.rows, chunks, context);
        return CollectionConverters.asScala(List.of(reader).iterator());
    }

    @Override
    public Partition[] getPartitions() {
        return partitions;
    }
}
