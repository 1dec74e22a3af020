package io.sparkprop.spark.data;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How many bad rows one partition dropped under {@link BadRowPolicy#SKIP}, with the reasons of
 * the first few in row order. Task results, so registered with Kryo; merged on the driver in
 * partition order, which makes the examples as deterministic as the blocks.
 */
final class PartitionStats implements Serializable {

    private static final long serialVersionUID = 1L;

    /** How many reasons a partition keeps and the warning shows. */
    static final int EXAMPLES = 5;

    final long skipped;
    final String[] examples;

    PartitionStats(long skipped, String[] examples) {
        this.skipped = skipped;
        this.examples = examples;
    }

    /** The total count and the first {@value #EXAMPLES} reasons of {@code stats}, in their order. */
    static PartitionStats merge(List<PartitionStats> stats) {
        long skipped = 0;
        List<String> examples = new ArrayList<>();
        for (PartitionStats s : stats) {
            skipped += s.skipped;
            for (String example : s.examples) {
                if (examples.size() < EXAMPLES) {
                    examples.add(example);
                }
            }
        }
        return new PartitionStats(skipped, examples.toArray(new String[0]));
    }

    @Override
    public String toString() {
        return skipped + " skipped, e.g. " + Arrays.toString(examples);
    }
}
