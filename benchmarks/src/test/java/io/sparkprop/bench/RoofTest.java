package io.sparkprop.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.Activation;
import io.sparkprop.core.LayerSpec;
import io.sparkprop.core.Loss;
import io.sparkprop.core.NetworkSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The roof's figures are consistent with a FLOP count done by hand. */
class RoofTest {

    @Test
    void gflopsFollowFromTheHandCountedFlopsAndTheMeasuredTimes() {
        // 5-4-3: layer 0 does forward and weight gradient (its input gradient is never needed),
        // layer 1 all three products, each 2 * batch * in * out FLOPs:
        // 2*8*5*4*2 + 2*8*4*3*3 = 640 + 576 = 1216 per step at batch 8.
        NetworkSpec spec = new NetworkSpec(List.of(new LayerSpec(5, 4, Activation.RELU),
                new LayerSpec(4, 3, Activation.SOFTMAX)), Loss.SOFTMAX_CROSS_ENTROPY);
        Roof.Result r = Roof.measure(spec, 8, 0.05);
        assertEquals(8, r.batch());
        assertTrue(r.stepMs() > 0 && r.gemmMs() > 0, r.toJson());
        assertEquals(1216.0, r.stepGflops() * 1e9 * r.stepMs() / 1e3, 1e-6 * 1216);
        // dgemm of the first layer's forward shape: 2 * 4 * 5 * 8 = 320 FLOPs.
        assertEquals(320.0, r.gemmGflops() * 1e9 * r.gemmMs() / 1e3, 1e-6 * 320);
        assertEquals(8 / (r.stepMs() / 1e3), r.examplesPerSec(), 1e-9 * r.examplesPerSec());
        assertTrue(r.toJson().contains("\"batch\":8"), r.toJson());
    }
}
