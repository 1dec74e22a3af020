package io.sparkprop.core;

import io.sparkprop.core.optim.Optimizer;
import java.util.List;

/**
 * A run of consecutive steps of the epoch plan on one partition's own rows, each applying the
 * {@link StepRule} to that partition's slice of the global batch: the step loop of a local-SGD
 * round (a Spark task runs it on each partition) and of a whole {@link LocalTrainer} epoch (all the
 * epoch's steps on partition 0). It is not the exchange: averaging the partitions' weights and
 * optimizer states is the distributed trainer's job.
 *
 * <p>A round of {@code k} steps starting at step {@code s₀} of an epoch of {@code S} steps, over a
 * partition whose blocks have {@code n_b} rows and permutations {@code π_b}
 * ({@link EpochPlan#permutation}, seeded by seed, epoch and partition), does for
 * {@code j = 0 .. k-1}, with {@code s = s₀ + j}:
 * <ol>
 *   <li>sum, block by block in order, the loss and gradient of rows
 *       {@code π_b[⌊s·n_b/S⌋ .. ⌊(s+1)·n_b/S⌋)} ({@link EpochPlan#sliceStart}) under the current
 *       parameters, each slice gathered into a workspace of {@code ⌈n_b/S⌉} rows
 *       ({@link EpochPlan#maxSlice}) lent by the caller;</li>
 *   <li>if the sums have positive weight, show them to the caller's {@link BeforeMean} hook;</li>
 *   <li>apply the rule at the rate {@link StepRates#rate} gives; a slice of zero total weight
 *       changes nothing, a non-finite objective or gradient ends the round there.</li>
 * </ol>
 * With L2 strength {@code λ} for the whole data set of {@code N} rows, a partition of
 * {@code n_p} rows uses {@code λ·n_p/N} ({@link #partitionL2}): its slices are about
 * {@code n_p/N} of each global batch, so {@code λ/m} per step means what it means in synchronous
 * training. A single-process epoch is the round with {@code n_p = N}, so {@code λ} unscaled.
 *
 * <p>Lifecycle: construct with the network, the rule (which holds {@code λ} and the clip norm)
 * and a source of workspaces; it allocates its gradient accumulator {@code (paramCount)} then.
 * {@link #run} as often as wanted: it allocates nothing per step, borrowing a workspace for each
 * slice and returning it before the next. The result depends only on the arguments, never on
 * which workspace was lent, so a retried Spark task computes the same bits. Not thread-safe: one
 * round per thread.
 */
public final class LocalRound {

    /**
     * Lends workspaces to the round. A Spark executor pools them across tasks; a single process
     * can lend one workspace for every step ({@link #fixed}).
     */
    public interface Workspaces {
        /**
         * A workspace for {@code spec} with room for at least {@code capacity} rows, the caller's
         * until {@link #release}.
         */
        Workspace borrow(NetworkSpec spec, int capacity);

        /** Takes back a workspace {@link #borrow} lent. */
        void release(Workspace ws);

        /**
         * Lends {@code ws} every time; throws {@code IllegalArgumentException} for a request it
         * cannot hold (another spec, more rows).
         */
        static Workspaces fixed(Workspace ws) {
            return new Workspaces() {
                @Override
                public Workspace borrow(NetworkSpec spec, int capacity) {
                    if (!ws.spec().equals(spec) || capacity > ws.capacity()) {
                        throw new IllegalArgumentException("Asked for a workspace of " + capacity + " rows for " + spec
                                + " but have one of " + ws.capacity() + " rows for " + ws.spec());
                    }
                    return ws;
                }

                @Override
                public void release(Workspace returned) {
                }
            };
        }
    }

    /** The learning rate of each of the round's steps. */
    @FunctionalInterface
    public interface StepRates {
        /**
         * The rate {@code η} for the round's step {@code j} (0-based), asked once for each step,
         * in order, just before the rule is applied to it.
         *
         * @param applied how many of the round's steps before {@code j} the rule applied (fewer
         *                than {@code j} when slices of zero weight were skipped)
         */
        double rate(int j, int applied);
    }

    /** Sees each step's sums before the mean: a test hook (the Spark job injects NaN with it). */
    @FunctionalInterface
    public interface BeforeMean {
        /**
         * Called for the round's step {@code j} (0-based) when its {@code sums} are complete and
         * have positive weight, before the rule reads them; may modify them.
         */
        void accept(int j, GradientAccumulator sums);
    }

    /**
     * The step of the round whose objective or gradient was not finite, 0-based within the epoch,
     * with the objective and the gradient norm the rule saw ({@link StepRule#objective},
     * {@link StepRule#gradientNorm}).
     *
     * @param quantity {@code "loss"} or {@code "gradient"} ({@link StepRule#nonFiniteQuantity})
     */
    public record NonFinite(int step, String quantity, double objective, double gradientNorm) {
    }

    /**
     * Whose rows a round takes: the run's seed, the epoch and the partition. They seed the epoch's
     * permutations ({@link EpochPlan#permutation}) and, with the step within the epoch, the
     * network's dropout masks ({@link Workspace#setDropoutKey}), so a step's masks are the same
     * whichever task attempt computes them.
     */
    public record Origin(long seed, int epoch, int partition) {
    }

    /**
     * What a round did, summed over the steps the rule applied (in step order).
     *
     * @param objectiveSum {@code Σ J_s · m_s}: each applied step's objective times its weight sum
     * @param weightSum    {@code Σ m_s}, the total sample weight of the applied steps' rows
     * @param count        the applied steps' row count
     * @param applied      how many steps the rule applied
     * @param nonFinite    the step that stopped the round, or {@code null} when none did; the
     *                     sums above then cover the steps before it, and the parameters and
     *                     optimizer are as that step found them
     */
    public record Result(double objectiveSum, double weightSum, long count, int applied, NonFinite nonFinite) {
    }

    private final Network network;
    private final StepRule rule;
    private final Workspaces workspaces;
    /** The current step's sums {@code (paramCount)}; reset each step. */
    private final GradientAccumulator sums;
    /** Lazy updates: the rows the last {@link #run}'s steps touched (their union); null otherwise. */
    private final TouchedRows roundRows;

    /**
     * @param network    computes the forward and backward passes (in its precision)
     * @param rule       the update, with the round's L2 strength ({@link #partitionL2}) and clip norm
     * @param workspaces lends the workspaces the slices are gathered into
     */
    public LocalRound(Network network, StepRule rule, Workspaces workspaces) {
        this(network, rule, workspaces, null);
    }

    /**
     * A round that keeps its step sums in {@code sums} (a caller's, reused from round to round: a
     * wide model's gradient is not allocated again each round), or in its own when null. With lazy
     * updates the sums must track their rows ({@link GradientAccumulator#trackRows}).
     *
     * @throws IllegalArgumentException when {@code sums} does not fit the network or the update
     */
    public LocalRound(Network network, StepRule rule, Workspaces workspaces, GradientAccumulator sums) {
        if (network == null || rule == null || workspaces == null) {
            throw new IllegalArgumentException("Network, step rule and workspaces must all be given");
        }
        this.network = network;
        this.rule = rule;
        this.workspaces = workspaces;
        boolean lazy = rule.sparseUpdate() == SparseUpdate.LAZY;
        if (sums == null) {
            sums = new GradientAccumulator(network.spec().paramCount());
            if (lazy) {
                sums.trackRows(network.spec());
            }
        } else if (sums.paramCount() != network.spec().paramCount() || sums.tracksRows() != lazy) {
            throw new IllegalArgumentException("Step sums of " + sums.paramCount() + " parameters"
                    + (sums.tracksRows() ? " tracking rows" : "") + " do not fit " + network.spec() + " with "
                    + rule.sparseUpdate() + " updates");
        }
        this.sums = sums;
        roundRows = lazy ? new TouchedRows(network.spec()) : null;
    }

    /**
     * With {@link SparseUpdate#LAZY}: the first-layer rows the last {@link #run}'s steps touched
     * (live, until the next run); every other first-layer row and its optimizer state are as the
     * round found them. Null for dense updates.
     */
    public TouchedRows touchedRows() {
        return roundRows;
    }

    /**
     * The L2 strength of a partition of {@code partitionRows} of {@code totalRows} training rows:
     * {@code λ · n_p / N} (class comment).
     */
    public static double partitionL2(double l2, long partitionRows, long totalRows) {
        if (partitionRows < 0 || totalRows <= 0 || partitionRows > totalRows) {
            throw new IllegalArgumentException("A partition holds 0 to " + totalRows + " of " + totalRows
                    + " rows but got " + partitionRows);
        }
        return l2 * ((double) partitionRows / totalRows);
    }

    /**
     * Runs steps {@code firstStep .. firstStep + steps - 1} of an epoch of {@code stepsPerEpoch}
     * steps over {@code blocks} (class comment). {@code params (paramCount)} and
     * {@code optimizer}'s state are OVERWRITTEN by every applied step; blocks and orders are read.
     *
     * @param blocks     the partition's blocks, in their fixed order
     * @param orders     for each block, its epoch permutation ({@link EpochPlan#permutation} for
     *                   the seed, epoch, partition and the block's row count); read only
     * @param origin     the seed, epoch and partition (the dropout masks' key with each step)
     * @param rates      the rate of each step
     * @param beforeMean a hook on each step's sums, or {@code null}
     * @throws IllegalArgumentException when the lists differ in length, an order's length is not
     *                                  its block's row count, or the steps are outside the epoch
     */
    public Result run(double[] params, Optimizer optimizer, List<DataBlock> blocks, List<int[]> orders, Origin origin,
                      int firstStep, int steps, int stepsPerEpoch, StepRates rates, BeforeMean beforeMean) {
        return run(params, optimizer, EpochRows.ofBlocks(blocks, orders), origin, firstStep, steps, stepsPerEpoch,
                rates, beforeMean);
    }

    /**
     * {@link #run(double[], Optimizer, List, List, Origin, int, int, int, StepRates, BeforeMean)}
     * over any source of the partition's slices: {@link EpochRows#ofBlocks} (as that method does)
     * or the windowed order of a partition's chunks ({@link WindowedRows}).
     *
     * @throws IllegalArgumentException when the steps are outside the epoch
     */
    public Result run(double[] params, Optimizer optimizer, EpochRows rows, Origin origin,
                      int firstStep, int steps, int stepsPerEpoch, StepRates rates, BeforeMean beforeMean) {
        if (stepsPerEpoch <= 0 || firstStep < 0 || steps < 0 || (long) firstStep + steps > stepsPerEpoch) {
            throw new IllegalArgumentException("Steps " + firstStep + " to " + ((long) firstStep + steps - 1)
                    + " are not steps of an epoch of " + stepsPerEpoch);
        }
        double objectiveSum = 0.0;
        double weightSum = 0.0;
        long count = 0;
        int applied = 0;
        if (roundRows != null) {
            roundRows.reset();
        }
        for (int j = 0; j < steps; j++) {
            int step = firstStep + j;
            accumulate(network, params, rows, origin, step, stepsPerEpoch, workspaces, sums.reset());
            if (roundRows != null) {
                roundRows.or(sums.touchedRows());
            }
            if (beforeMean != null && StepRule.hasWeight(sums)) {
                beforeMean.accept(j, sums);
            }
            switch (rule.apply(sums, params, optimizer, rates.rate(j, applied))) {
                case NOTHING_TO_LEARN -> {
                    // no rows of positive weight in this slice: nothing to learn from
                }
                case NON_FINITE -> {
                    NonFinite stop = new NonFinite(step, rule.nonFiniteQuantity(), rule.objective(),
                            rule.gradientNorm());
                    return new Result(objectiveSum, weightSum, count, applied, stop);
                }
                case APPLIED -> {
                    objectiveSum += rule.objective() * sums.weightSum();
                    weightSum += sums.weightSum();
                    count += sums.count();
                    applied++;
                }
            }
        }
        return new Result(objectiveSum, weightSum, count, applied, null);
    }

    /**
     * ACCUMULATES into {@code sums} the loss and gradient, under {@code params}, of step
     * {@code step}'s slice of each of {@code blocks} (block by block, in order; an empty slice is
     * skipped), gathered through workspaces of {@code ⌈n_b/S⌉} rows lent by {@code workspaces}.
     * What a partition contributes to one synchronous step, and the first part of each of a
     * round's steps. Returns {@code sums}.
     *
     * @param orders each block's epoch permutation, as for {@link #run}
     * @throws IllegalArgumentException as {@link #run} does
     */
    public static GradientAccumulator addStep(Network network, double[] params, List<DataBlock> blocks,
                                              List<int[]> orders, Origin origin, int step, int stepsPerEpoch,
                                              Workspaces workspaces, GradientAccumulator sums) {
        return addStep(network, params, EpochRows.ofBlocks(blocks, orders), origin, step, stepsPerEpoch, workspaces,
                sums);
    }

    /**
     * {@link #addStep(Network, double[], List, List, Origin, int, int, Workspaces, GradientAccumulator)}
     * over any source of the partition's slices ({@link EpochRows}).
     *
     * @throws IllegalArgumentException when the step is outside the epoch
     */
    public static GradientAccumulator addStep(Network network, double[] params, EpochRows rows, Origin origin,
                                              int step, int stepsPerEpoch, Workspaces workspaces,
                                              GradientAccumulator sums) {
        if (stepsPerEpoch <= 0 || step < 0 || step >= stepsPerEpoch) {
            throw new IllegalArgumentException("Step " + step + " is not a step of an epoch of " + stepsPerEpoch);
        }
        return accumulate(network, params, rows, origin, step, stepsPerEpoch, workspaces, sums);
    }

    /**
     * ACCUMULATES into {@code sums} the loss and gradient of each piece of step {@code step}'s
     * slice ({@link EpochRows#slice}), in the source's order, each with its dropout key.
     */
    private static GradientAccumulator accumulate(Network network, double[] params, EpochRows rows, Origin origin,
                                                  int step, int stepsPerEpoch, Workspaces workspaces,
                                                  GradientAccumulator sums) {
        boolean masks = network.dropout().isActive();
        rows.slice(step, stepsPerEpoch, network.spec(), workspaces, ws -> {
            if (masks) {
                ws.setDropoutKey(origin.seed(), origin.epoch(), step, origin.partition());
            }
            sums.add(network, params, ws);
        });
        return sums;
    }
}
