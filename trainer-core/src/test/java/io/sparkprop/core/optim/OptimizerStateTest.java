package io.sparkprop.core.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Checkpoint and resume: {@code state()} then {@code restore()} continues bit for bit. */
class OptimizerStateTest {

    private static final int N = 6;
    private static final int[] RANGES = {0, 2, 3, 5};
    private static final LearningRateSchedule SCHEDULE = LearningRateSchedule.cosine(0.05, 8).withWarmup(2);

    private static final List<Supplier<Optimizer>> FACTORIES = List.of(
            () -> new Sgd(N),
            () -> new Sgd(N, 0.1, RANGES),
            () -> new Momentum(N, 0.9, false),
            () -> new Momentum(N, 0.9, true, 0.05, RANGES),
            () -> new Adam(N),
            () -> new Adam(N, 0.5, 0.75, 1e-6, 0.1, RANGES));

    private static double[][] gradients(int steps) {
        SplittableRandom random = new SplittableRandom(42);
        double[][] grads = new double[steps][N];
        for (double[] g : grads) {
            for (int i = 0; i < N; i++) {
                g[i] = random.nextDouble(-2.0, 2.0);
            }
        }
        return grads;
    }

    private static double[] initial() {
        return new double[] {0.5, -1.0, 0.25, 2.0, -0.75, 0.1};
    }

    @Test
    void tenStepsStraightEqualFiveThenRestoreThenFive() {
        double[][] grads = gradients(10);
        for (Supplier<Optimizer> factory : FACTORIES) {
            Optimizer straight = factory.get();
            double[] expected = initial();
            for (int step = 0; step < 10; step++) {
                straight.step(expected, grads[step], SCHEDULE.rate(step));
            }

            Optimizer first = factory.get();
            double[] params = initial();
            for (int step = 0; step < 5; step++) {
                first.step(params, grads[step], SCHEDULE.rate(step));
            }
            OptimizerState checkpoint = first.state();
            assertEquals(5, checkpoint.steps(), first.toString());

            Optimizer resumed = factory.get();
            resumed.restore(checkpoint);
            for (int step = 5; step < 10; step++) {
                resumed.step(params, grads[step], SCHEDULE.rate(step));
            }
            assertArrayEquals(expected, params, "resumed " + resumed);
            OptimizerState a = straight.state();
            OptimizerState b = resumed.state();
            assertEquals(a.kind(), b.kind());
            assertEquals(10, b.steps());
            assertEquals(a.slots().length, b.slots().length);
            for (int s = 0; s < a.slots().length; s++) {
                assertArrayEquals(a.slots()[s], b.slots()[s], "slot " + s + " of " + resumed);
            }
        }
    }

    @Test
    void stateIsADeepCopyAndRestoreCopiesIn() {
        double[][] grads = gradients(3);
        Adam adam = new Adam(N);
        double[] params = initial();
        adam.step(params, grads[0], 0.01);
        OptimizerState state = adam.state();
        OptimizerState again = adam.state();
        assertNotSame(state.slots()[0], again.slots()[0]);
        state.slots()[0][0] = 1e9;
        assertTrue(adam.state().slots()[0][0] != 1e9, "state() must not expose the live moments");

        Adam other = new Adam(N);
        OptimizerState saved = adam.state();
        other.restore(saved);
        saved.slots()[1][2] = 1e9;
        assertTrue(other.state().slots()[1][2] != 1e9, "restore() must copy the slots in");
    }

    @Test
    void kindsAreNamed() {
        assertEquals("sgd", new Sgd(N).state().kind());
        assertEquals("momentum", new Momentum(N, 0.9, false).state().kind());
        assertEquals("nesterov", new Momentum(N, 0.9, true).state().kind());
        assertEquals("adam", new Adam(N).state().kind());
        assertEquals("adam", new Adam(N, 0.9, 0.999, 1e-8, 0.01, null).state().kind());
    }

    @Test
    void restoreOfAnotherKindNamesBothKinds() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Momentum(N, 0.9, false).restore(new Adam(N).state()));
        assertTrue(e.getMessage().contains("'momentum'") && e.getMessage().contains("'adam'"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> new Momentum(N, 0.9, false).restore(new Momentum(N, 0.9, true).state()));
        assertTrue(e.getMessage().contains("'momentum'") && e.getMessage().contains("'nesterov'"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> new Sgd(N).restore(null));
        assertTrue(e.getMessage().contains("null"), e.getMessage());
    }

    @Test
    void restoreOfAnotherLengthNamesBothLengths() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Adam(N + 2).restore(new Adam(N).state()));
        assertTrue(e.getMessage().contains(String.valueOf(N + 2)) && e.getMessage().contains(String.valueOf(N)),
                e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> new Momentum(3, 0.9, false).restore(new OptimizerState("momentum", 1, new double[][] {{1, 2}})));
        assertTrue(e.getMessage().contains("length 3 but got 2"), e.getMessage());
    }

    @Test
    void restoreWithWrongSlotCountNamesBothCounts() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Adam(N).restore(new OptimizerState("adam", 3, new double[][] {new double[N]})));
        assertTrue(e.getMessage().contains("Expected 2") && e.getMessage().contains("got 1"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> new Sgd(N).restore(new OptimizerState("sgd", 3, new double[][] {new double[N]})));
        assertTrue(e.getMessage().contains("Expected 0") && e.getMessage().contains("got 1"), e.getMessage());
    }
}
