package io.sparkprop.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.optim.Adam;
import io.sparkprop.core.optim.GradientClipping;
import io.sparkprop.core.optim.LearningRateSchedule;
import io.sparkprop.core.optim.Optimizer;
import io.sparkprop.core.optim.Sgd;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A round's step loop: each step is the partition's slices of that global batch, summed block by
 * block and updated by the step rule; zero-weight slices are skipped, a non-finite step ends the
 * round, every workspace borrowed is returned.
 */
class LocalRoundTest {

    /** No dropout in these tests: the origin only keys masks. */
    private static final LocalRound.Origin ORIGIN = new LocalRound.Origin(3, 0, 0);

    private static final NetworkSpec SPEC = NetworkSpec.of(new int[] {4, 6, 3}, Activation.RELU, Activation.SOFTMAX,
            Loss.SOFTMAX_CROSS_ENTROPY);
    private static final Network NETWORK = new Network(SPEC);
    private static final long SEED = 7;
    private static final int EPOCH = 2;
    private static final int PARTITION = 1;
    private static final int STEPS_PER_EPOCH = 5;

    @Test
    void aRoundOverTwoBlocksIsItsStepsWrittenOutBitForBit() {
        List<DataBlock> blocks = List.of(GradientCheckTest.randomData(SPEC, 23, true, 1),
                GradientCheckTest.randomData(SPEC, 17, false, 2));
        List<int[]> orders = orders(blocks);
        double l2 = LocalRound.partitionL2(1e-2, 40, 100);
        double clipNorm = 0.5;
        double[] params = WeightInit.initialize(SPEC, 3);
        double[] expected = params.clone();
        Adam adam = new Adam(SPEC.paramCount());
        LocalRound.Result result = new LocalRound(NETWORK, new StepRule(NETWORK, l2, clipNorm), counting())
                .run(params, adam, blocks, orders, ORIGIN, 1, 3, STEPS_PER_EPOCH, (j, applied) -> 0.01 * (j + 1), null);

        // The same three steps (1, 2, 3 of the epoch) on the core's parts, one after another.
        Adam reference = new Adam(SPEC.paramCount());
        double objectiveSum = 0;
        double weightSum = 0;
        long count = 0;
        for (int j = 0; j < 3; j++) {
            int step = 1 + j;
            GradientAccumulator acc = new GradientAccumulator(SPEC.paramCount());
            for (int b = 0; b < 2; b++) {
                int n = blocks.get(b).rows();
                int from = EpochPlan.sliceStart(step, n, STEPS_PER_EPOCH);
                int to = EpochPlan.sliceStart(step + 1, n, STEPS_PER_EPOCH);
                Workspace ws = new Workspace(SPEC, to - from);
                acc.add(NETWORK, expected, ws.gather(blocks.get(b), orders.get(b), from, to));
            }
            double[] grad = new double[SPEC.paramCount()];
            double objective = acc.mean(NETWORK, expected, l2, grad);
            GradientClipping.clipByGlobalNorm(grad, clipNorm);
            reference.step(expected, grad, 0.01 * (j + 1));
            objectiveSum += objective * acc.weightSum();
            weightSum += acc.weightSum();
            count += acc.count();
        }
        assertBitIdentical(expected, params);
        assertBitIdentical(reference.state().slots()[0], adam.state().slots()[0]);
        assertEquals(3, adam.state().steps());
        assertEquals(objectiveSum, result.objectiveSum(), 0.0);
        assertEquals(weightSum, result.weightSum(), 0.0);
        assertEquals(count, result.count());
        assertEquals(3, result.applied());
        assertNull(result.nonFinite());
    }

    @Test
    void aSliceOfZeroWeightIsSkippedAndTheRatesSeeHowManyStepsWereApplied() {
        // Every row of step 1's slice gets weight 0, every other row weight 1.
        DataBlock data = GradientCheckTest.randomData(SPEC, 20, false, 4);
        int[] order = EpochPlan.permutation(SEED, EPOCH, PARTITION, 20);
        double[] weights = new double[20];
        Arrays.fill(weights, 1.0);
        int from = EpochPlan.sliceStart(1, 20, STEPS_PER_EPOCH);
        int to = EpochPlan.sliceStart(2, 20, STEPS_PER_EPOCH);
        for (int i = from; i < to; i++) {
            weights[order[i]] = 0.0;
        }
        DataBlock weighted = new DataBlock(20, 4, 3, data.features(), data.targets(), weights);
        List<String> asked = new ArrayList<>();
        LocalRound.Result result = new LocalRound(NETWORK, new StepRule(NETWORK, 0, 0), counting())
                .run(WeightInit.initialize(SPEC, 3), new Sgd(SPEC.paramCount()), List.of(weighted), List.of(order),
                        ORIGIN, 0, 3, STEPS_PER_EPOCH, (j, applied) -> {
                            asked.add(j + ":" + applied);
                            return 0.1;
                        }, null);
        assertEquals(List.of("0:0", "1:1", "2:1"), asked);
        assertEquals(2, result.applied());
        assertEquals(8, result.count(), "steps 0 and 2, four rows each");
        assertEquals(8.0, result.weightSum());
    }

    @Test
    void theHookSeesEachStepsSumsBeforeTheMeanAndANaNEndsTheRound() {
        List<DataBlock> blocks = List.of(GradientCheckTest.randomData(SPEC, 30, false, 5));
        List<int[]> orders = orders(blocks);
        double[] params = WeightInit.initialize(SPEC, 3);
        Sgd sgd = new Sgd(SPEC.paramCount());
        List<Integer> seen = new ArrayList<>();
        LocalRound.Result result = new LocalRound(NETWORK, new StepRule(NETWORK, 0, 0), counting())
                .run(params, sgd, blocks, orders, ORIGIN, 2, 3, STEPS_PER_EPOCH, (j, applied) -> 0.1, (j, sums) -> {
                    seen.add(j);
                    if (j == 1) {
                        sums.gradSum()[0] = Double.NaN;
                    }
                });
        assertEquals(List.of(0, 1), seen, "the round stops at the non-finite step");
        LocalRound.NonFinite stop = result.nonFinite();
        assertEquals(3, stop.step(), "step 3 of the epoch: the round's second");
        assertEquals("gradient", stop.quantity());
        assertTrue(Double.isFinite(stop.objective()) && Double.isNaN(stop.gradientNorm()), stop.toString());
        assertEquals(1, result.applied());
        assertEquals(1, sgd.state().steps());

        // The parameters are those after the one step before it.
        double[] oneStep = WeightInit.initialize(SPEC, 3);
        new LocalRound(NETWORK, new StepRule(NETWORK, 0, 0), counting())
                .run(oneStep, new Sgd(SPEC.paramCount()), blocks, orders, ORIGIN, 2, 1, STEPS_PER_EPOCH, (j, a) -> 0.1, null);
        assertBitIdentical(oneStep, params);
    }

    @Test
    void workspacesAreBorrowedForEachBlocksLargestSliceAndAllReturned() {
        List<DataBlock> blocks = List.of(GradientCheckTest.randomData(SPEC, 23, false, 1),
                GradientCheckTest.randomData(SPEC, 0, false, 2), GradientCheckTest.randomData(SPEC, 17, false, 3));
        Counting pool = counting();
        new LocalRound(NETWORK, new StepRule(NETWORK, 0, 0), pool).run(WeightInit.initialize(SPEC, 3),
                new Sgd(SPEC.paramCount()), blocks, orders(blocks), ORIGIN, 0, STEPS_PER_EPOCH, STEPS_PER_EPOCH,
                (j, a) -> 0.1, null);
        assertEquals(0, pool.outstanding);
        assertEquals(2 * STEPS_PER_EPOCH, pool.capacities.size(), "the empty block borrows nothing");
        assertEquals(List.of(EpochPlan.maxSlice(23, STEPS_PER_EPOCH), EpochPlan.maxSlice(17, STEPS_PER_EPOCH)),
                pool.capacities.subList(0, 2));

        LocalRound.Workspaces small = LocalRound.Workspaces.fixed(new Workspace(SPEC, 2));
        assertThrows(IllegalArgumentException.class, () -> small.borrow(SPEC, 3));
        assertThrows(IllegalArgumentException.class, () -> small.borrow(NetworkSpec.of(new int[] {4, 3},
                Activation.RELU, Activation.SOFTMAX, Loss.SOFTMAX_CROSS_ENTROPY), 1));
    }

    @Test
    void aLocalTrainerEpochIsARoundOfAllItsStepsOnPartitionZero() {
        DataBlock data = GradientCheckTest.randomData(SPEC, 37, true, 6);
        LocalTrainer.Settings settings = new LocalTrainer.Settings(8, 1, SEED, 1e-3, 1.0);
        int steps = EpochPlan.stepsPerEpoch(37, 8);
        LearningRateSchedule schedule = LearningRateSchedule.cosine(0.05, steps).withWarmup(2);
        double[] trained = new LocalTrainer(SPEC, settings, new Adam(SPEC.paramCount()), schedule).fit(data).params();

        double[] params = WeightInit.initialize(SPEC, SEED);
        new LocalRound(NETWORK, new StepRule(NETWORK, LocalRound.partitionL2(1e-3, 37, 37), 1.0), counting())
                .run(params, new Adam(SPEC.paramCount()), List.of(data), List.of(EpochPlan.permutation(SEED, 0, 0, 37)), ORIGIN,
                        0, steps, steps, (j, applied) -> schedule.rate(j), null);
        assertBitIdentical(trained, params);
    }

    @Test
    void partitionL2IsTheShareOfRowsAndArgumentsAreChecked() {
        assertEquals(0.25, LocalRound.partitionL2(1.0, 25, 100), 0.0);
        assertEquals(3e-4, LocalRound.partitionL2(3e-4, 100, 100), 0.0);
        assertThrows(IllegalArgumentException.class, () -> LocalRound.partitionL2(1.0, 101, 100));
        assertThrows(IllegalArgumentException.class, () -> LocalRound.partitionL2(1.0, 1, 0));

        List<DataBlock> blocks = List.of(GradientCheckTest.randomData(SPEC, 10, false, 1));
        LocalRound round = new LocalRound(NETWORK, new StepRule(NETWORK, 0, 0), counting());
        Optimizer sgd = new Sgd(SPEC.paramCount());
        double[] params = WeightInit.initialize(SPEC, 3);
        IllegalArgumentException beyond = assertThrows(IllegalArgumentException.class,
                () -> round.run(params, sgd, blocks, orders(blocks), ORIGIN, 4, 2, 5, (j, a) -> 0.1, null));
        assertTrue(beyond.getMessage().contains("epoch of 5"), beyond.getMessage());
        IllegalArgumentException shortOrder = assertThrows(IllegalArgumentException.class,
                () -> round.run(params, sgd, blocks, List.of(new int[9]), ORIGIN, 0, 1, 5, (j, a) -> 0.1, null));
        assertTrue(shortOrder.getMessage().contains("10 rows but its permutation has 9"), shortOrder.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> round.run(params, sgd, blocks, List.of(), ORIGIN, 0, 1, 5, (j, a) -> 0.1, null));
    }

    private static List<int[]> orders(List<DataBlock> blocks) {
        List<int[]> orders = new ArrayList<>();
        for (DataBlock block : blocks) {
            orders.add(EpochPlan.permutation(SEED, EPOCH, PARTITION, block.rows()));
        }
        return orders;
    }

    private static void assertBitIdentical(double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Double.doubleToRawLongBits(expected[i]), Double.doubleToRawLongBits(actual[i]), "param " + i);
        }
    }

    private static Counting counting() {
        return new Counting();
    }

    /** Allocates a workspace per borrow and records what was asked; counts those not yet returned. */
    private static final class Counting implements LocalRound.Workspaces {
        final List<Integer> capacities = new ArrayList<>();
        int outstanding;

        @Override
        public Workspace borrow(NetworkSpec spec, int capacity) {
            capacities.add(capacity);
            outstanding++;
            return new Workspace(spec, capacity);
        }

        @Override
        public void release(Workspace ws) {
            outstanding--;
        }
    }
}
