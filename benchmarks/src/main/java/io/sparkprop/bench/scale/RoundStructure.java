package io.sparkprop.bench.scale;

/**
 * What one round does, counted from first principles for a {@link RoundConfig}: the cost model's
 * structure. These formulas are what lets the model predict configurations never measured; the
 * fitted coefficients only price them. {@link ScalingReport} prints them next to the measured
 * counters, so a formula that does not match the harness shows up as such.
 *
 * <p>With M = {@link RoundConfig#messageBytes()}, P partitions and E executors:
 * <ul>
 *   <li><b>Broadcast</b> (both kinds): the driver uploads M once (TorrentBroadcast; executors that
 *       already hold a piece serve it to the others), and every executor fetches M once, shared by
 *       its cores.</li>
 *   <li><b>tree</b>, {@code OrderedTreeAggregate} at depth d, the shape of Spark's treeAggregate:
 *       {@code scale = max(ceil(P^(1/d)), 2)}; while {@code P_l > scale + ceil(P_l / scale)}, a
 *       level shuffles the P_l partials into {@code P_(l+1) = floor(P_l / scale)} groups (partial i
 *       to group i mod P_(l+1)), one task each, in a stage of its own. The driver then collects the
 *       last level's P_L partials. So: stages 1 + L; tasks P + sum of P_(l+1); driver in P_L M
 *       (P M without a level, about sqrt(P) M with one); shuffle P_l M per level. An executor's
 *       busiest level reads {@code ceil(P_(l+1) / E) * ceil(P_l / P_(l+1))} partials.</li>
 *   <li><b>reduce-scatter</b>: each of P map tasks splits its partial into R = min(P, E × cores)
 *       slices by parameter range and writes them to the shuffle (P M in all); each of the R reduce
 *       tasks reads its slice from every map task (P M / R per reducer) and sends the summed slice
 *       to the driver. So: stages 2; tasks P + R; driver in M; shuffle P M; an executor reads
 *       {@code ceil(R / E) * P * M / R}.</li>
 * </ul>
 * <p>Each of these steps (the broadcast's fetch, each shuffle level) is on the round's critical path
 * with the bytes of its busiest executor, or, when the executors share fewer physical cores than
 * there are executors ({@link RoundConfig#hostCores()}, the harness on one host), with the step's
 * bytes over all executors divided by those cores, whichever is larger: moving bytes through
 * loopback is CPU work (serializing, copying, checksums) that time-shares like compute.
 *
 * <p>Not counted: task binaries and task results' headers (small, per task: priced by the per-task
 * coefficient), the loss and row counts sent with each partial (a few doubles), and the locality of
 * shuffle blocks (a block read from the same executor still counts as network bytes).
 *
 * @param stages stages of the round's job
 * @param tasks tasks over all its stages
 * @param driverInBytes bytes of task results the driver receives
 * @param driverOutBytes bytes the driver sends: the broadcast, once
 * @param shuffleBytes bytes written to (and read from) the shuffle, summed over all levels
 * @param executorNetworkBytes bytes on the round's critical path into executors: per step (the
 *     broadcast, every shuffle level) the busiest executor's, or the step's total over the host's
 *     cores when larger
 */
public record RoundStructure(int stages, long tasks, long driverInBytes, long driverOutBytes, long shuffleBytes,
                             long executorNetworkBytes) {

    /** The counts for {@code config}, as the class comment derives them. */
    public static RoundStructure of(RoundConfig config) {
        int p = config.partitions();
        int e = config.executors();
        int h = config.hostCores();
        long m = config.messageBytes();
        // Every executor fetches the broadcast once.
        long broadcast = critical(m, (long) e * m, h);
        return switch (config.exchange()) {
            case TREE -> tree(p, e, h, m, config.treeDepth(), broadcast);
            case REDUCE_SCATTER -> {
                int r = Math.min(p, config.slots());
                // Each reducer reads P pieces of M / R; an executor runs ceil(R / E) reducers.
                yield new RoundStructure(2, (long) p + r, m, m, (long) p * m,
                        broadcast + critical((long) RoundConfig.ceilDiv(r, e) * p * m / r, (long) p * m, h));
            }
        };
    }

    /** Spark's treeAggregate scale for P partitions at depth d, computed exactly as Spark does. */
    public static int treeScale(int partitions, int depth) {
        return Math.max((int) Math.ceil(Math.pow(partitions, 1.0 / depth)), 2);
    }

    /** A step's critical-path bytes: its busiest executor's, or its total over the host's cores if larger. */
    private static long critical(long busiest, long total, int hostCores) {
        return Math.max(busiest, total / hostCores);
    }

    private static RoundStructure tree(int p, int e, int h, long m, int depth, long broadcast) {
        int scale = treeScale(p, depth);
        int current = p;
        int stages = 1;
        long tasks = p;
        long shuffle = 0;
        long network = broadcast;
        // The loop condition and the integer division are OrderedTreeAggregate's (and treeAggregate's).
        while (current > scale + (int) Math.ceil((double) current / scale)) {
            int next = current / scale;
            stages++;
            tasks += next;
            shuffle += (long) current * m;
            network += critical((long) RoundConfig.ceilDiv(next, e) * RoundConfig.ceilDiv(current, next) * m,
                    (long) current * m, h);
            current = next;
        }
        return new RoundStructure(stages, tasks, (long) current * m, m, shuffle, network);
    }
}
