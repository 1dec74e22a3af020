package io.sparkprop.spark.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.optim.OptimizerState;
import io.sparkprop.spark.train.EpochMetrics;
import io.sparkprop.spark.train.StepTimes;
import io.sparkprop.spark.train.TrainingState;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The metrics inside {@code state.bin}: checkpoints written before the history was typed still
 * load, the bytes written are the same as then, and metrics a JSON tool rewrote load unchanged.
 */
class StateCodecTest {

    /** Two epochs' lines as the writer before Jackson (commit 84b9847) wrote them. */
    private static final List<String> OLD_LINES = List.of(
            "{\"epoch\":0,\"step\":20,\"train_loss\":1.0986122886681098,\"val_loss\":0.9162907318741551,"
                    + "\"val_accuracy\":0.625,\"examples_per_sec\":12345.678901234567,\"epoch_seconds\":0.81,"
                    + "\"elapsed_seconds\":2.5,\"sync_steps\":20,\"step_ms\":3.900,\"compute_ms\":2.500,"
                    + "\"exchange_ms\":1.000,\"broadcast_ms\":0.123,\"update_ms\":0.050}",
            "{\"epoch\":1,\"step\":40,\"train_loss\":0.75,\"val_loss\":0.25,\"val_rmse\":0.5,\"val_mae\":0.375,"
                    + "\"examples_per_sec\":4000.0,\"epoch_seconds\":1.5,\"elapsed_seconds\":3.0}");

    private static final List<EpochMetrics> HISTORY = List.of(
            new EpochMetrics(0, 20, 1.0986122886681098, 0.9162907318741551, 0.625, Double.NaN, Double.NaN,
                    12345.678901234567, 0.81, 2.5, new StepTimes.Summary(20, 0.123, 2.5, 1.0, 0.05, 3.9)),
            new EpochMetrics(1, 40, 0.75, 0.25, Double.NaN, 0.5, 0.375, 4000.0, 1.5, 3.0, null));

    private static TrainingState state(List<EpochMetrics> history, double[] best) {
        return new TrainingState(2, 3, 43, new double[] {0.5, -1.5}, new OptimizerState("momentum", 43,
                new double[][] {{0.25, 0.125}}), 1.5, 6.0, 0.5, 0, 1, 9.25, history, best);
    }

    @Test
    void theBytesWrittenAreTheFormatBeforeTypedMetrics() throws Exception {
        TrainingState state = state(HISTORY, new double[] {0.75, 1.0});
        assertArrayEquals(StateFiles.encode(StateCodec.VERSION, state, OLD_LINES), StateCodec.encode(state));
    }

    @Test
    void checkpointsWrittenBeforeTypedMetricsLoad() throws Exception {
        for (int version : new int[] {1, 2}) {
            TrainingState written = state(HISTORY, version == 1 ? new double[0] : new double[] {0.75, 1.0});
            TrainingState read = StateCodec.decode(StateFiles.encode(version, written, OLD_LINES),
                    written.params(), "state.bin");
            assertEquals(HISTORY, read.history(), "version " + version);
            assertEquals(written.globalStep(), read.globalStep());
            assertEquals(written.elapsedSeconds(), read.elapsedSeconds());
            assertArrayEquals(written.bestParams(), read.bestParams());
            assertArrayEquals(written.optimizer().slots()[0], read.optimizer().slots()[0]);
        }
        // The old writer wrote an infinite loss as null; null now reads as no value (null stays null).
        TrainingState written = state(HISTORY, new double[0]);
        TrainingState read = StateCodec.decode(StateFiles.encode(2, written, List.of(OLD_LINES.get(0),
                OLD_LINES.get(1).replace("\"train_loss\":0.75", "\"train_loss\":null"))), written.params(), "state.bin");
        assertTrue(Double.isNaN(read.history().get(1).trainLoss()));
    }

    @Test
    void metricsRewrittenByAJsonToolLoadUnchanged() throws Exception {
        List<String> rewritten = List.of(
                "{ \"update_ms\" : 0.05, \"broadcast_ms\" : 0.123, \"exchange_ms\" : 1.0, \"compute_ms\" : 2.5,"
                        + " \"step_ms\" : 3.9, \"sync_steps\" : 20, \"elapsed_seconds\" : 2.5, \"epoch_seconds\" :"
                        + " 0.81, \"examples_per_sec\" : 12345.678901234567, \"val_accuracy\" : 0.625, \"val_loss\" :"
                        + " 0.9162907318741551, \"train_loss\" : 1.0986122886681098, \"step\" : 20, \"epoch\" : 0 }",
                "{\n  \"epoch\": 1,\n  \"step\": 40,\n  \"note\": \"by hand\",\n  \"val_mae\": 0.375,\n"
                        + "  \"val_rmse\": 0.5,\n  \"val_loss\": 0.25,\n  \"train_loss\": 0.75,\n"
                        + "  \"examples_per_sec\": 4e3,\n  \"epoch_seconds\": 1.5,\n  \"elapsed_seconds\": 3\n}");
        TrainingState written = state(HISTORY, new double[0]);
        TrainingState read = StateCodec.decode(StateFiles.encode(2, written, rewritten), written.params(), "state.bin");
        assertEquals(HISTORY, read.history());
        // Written again, the metrics are in the usual form.
        assertArrayEquals(StateFiles.encode(2, written, OLD_LINES), StateCodec.encode(read));
    }

    @Test
    void aMalformedMetricsLineNamesTheFileAndTheLine() throws Exception {
        TrainingState written = state(HISTORY, new double[0]);
        byte[] bytes = StateFiles.encode(2, written, List.of(OLD_LINES.get(0), "{\"epoch\":1,\"step\":40,"));
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> StateCodec.decode(bytes, written.params(), "ckpt/step-000000000043/state.bin"));
        assertTrue(e.getMessage().startsWith("ckpt/step-000000000043/state.bin: metrics line 2 of 2: "),
                e.getMessage());
        assertTrue(e.getMessage().contains("expected one JSON object such as {\"epoch\":0,"), e.getMessage());
    }
}
